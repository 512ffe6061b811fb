-- eval_predictions: one row per (split, fold, method, test pair); predicted_rating is
-- NULL where the method, trained on the fold's train part only, cannot predict the pair.
create table if not exists eval_predictions (
    split varchar not null,
    fold integer not null,
    method varchar not null,
    user_id integer not null,
    movie_id integer not null,
    rating double not null,
    predicted_rating double,
    primary key (split, fold, method, user_id, movie_id)
);
