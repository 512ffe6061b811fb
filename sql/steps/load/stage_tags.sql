-- _recsys_load_tags: one row per data record of tags.csv, in scan order (record_no).
-- Keeps the raw text of ids and timestamps for messages next to their typed values,
-- NULL where the text is not a whole number (surrounding spaces allowed).
create or replace temp table _recsys_load_tags as
select
    ordinality as record_no,
    "userId" as user_id_text,
    "movieId" as movie_id_text,
    "timestamp" as timestamp_text,
    case when regexp_full_match("userId", ' *[0-9]+ *')
        then try_cast(trim("userId") as integer) end as user_id,
    case when regexp_full_match("movieId", ' *[0-9]+ *')
        then try_cast(trim("movieId") as integer) end as movie_id,
    tag,
    case when regexp_full_match("timestamp", ' *-?[0-9]+ *')
        then try_cast(trim("timestamp") as bigint) end as epoch_seconds
from _recsys_load_raw;
