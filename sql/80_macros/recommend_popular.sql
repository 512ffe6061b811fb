-- recommend_popular(user_id, n := 10): the popularity baseline for one user: the n most
-- rated movies the user has not rated, in the order of movie_popularity (n_ratings
-- descending, then movie_id); score = n_ratings. Reads popular_movies, that view
-- materialised by the build.
-- Example: select * from recommend_popular(1, n := 5);
create or replace macro recommend_popular(target_user_id, n := 10) as table
with checked as (
    -- Raises for an unknown user; kept out of the filter below so that the user filter
    -- is a constant DuckDB pushes into the scan.
    select user_id_of(target_user_id) as checked_user_id
),
top_n as (
    -- The top n before the titles: only n rows of movies are read.
    select p.movie_id, p.n_ratings, p.popularity_rank
    from checked as k
    inner join popular_movies as p on k.checked_user_id is not null
    left join ratings as seen on seen.user_id = target_user_id and seen.movie_id = p.movie_id
    where seen.movie_id is null
    order by p.popularity_rank
    limit n
)
select
    t.movie_id,
    m.title,
    m.genres,
    cast(t.n_ratings as double) as score
from top_n as t
inner join movies as m on m.movie_id = t.movie_id
order by t.popularity_rank;
