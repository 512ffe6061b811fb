-- first_problem: at most one row, the first problem in file order (record_no), and of
-- that record's problems the one with the lowest priority; the loader's error message
-- describes it.
select record_no, column_name, kind, value, other_record_no
from _recsys_load_problems
order by record_no, priority
limit 1;
