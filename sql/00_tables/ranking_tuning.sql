-- ranking_tuning: what the last `recsys-duck tune` of each model tried, one row per
-- configuration: its settings (as in ranking_models), validation_ndcg (NDCG@10 on
-- validation_split, the metric of eval_ranking_metrics) and whether tune chose it
-- (the best validation_ndcg; ties go to the current settings, then the first of the
-- grid). tuned_on describes the validation split, as in ranking_models.
create table if not exists ranking_tuning (
    model varchar not null,
    candidate integer not null,                -- 0: the settings the model had; else the grid row
    algorithm varchar not null,
    neighbors integer not null,
    shrinkage double not null,
    normalize boolean not null,
    rating_values boolean not null,
    alpha double not null,
    beta double not null,
    l2 double not null,
    steps integer not null,
    validation_ndcg double,
    chosen boolean not null,
    tuned_on varchar not null,
    primary key (model, candidate)
);
