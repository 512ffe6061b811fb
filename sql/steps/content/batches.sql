-- batches: a step of recsys_duck.content. Cuts the movies with content features into
-- ranges [lo, hi) of consecutive movie_ids whose self-join rows (for each feature of a
-- movie, the movies that share it) add up to about $work (a movie with more rows than
-- that is a batch of its own). One row per batch, in order.
with feature_counts as (
    select feature, count(*) as n_movies
    from content_features
    group by feature
),
work_per_movie as (
    select f.movie_id, sum(c.n_movies) as join_rows
    from content_features as f
    inner join feature_counts as c on c.feature = f.feature
    group by f.movie_id
),
cumulative as (
    select
        movie_id,
        sum(join_rows) over (order by movie_id rows unbounded preceding) - join_rows as before
    from work_per_movie
)
select min(movie_id) as lo, max(movie_id) + 1 as hi
from cumulative
group by floor(before / $work)
order by lo;
