-- genres_from_flags: a step of recsys_duck.loader for MovieLens 100K, run after read_raw
-- on u.item (fields movieId, title, three ignored, genre_0 .. genre_18). Replaces
-- _recsys_load_raw by movieId, title, genres and ordinality, where genres joins with
-- '|' the names that u.genre ($path: lines name|flag_number) gives the flags set to 1,
-- in flag order (alphabetical in u.genre, as MovieLens' CSV releases list genres);
-- 'unknown' is no genre, and a movie with none gets '(no genres listed)', as in the
-- CSV releases.
create or replace temp table _recsys_load_genre_names as
select trim(name) as genre, cast(trim(flag_no) as integer) as flag_no
from read_csv(
    $path,
    columns = {'name': 'VARCHAR', 'flag_no': 'VARCHAR'},
    header = false,
    auto_detect = false,
    delim = '|',
    quote = '',
    encoding = 'latin-1'
)
where trim(name) <> '';

create or replace temp table _recsys_load_movie_genres as
with flags as (
    unpivot _recsys_load_raw
    on columns('^genre_[0-9]+$')
    into name flag_column value flag
)
select
    f.ordinality,
    string_agg(n.genre, '|' order by n.flag_no) as genres
from flags as f
inner join _recsys_load_genre_names as n
    on n.flag_no = cast(replace(f.flag_column, 'genre_', '') as integer)
where trim(f.flag) = '1' and n.genre <> 'unknown'
group by f.ordinality;

create or replace temp table _recsys_load_raw as
select r."movieId", r.title, coalesce(g.genres, '(no genres listed)') as genres, r.ordinality
from _recsys_load_raw as r
left join _recsys_load_movie_genres as g on g.ordinality = r.ordinality;
