-- eval_recommendations: one row per (split, method, user_id, rank), each user's top-N
-- from the method trained on the split's train part (never a movie rated in train).
create table if not exists eval_recommendations (
    split varchar not null,
    method varchar not null,
    user_id integer not null,
    rank integer not null,
    movie_id integer not null,
    primary key (split, method, user_id, rank)
);
