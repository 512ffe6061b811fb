-- _recsys_load_movies from the staged ratings: a step of recsys_duck.loader for ratings
-- of your own given without an items file. The items are the ones the ratings name,
-- titled "item <id>" and without genres (so no content features).
create or replace temp table _recsys_load_movies as
select
    cast(null as bigint) as record_no,
    cast(movie_id as varchar) as movie_id_text,
    movie_id,
    'item ' || cast(movie_id as varchar) as title,
    '(no genres listed)' as genres
from (select distinct movie_id from _recsys_load_ratings where movie_id is not null);
