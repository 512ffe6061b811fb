-- popularity_concentration: one row describing how unevenly the ratings fall on the
-- n_movies rated movies (movies without a rating are left out), from the movie rows of
-- long_tail (ranked by n_ratings desc, then movie_id):
--   n_top_1pct_movies  = ceil(0.01 * n_movies), the movies of rank <= it being "the top
--                        1%"; n_top_10pct_movies = ceil(0.10 * n_movies) likewise
--   top_1pct_share     = (ratings of the top 1% movies) / n_ratings, i.e. long_tail's
--                        cumulative_share at rank n_top_1pct_movies; top_10pct_share
--                        likewise
--   gini               = Gini coefficient of ratings per movie. With x_r the ratings of
--                        the movie of rank r (descending) and n = n_movies:
--                        gini = sum_r (n + 1 - 2 r) x_r / (n * sum_r x_r),
--                        the usual sum_i (2 i - n - 1) x_(i) / (n sum x) over the
--                        ascending order i = n + 1 - r, computed as
--                        ((n + 1) sum_r x_r - 2 sum_r r x_r) / (n sum_r x_r).
--                        0 when every movie has as many ratings, approaching 1 when
--                        one movie has them all; equal counts do not change it
--                        whatever their order.
-- Every ratio is NULL when there are no ratings.
create or replace view popularity_concentration as
with movies_ranked as (
    select t.rank, t.n_ratings, t.cumulative_share
    from long_tail as t
    where t.kind = 'movie'
),
totals as (
    select
        count(*) as n_movies,
        sum(m.n_ratings) as n_ratings,
        cast(ceil(0.01 * count(*)) as integer) as n_top_1pct_movies,
        cast(ceil(0.10 * count(*)) as integer) as n_top_10pct_movies
    from movies_ranked as m
),
rank_weighted as (
    select sum(m.rank * cast(m.n_ratings as double)) as rank_weighted_ratings
    from movies_ranked as m
)
select
    t.n_movies,
    t.n_ratings,
    t.n_top_1pct_movies,
    top1.cumulative_share as top_1pct_share,
    t.n_top_10pct_movies,
    top10.cumulative_share as top_10pct_share,
    ((t.n_movies + 1) * cast(t.n_ratings as double) - 2 * w.rank_weighted_ratings)
    / nullif(cast(t.n_movies as double) * t.n_ratings, 0) as gini
from totals as t
cross join rank_weighted as w
left join movies_ranked as top1 on top1.rank = t.n_top_1pct_movies
left join movies_ranked as top10 on top10.rank = t.n_top_10pct_movies;
