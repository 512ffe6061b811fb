-- eval_predictions: one row per (split, fold, method, user_id, movie_id) held-out rating, with
-- the method's prediction (NULL where it has none), for slicing the errors by user,
-- movie or genre.
create table eval_predictions (
    split text not null,
    fold integer not null,
    method text not null,
    user_id integer not null,
    movie_id integer not null,
    rating double precision not null,
    predicted_rating double precision
);

comment on table eval_predictions is
'one row per (split, fold, method, user_id, movie_id) held-out rating: the actual rating and the prediction of the method trained without it (NULL: no prediction)';

-- keys and indexes: created once the rows are in (faster than maintained row by row)
alter table eval_predictions add primary key (split, fold, method, user_id, movie_id);

create index eval_predictions_user_id_idx on eval_predictions (user_id);

create index eval_predictions_movie_id_idx on eval_predictions (movie_id);
