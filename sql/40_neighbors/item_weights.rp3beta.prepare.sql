-- item_weights (rp3beta, prepare): model $model. A random walk from movie i to a user u
-- who rated it (probability 1/n_i, n_i = raters of i) and on to a movie j that u rated
-- (probability 1/n_u, n_u = movies u rated), each step's probability raised to $alpha,
-- the arrival at j divided by j's popularity raised to $beta:
--   W(i, j) = n_i^-$alpha * n_j^-$beta * S(i, j),  S(i, j) = sum_{u rated i and j} n_u^-$alpha
-- (i <> j). Each movie i keeps its $neighbors largest W(i, j), N(i), and
--   w(i, j) = W(i, j) / sum_{j' in N(i)} W(i, j')   when $normalize
--   w(i, j) = W(i, j)                                otherwise.
-- The walk sums S are symmetric: a self-join of the ratings as large as the pair sums',
-- filled once per unordered pair as they are (recsys_duck.pairs, batches of movie
-- positions: item_weights.rp3beta.batch.sql over the ranges item_weights.rp3beta.work.sql
-- cuts), then ranked in both orders (item_weights.rp3beta.finish.sql).
-- The rows of the source movies in _recsys_weight_movies (item_weights.scope.sql: every
-- movie at a build; the movies whose rows can change at add-ratings) are replaced: this
-- part deletes them, numbers the movies and the raters 0 .. n-1 (a batch of consecutive
-- positions is then aggregated in DuckDB's arrays) with each movie's arrival factor
-- n_j^-$beta, and stages each rating with its rater's step n_u^-$alpha and whether its
-- movie's row is computed, sorted by rater.
delete from item_weights
where model = $model and movie_id in (select s.movie_id from _recsys_weight_movies as s);

create or replace temp table _recsys_walk_movies as
select
    m.movie_id,
    cast(row_number() over (order by m.movie_id) - 1 as integer) as movie_idx,
    m.n_ratings,
    power(cast(m.n_ratings as double), -$beta) as arrival,
    m.movie_id in (select s.movie_id from _recsys_weight_movies as s) as in_scope
from movie_stats as m;

create or replace temp table _recsys_walk_entries as
with steps as (
    select
        r.user_id,
        cast(row_number() over (order by r.user_id) - 1 as integer) as user_idx,
        power(cast(count(*) as double), -$alpha) as step
    from ratings as r
    group by r.user_id
)
select s.user_idx, m.movie_idx, s.step, m.in_scope
from ratings as r
inner join steps as s on s.user_id = r.user_id
inner join _recsys_walk_movies as m on m.movie_id = r.movie_id
order by s.user_idx, m.movie_idx;

create or replace temp table _recsys_walk_sums (
    movie_idx integer not null,
    neighbor_idx integer not null,
    walk double not null
);
