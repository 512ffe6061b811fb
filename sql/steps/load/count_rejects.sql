-- count_rejects: one row, the number of distinct lines of the current file that the
-- CSV reader rejected (wrong field count, bad quotes, invalid UTF-8).
select count(distinct line) as n_rows
from _recsys_load_reject_errors;
