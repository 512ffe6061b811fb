-- movie_genres: one row per (movie_id, genre), the genres of movies unnested.
create table movie_genres (
    movie_id integer not null,
    genre text not null
);

comment on table movie_genres is
'one row per (movie_id, genre): the pipe-separated genres of movies unnested; (no genres listed) has no row';

-- keys and indexes: created once the rows are in (faster than maintained row by row)
alter table movie_genres add primary key (movie_id, genre);

create index movie_genres_genre_idx on movie_genres (genre);
