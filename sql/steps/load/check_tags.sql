-- _recsys_load_problems for tags.csv: one row per (record, problem) of
-- _recsys_load_tags, empty when the file passes. Columns: record_no, priority (orders
-- the problems of one row), the CSV column, a problem kind, the offending text and
-- other_record_no (always NULL: tags may repeat). Checks on a row's own values come
-- first, then references to movies that movies.csv lacks. Run with $min_epoch and
-- $max_epoch
-- bound: the Unix times a timestamp may take.
-- Ids must lie in 0..$max_id, the ids the neighbour tables' packed sort keys hold.
create or replace temp table _recsys_load_problems as
select record_no, 1 as priority, 'userId' as column_name,
    case
        when user_id_text is null then 'missing'
        when regexp_full_match(user_id_text, ' *-?[0-9]+ *') then 'id_range'
        else 'not_whole'
    end as kind,
    user_id_text as value, null::bigint as other_record_no
from _recsys_load_tags
where user_id is null or user_id not between 0 and $max_id
union all
select record_no, 2, 'movieId',
    case
        when movie_id_text is null then 'missing'
        when regexp_full_match(movie_id_text, ' *-?[0-9]+ *') then 'id_range'
        else 'not_whole'
    end,
    movie_id_text, null
from _recsys_load_tags
where movie_id is null or movie_id not between 0 and $max_id
union all
select record_no, 3, 'tag', 'missing', null, null
from _recsys_load_tags where tag is null
union all
select record_no, 3, 'tag', 'nul_byte', null, null
from _recsys_load_tags where contains(tag, chr(0))
union all
select record_no, 4, 'timestamp',
    case when timestamp_text is null then 'missing' else 'timestamp' end,
    timestamp_text, null
from _recsys_load_tags
where epoch_seconds is null or epoch_seconds not between $min_epoch and $max_epoch
union all
select t.record_no, 6, 'movieId', 'unknown_movie', t.movie_id_text, null
from _recsys_load_tags as t
anti join _recsys_load_movies as m on m.movie_id = t.movie_id
where t.movie_id is not null;
