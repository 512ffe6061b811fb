-- cleanup_evaluation: a step, not a layer. Run after the evaluation's transaction has
-- committed (DuckDB 1.5 refuses to commit a transaction that both filled and dropped
-- the training tables); removes the training copy, keeping only the eval_* results.
drop schema if exists eval_train cascade;

drop table if exists eval_split;
