-- eval_recommendations: one row per (split, fold, method, user_id, rank), each user's
-- top-N from the method trained on the fold's train part (never a movie rated in train).
create table if not exists eval_recommendations (
    split varchar not null,
    fold integer not null,
    method varchar not null,
    user_id integer not null,
    rank integer not null,
    movie_id integer not null,
    primary key (split, fold, method, user_id, rank)
);
