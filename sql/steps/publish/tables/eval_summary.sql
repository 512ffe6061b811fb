-- eval_summary: one row per (split, method, metric, k) of the last evaluation of each
-- split: the metric's mean and sample standard deviation over the folds (std NULL with
-- one fold; k NULL for the rating metrics rmse, mae and coverage).
create table eval_summary (
    split text not null,
    method text not null,
    metric text not null,
    k integer,
    n_folds bigint not null,
    mean double precision,
    std double precision
);

comment on table eval_summary is
'one row per (split, method, metric, k): mean and standard deviation over the folds of every evaluation metric (k is null for rmse, mae and coverage)';

-- keys and indexes: created once the rows are in (faster than maintained row by row)
create unique index eval_summary_key_idx on eval_summary (split, method, metric, coalesce(k, 0));
