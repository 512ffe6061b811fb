-- movies: one row per movie of movies.csv.
-- genres keeps MovieLens' pipe-separated text; year is parsed from the title's
-- trailing "(YYYY)" and is NULL where the title has none.
create table if not exists movies (
    movie_id integer primary key,
    title varchar not null,
    genres varchar not null,
    year integer
);
