-- eval_test_ratings: one row per held-out (split, user_id, movie_id); is_relevant is
-- rating >= recsys_params.relevance_threshold at the time of the evaluation.
create table if not exists eval_test_ratings (
    split varchar not null,
    user_id integer not null,
    movie_id integer not null,
    rating double not null,
    is_relevant boolean not null,
    primary key (split, user_id, movie_id)
);
