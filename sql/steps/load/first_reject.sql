-- first_reject: at most one row, the first rejected row of the current file in file
-- order. The loader turns its byte offset into a line number and its error type into
-- advice.
select byte_position, column_name, error_type, error_message
from _recsys_load_reject_errors
order by byte_position, column_idx
limit 1;
