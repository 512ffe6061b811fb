-- movie_popularity: one row per rated movie with its place in the popularity order of
-- the popularity baseline: n_ratings descending, equal counts by the smaller movie_id
-- (popularity_rank 1 = the most rated movie).
create or replace view movie_popularity as
select
    movie_id,
    n_ratings,
    row_number() over (order by n_ratings desc, movie_id asc) as popularity_rank
from movie_stats;
