-- _recsys_load_ratings: one row per data record of ratings.csv, in scan order
-- (record_no). Keeps the raw text of each value for messages next to its typed value,
-- NULL where the text does not convert (ids must be whole numbers; a timestamp is
-- whole Unix seconds, negative before 1970, or a date-time such as
-- 2024-05-01 12:30:00 read as UTC, which Parquet TIMESTAMP columns become as text;
-- surrounding spaces allowed).
create or replace temp table _recsys_load_ratings as
select
    ordinality as record_no,
    "userId" as user_id_text,
    "movieId" as movie_id_text,
    rating as rating_text,
    "timestamp" as timestamp_text,
    case when regexp_full_match("userId", ' *[0-9]+ *')
        then try_cast(trim("userId") as integer) end as user_id,
    case when regexp_full_match("movieId", ' *[0-9]+ *')
        then try_cast(trim("movieId") as integer) end as movie_id,
    try_cast(trim(rating) as double) as rating,
    case
        when regexp_full_match("timestamp", ' *-?[0-9]+ *')
            then try_cast(trim("timestamp") as bigint)
        when regexp_full_match("timestamp", ' *[0-9]{4}-[0-9]{2}-[0-9]{2}.*')
            then cast(floor(epoch(try_cast(trim("timestamp") as timestamp))) as bigint)
    end as epoch_seconds
from _recsys_load_raw;
