-- spark_runs: where the tables of a build that Apache Spark computed live (recsys-duck
-- build --engine spark): one row, the run folder of the warehouse and the Spark master;
-- none after a DuckDB build. The pair sums stay there as Parquet, and this file's
-- item_pair_sums / user_pair_sums are views of them.
create table if not exists spark_runs (
    run_folder varchar not null,
    master varchar not null,
    built_at timestamp not null
);
