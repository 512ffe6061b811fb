-- _recsys_load_raw from Parquet: one row per row of the Parquet file(s) being loaded,
-- every column as text (as read_raw does for a CSV file), plus where the row came from:
-- _recsys_file (the file) and _recsys_row (0-based row within it), and its record number
-- (ordinality) in file, then row, order. Run with $paths (a list of files or globs) and
-- $locate bound: true when DuckDB reads the user's files itself, false when Spark has
-- copied them with the columns filename and file_row_number already filled in.
--
-- The text of a number is the shortest one that reads back as the same value (3.5, not
-- 3.5000), so the check_* steps see what a CSV file would hold.
create or replace temp table _recsys_load_raw as
select
    columns(c -> c not in ('filename', 'file_row_number'))::varchar,
    filename as _recsys_file,
    file_row_number as _recsys_row,
    row_number() over (order by filename, file_row_number) as ordinality
from read_parquet($paths, filename = $locate, file_row_number = $locate, union_by_name = true);
