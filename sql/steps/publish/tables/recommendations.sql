-- recommendations: one row per (method, user_id, rank), every user's top-N unrated movies
-- by each method (user_based, item_based, content_based).
create table recommendations (
    method text not null,
    user_id integer not null,
    rank bigint not null,
    movie_id integer not null,
    title text not null,
    genres text not null,
    score double precision
);

comment on table recommendations is
'one row per (method, user_id, rank): the top-N unrated movies of every user by user_based (predicted rating), item_based and content_based (neighbour score) recommenders';

-- keys and indexes: created once the rows are in (faster than maintained row by row)
alter table recommendations add primary key (method, user_id, rank);

create index recommendations_user_id_idx on recommendations (user_id);

create index recommendations_movie_id_idx on recommendations (movie_id);
