-- movie_genres: one row per (movie_id, genre), the pipe-separated genres of movies
-- unnested. Movies marked '(no genres listed)' have no row.
create or replace view movie_genres as
select
    m.movie_id,
    g.genre
from movies as m
cross join unnest(string_split(m.genres, '|')) as g(genre)
where g.genre <> '(no genres listed)';
