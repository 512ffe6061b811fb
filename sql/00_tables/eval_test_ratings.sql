-- eval_test_ratings: one row per held-out (split, fold, user_id, movie_id); is_relevant is
-- rating >= recsys_params.relevance_threshold at the time of the evaluation. Single
-- splits (holdout, temporal, leave_last_out) have fold = 1; k-fold has folds 1..n_folds.
create table if not exists eval_test_ratings (
    split varchar not null,
    fold integer not null,
    user_id integer not null,
    movie_id integer not null,
    rating double not null,
    is_relevant boolean not null,
    primary key (split, fold, user_id, movie_id)
);
