-- item_weights (rp3beta, prepare): model $model. A random walk from movie i to a user u
-- who rated it (probability 1/n_i, n_i = raters of i) and on to a movie j that u rated
-- (probability 1/n_u, n_u = movies u rated), each step's probability raised to $alpha,
-- the arrival at j divided by j's popularity raised to $beta:
--   W(i, j) = n_i^-$alpha * n_j^-$beta * sum_{u rated i and j} n_u^-$alpha   (i <> j)
-- Each movie i keeps its $neighbors largest W(i, j), N(i), and
--   w(i, j) = W(i, j) / sum_{j' in N(i)} W(i, j')   when $normalize
--   w(i, j) = W(i, j)                                otherwise.
-- The walk sums are a self-join of the ratings as large as the pair sums', run in
-- batches of source movies (item_weights.rp3beta.batch.sql over the ranges that
-- item_weights.rp3beta.work.sql cuts) so that each GROUP BY stays bounded.
-- The rows of the source movies in _recsys_weight_movies (item_weights.scope.sql: every
-- movie at a build; the movies whose rows can change at add-ratings) are replaced: this
-- part deletes them, stages each user's step n_u^-$alpha beside their ratings, and
-- numbers the movies 0 .. n-1 for the batches.
delete from item_weights
where model = $model and movie_id in (select s.movie_id from _recsys_weight_movies as s);

create or replace temp table _recsys_walk_entries as
with steps as (
    select r.user_id, power(cast(count(*) as double), -$alpha) as step
    from ratings as r
    group by r.user_id
)
select r.user_id, r.movie_id, s.step
from ratings as r
inner join steps as s on s.user_id = r.user_id;

create or replace temp table _recsys_walk_movies as
select
    m.movie_id,
    cast(row_number() over (order by m.movie_id) - 1 as integer) as position,
    m.n_ratings
from movie_stats as m;
