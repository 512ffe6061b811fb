-- _recsys_load_movies from the movies table: a step of recsys_duck.loader for a file of
-- new ratings, whose movies must already be in the database (check_ratings reads this).
create or replace temp table _recsys_load_movies as
select
    cast(null as bigint) as record_no,
    cast(movie_id as varchar) as movie_id_text,
    movie_id,
    title,
    genres
from movies;
