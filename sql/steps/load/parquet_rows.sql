-- parquet_rows: the file and 1-based row of the given records of _recsys_load_raw (read
-- from Parquet by read_raw_parquet), for the loader's messages. Run with $records bound.
select ordinality as record_no, _recsys_file as file, _recsys_row + 1 as row_no
from _recsys_load_raw
where list_contains($records, ordinality);
