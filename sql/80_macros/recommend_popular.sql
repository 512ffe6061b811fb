-- recommend_popular(user_id, n := 10): the popularity baseline for one user: the n most
-- rated movies the user has not rated, in the order of movie_popularity (n_ratings
-- descending, then movie_id); score = n_ratings.
-- Example: select * from recommend_popular(1, n := 5);
create or replace macro recommend_popular(target_user_id, n := 10) as table
with checked as (
    -- Raises for an unknown user; kept out of the filter below so that the user filter
    -- is a constant DuckDB pushes into the scan.
    select user_id_of(target_user_id) as checked_user_id
)
select
    p.movie_id,
    m.title,
    m.genres,
    cast(p.n_ratings as double) as score
from checked as k
inner join movie_popularity as p on k.checked_user_id is not null
inner join movies as m on m.movie_id = p.movie_id
where not exists (
    select 1
    from ratings as r
    where r.user_id = target_user_id and r.movie_id = p.movie_id
)
order by p.popularity_rank
limit n;
