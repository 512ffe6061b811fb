-- count_raw: one row, the number of data records read from the current file into
-- _recsys_load_raw (rows the CSV reader rejected are not among them).
select count(*) as n_rows
from _recsys_load_raw;
