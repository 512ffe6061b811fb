-- content_neighbors (work): cut into batches by sql/steps/pipeline/batches.sql. The work
-- of each movie with content features: its self-join rows (for each feature of the movie,
-- the movies that share it).
create or replace temp table _recsys_batch_work as
with feature_counts as (
    select feature, count(*) as n_movies
    from content_features
    group by feature
)
select f.movie_id as position, sum(c.n_movies) as work
from content_features as f
inner join feature_counts as c on c.feature = f.feature
group by f.movie_id;
