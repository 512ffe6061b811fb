-- count_problems: one row, the number of distinct records of the current file that
-- break at least one rule in _recsys_load_problems.
select count(distinct record_no) as n_rows
from _recsys_load_problems;
