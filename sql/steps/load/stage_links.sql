-- _recsys_load_links: one row per data record of links.csv, in scan order (record_no).
-- Keeps the raw text of each id for messages next to its checked value, NULL where the
-- text is not a whole number (surrounding spaces allowed). imdb_id stays text: IMDb
-- numbers keep their leading zeros (0114709).
create or replace temp table _recsys_load_links as
select
    ordinality as record_no,
    "movieId" as movie_id_text,
    "imdbId" as imdb_id_text,
    "tmdbId" as tmdb_id_text,
    case when regexp_full_match("movieId", ' *[0-9]+ *')
        then try_cast(trim("movieId") as integer) end as movie_id,
    case when regexp_full_match("imdbId", ' *[0-9]+ *') then trim("imdbId") end as imdb_id,
    case when regexp_full_match("tmdbId", ' *[0-9]+ *')
        then try_cast(trim("tmdbId") as integer) end as tmdb_id
from _recsys_load_raw;
