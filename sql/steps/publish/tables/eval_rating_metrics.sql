-- eval_rating_metrics: one row per (split, fold, method), the accuracy of rating predictions
-- on the held-out ratings of the last evaluation of each split.
create table eval_rating_metrics (
    split text not null,
    fold integer not null,
    method text not null,
    n_test bigint not null,
    n_predicted bigint not null,
    coverage double precision,
    rmse double precision,
    mae double precision
);

comment on table eval_rating_metrics is
'one row per (split, fold, method) (fold 1 for the single splits): n_test held-out ratings, n_predicted of them predicted, coverage, RMSE and MAE over the predicted ones';

-- keys and indexes: created once the rows are in (faster than maintained row by row)
alter table eval_rating_metrics add primary key (split, fold, method);
