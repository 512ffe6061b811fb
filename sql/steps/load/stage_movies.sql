-- _recsys_load_movies: one row per data record of movies.csv, in scan order
-- (record_no). Keeps the raw text of movieId for messages next to its value as an
-- integer, NULL unless the text is a whole number (surrounding spaces allowed).
create or replace temp table _recsys_load_movies as
select
    ordinality as record_no,
    "movieId" as movie_id_text,
    case when regexp_full_match("movieId", ' *[0-9]+ *')
        then try_cast(trim("movieId") as integer) end as movie_id,
    title,
    genres
from _recsys_load_raw;
