-- item_weights (rp3beta, finish): the rows of model $model whose source movie i has its
-- row computed (item_weights.rp3beta.prepare.sql gives the formula), from the walk sums
-- in both orders. A row is ranked by W(i, j) * n_i^$alpha / n_i = S(i, j) n_j^-$beta / n_i
-- (the same order: a factor of the row), which lies in [0, 1] (each of the at most n_i
-- raters adds a step n_u^-$alpha <= 1, and n_j^-$beta <= 1), rounded to 12 places so
-- that sums added in another order (threads, Spark) cannot swap equal weights, then by
-- the smaller neighbor_id: one BIGINT key packing both, as item_similarity.rank_key
-- (positions below 2^22), which DuckDB ranks by a top-k aggregate instead of a sort.
-- With $alpha = 1 the rounded value is W(i, j) itself.
insert into item_weights (model, movie_id, neighbor_id, weight)
with both_orders as (
    select w.movie_idx, w.neighbor_idx, w.walk
    from _recsys_walk_sums as w
    union all
    select w.neighbor_idx as movie_idx, w.movie_idx as neighbor_idx, w.walk
    from _recsys_walk_sums as w
),
ranked as (
    select
        o.movie_idx,
        o.neighbor_idx,
        o.walk * t.arrival as row_weight,
        row_number() over (
            partition by o.movie_idx
            order by
                cast(round(o.walk * t.arrival / s.n_ratings * 1e12) as bigint) * 4194304
                - o.neighbor_idx desc
        ) as rank
    from both_orders as o
    inner join _recsys_walk_movies as t on t.movie_idx = o.neighbor_idx
    inner join _recsys_walk_movies as s on s.movie_idx = o.movie_idx
    where s.in_scope
),
kept as (
    select
        s.movie_id,
        t.movie_id as neighbor_id,
        r.row_weight * power(cast(s.n_ratings as double), -$alpha) as weight
    from ranked as r
    inner join _recsys_walk_movies as s on s.movie_idx = r.movie_idx
    inner join _recsys_walk_movies as t on t.movie_idx = r.neighbor_idx
    where r.rank <= $neighbors
)
select
    $model as model,
    k.movie_id,
    k.neighbor_id,
    case
        when $normalize
            then k.weight / nullif(sum(k.weight) over (partition by k.movie_id), 0)
        else k.weight
    end as weight
from kept as k;
