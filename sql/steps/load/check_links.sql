-- _recsys_load_problems for links.csv: one row per (record, problem) of
-- _recsys_load_links, empty when the file passes. Columns: record_no, priority (orders
-- the problems of one row), the CSV column, a problem kind, the offending text and,
-- for duplicates, the record_no of the first occurrence. Checks on a row's own values
-- come first, then duplicates, then references to movies that movies.csv lacks.
-- Ids must lie in 0..$max_id, the ids the neighbour tables' packed sort keys hold.
create or replace temp table _recsys_load_problems as
with firsts as (
    select record_no, movie_id_text,
        min(record_no) over (partition by movie_id) as first_record_no
    from _recsys_load_links
    where movie_id is not null
)
select record_no, 1 as priority, 'movieId' as column_name,
    case
        when movie_id_text is null then 'missing'
        when regexp_full_match(movie_id_text, ' *-?[0-9]+ *') then 'id_range'
        else 'not_whole'
    end as kind,
    movie_id_text as value, null::bigint as other_record_no
from _recsys_load_links
where movie_id is null or movie_id not between 0 and $max_id
union all
select record_no, 2, 'imdbId',
    case when imdb_id_text is null then 'missing' else 'imdb' end,
    imdb_id_text, null
from _recsys_load_links where imdb_id is null
union all
select record_no, 3, 'tmdbId', 'not_whole', tmdb_id_text, null
from _recsys_load_links where tmdb_id_text is not null and tmdb_id is null
union all
select record_no, 4, 'movieId', 'duplicate_movie', movie_id_text, first_record_no
from firsts where record_no > first_record_no
union all
select l.record_no, 6, 'movieId', 'unknown_movie', l.movie_id_text, null
from _recsys_load_links as l
anti join _recsys_load_movies as m on m.movie_id = l.movie_id
where l.movie_id is not null;
