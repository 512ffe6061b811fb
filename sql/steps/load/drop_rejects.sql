-- drop_rejects: a step of recsys_duck.loader, run before each file is read. DuckDB
-- appends to existing rejects tables; this makes each file start with fresh ones.
drop table if exists _recsys_load_reject_errors;

drop table if exists _recsys_load_reject_scans;
