-- _recsys_load_problems for movies.csv: one row per (record, problem) of
-- _recsys_load_movies, empty when the file passes. Columns: record_no, priority (orders
-- the problems of one row), the CSV column, a problem kind, the offending text and,
-- for duplicates, the record_no of the first occurrence. Checks on a row's own values
-- come first, then duplicates.
-- Ids must lie in 0..$max_id, the ids the neighbour tables' packed sort keys hold.
create or replace temp table _recsys_load_problems as
with firsts as (
    select record_no, movie_id_text,
        min(record_no) over (partition by movie_id) as first_record_no
    from _recsys_load_movies
    where movie_id is not null
)
select record_no, 1 as priority, 'movieId' as column_name,
    case
        when movie_id_text is null then 'missing'
        when regexp_full_match(movie_id_text, ' *-?[0-9]+ *') then 'id_range'
        else 'not_whole'
    end as kind,
    movie_id_text as value, null::bigint as other_record_no
from _recsys_load_movies
where movie_id is null or movie_id not between 0 and $max_id
union all
select record_no, 2, 'title', 'missing', null, null
from _recsys_load_movies where title is null
union all
-- A NUL byte loads into DuckDB but PostgreSQL (publish) and most tools cannot store it.
select record_no, 2, 'title', 'nul_byte', null, null
from _recsys_load_movies where contains(title, chr(0))
union all
select record_no, 3, 'genres', 'missing_genres', null, null
from _recsys_load_movies where genres is null
union all
select record_no, 3, 'genres', 'nul_byte', null, null
from _recsys_load_movies where contains(genres, chr(0))
union all
select record_no, 4, 'movieId', 'duplicate_movie', movie_id_text, first_record_no
from firsts where record_no > first_record_no;
