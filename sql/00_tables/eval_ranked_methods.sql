-- eval_ranked_methods: one row per (split, fold, method) whose top-N lists were
-- recorded in eval_recommendations for that fold, even when the method recommended
-- nothing to anyone (it then scores 0). Methods that only predict ratings (the k-NN
-- models not asked to rank) have no row here and no ranking metrics.
create table if not exists eval_ranked_methods (
    split varchar not null,
    fold integer not null,
    method varchar not null,
    primary key (split, fold, method)
);
