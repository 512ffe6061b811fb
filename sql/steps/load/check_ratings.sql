-- _recsys_load_problems for ratings.csv: one row per (record, problem) of
-- _recsys_load_ratings, empty when the file passes. Columns: record_no, priority (orders
-- the problems of one row), the CSV column, a problem kind, the offending text and,
-- for duplicates, the record_no of the first occurrence. Checks on a row's own values
-- come first, then duplicates, then references to movies that movies.csv lacks. Run
-- with $min_epoch and $max_epoch bound, the Unix times a timestamp may take, and the
-- rating scale: $rating_min .. $rating_max on steps of $rating_step from $rating_min
-- (0: any value between; a step is met within 1e-9, as doubles hold 0.1 inexactly).
-- Ids must lie in 0..$max_id, the ids the neighbour tables' packed sort keys hold.
create or replace temp table _recsys_load_problems as
with firsts as (
    select record_no, user_id_text, movie_id_text,
        min(record_no) over (partition by user_id, movie_id) as first_record_no
    from _recsys_load_ratings
    where user_id is not null and movie_id is not null
)
select record_no, 1 as priority, 'userId' as column_name,
    case
        when user_id_text is null then 'missing'
        when regexp_full_match(user_id_text, ' *-?[0-9]+ *') then 'id_range'
        else 'not_whole'
    end as kind,
    user_id_text as value, null::bigint as other_record_no
from _recsys_load_ratings
where user_id is null or user_id not between 0 and $max_id
union all
select record_no, 2, 'movieId',
    case
        when movie_id_text is null then 'missing'
        when regexp_full_match(movie_id_text, ' *-?[0-9]+ *') then 'id_range'
        else 'not_whole'
    end,
    movie_id_text, null
from _recsys_load_ratings
where movie_id is null or movie_id not between 0 and $max_id
union all
select record_no, 3, 'rating',
    case
        when rating_text is null then 'missing'
        when rating is null then 'not_number'
        when not (rating between $rating_min and $rating_max) then 'rating_range'
        else 'off_step'
    end,
    rating_text, null
from _recsys_load_ratings
where rating is null
    or not (rating between $rating_min and $rating_max)
    or (
        $rating_step > 0
        and abs(
            (rating - $rating_min) / $rating_step - round((rating - $rating_min) / $rating_step)
        ) > 1e-9
    )
union all
select record_no, 4, 'timestamp',
    case when timestamp_text is null then 'missing' else 'timestamp' end,
    timestamp_text, null
from _recsys_load_ratings
where epoch_seconds is null or epoch_seconds not between $min_epoch and $max_epoch
union all
select record_no, 5, 'userId,movieId', 'duplicate_rating',
    user_id_text || ',' || movie_id_text, first_record_no
from firsts where record_no > first_record_no
union all
select r.record_no, 6, 'movieId', 'unknown_movie', r.movie_id_text, null
from _recsys_load_ratings as r
anti join _recsys_load_movies as m on m.movie_id = r.movie_id
where r.movie_id is not null;
