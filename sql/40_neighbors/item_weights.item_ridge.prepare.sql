-- item_weights (item_ridge, prepare): model $model. Each movie j is regressed on its
-- $neighbors nearest movies N(j) (by the cosine of the movies' 0/1 columns,
-- n_common / sqrt(n_i n_j), rounded to 12 places, then the smaller id; j itself is
-- never in N(j)): with X the user x movie 0/1 matrix and G = X'X (G_ii = n_i, the
-- raters of i; G_il = the users who rated both i and l, item_pair_sums.n_common),
--   w(., j) = argmin_w |X_j - X_N(j) w|^2 + $l2 |w|^2
--           = (G_N(j)N(j) + $l2 I)^-1 G_N(j)j
-- which is EASE (Steck 2019: the same regression on every other movie, whose dense
-- inverse cannot be afforded at scale) restricted to N(j), as fsSLIM (Ning & Karypis
-- 2011) restricts SLIM. The system of every movie is solved at once by conjugate
-- gradients (item_weights.item_ridge.epoch.sql, one step per epoch; the
-- number of steps is a setting, and few steps are also a regulariser):
--   w_0 = 0, r_0 = p_0 = b = G_N(j)j, A = G_N(j)N(j) + $l2 I, and at each step
--   q = A p, a = r.r / p.q, w += a p, r' = r - a q, p = r' + (r'.r' / r.r) p.
-- The systems of the target movies j in _recsys_weight_movies (item_weights.scope.sql:
-- every movie at a build; the movies whose rows can change at add-ratings) are solved.
-- This part makes their neighbourhoods, the off-diagonal entries of every A (once per
-- unordered pair of N(j), only the nonzero ones) and the starting state. Every (j, i in
-- N(j)) gets one integer slot, so that each step joins on one integer key (4x faster
-- than on (j, i) on ml-latest-small). The ranking key packs the rounded cosine and the
-- id in one BIGINT, as item_similarity.rank_key does (ids below 2^22), and the ranking
-- carries only the ids (a smaller top-k aggregate); the winners' co-rating counts are
-- then read from their pair sums, as item_neighbors.refresh.sql does.
create or replace temp table _recsys_ridge_neighborhoods as
with pair_similarity as (
    select
        p.movie_id,
        p.neighbor_id,
        cast(
            round(
                p.n_common
                / nullif(sqrt(cast(a.n_ratings as double)) * sqrt(cast(b.n_ratings as double)), 0)
                * 1e12
            ) as bigint
        ) as similarity_key
    from item_pair_sums as p
    inner join movie_stats as a on a.movie_id = p.movie_id
    inner join movie_stats as b on b.movie_id = p.neighbor_id
),
both_orders as (
    select
        s.movie_id as target_id,
        s.neighbor_id as source_id,
        s.similarity_key * 4194304 - s.neighbor_id as rank_key
    from pair_similarity as s
    union all
    select
        s.neighbor_id as target_id,
        s.movie_id as source_id,
        s.similarity_key * 4194304 - s.movie_id as rank_key
    from pair_similarity as s
),
ranked as (
    select
        o.target_id,
        o.source_id,
        row_number() over (partition by o.target_id order by o.rank_key desc) as rank
    from both_orders as o
    semi join _recsys_weight_movies as w on w.movie_id = o.target_id
)
select
    row_number() over (order by r.target_id, r.source_id) as slot,
    r.target_id,
    r.source_id,
    cast(p.n_common as double) as target_gram
from ranked as r
inner join item_pair_sums as p
    on p.movie_id = least(r.target_id, r.source_id)
    and p.neighbor_id = greatest(r.target_id, r.source_id)
where r.rank <= $neighbors;

-- Each system is divided by its largest diagonal entry, max_{i in N(j)} n_i + $l2 (the
-- solution is the same), so that every entry of A and b lies in [0, 1].
create or replace temp table _recsys_ridge_scales as
select n.target_id, max(cast(m.n_ratings as double) + $l2) as scale
from _recsys_ridge_neighborhoods as n
inner join movie_stats as m on m.movie_id = n.source_id
group by n.target_id;

-- The pair sums are looked up by one key of both ids (below 2^22), which only the pairs
-- of slots can supply: with two keys DuckDB 1.5 sometimes joined the pair sums to one
-- side first (1.5 billion rows on ml-latest-small, 28-35 s instead of 3.5-4 s).
create or replace temp table _recsys_ridge_gram as
select a.slot as slot, b.slot as other_slot, cast(p.n_common as double) / s.scale as gram
from _recsys_ridge_neighborhoods as a
inner join _recsys_ridge_neighborhoods as b
    on b.target_id = a.target_id and b.source_id > a.source_id
inner join item_pair_sums as p
    on cast(p.movie_id as bigint) * 4194304 + p.neighbor_id
    = cast(a.source_id as bigint) * 4194304 + b.source_id
inner join _recsys_ridge_scales as s on s.target_id = a.target_id;

create or replace temp table _recsys_ridge_state as
select
    n.slot,
    n.target_id,
    n.source_id,
    (cast(m.n_ratings as double) + $l2) / s.scale as diagonal,
    cast(0 as double) as weight,
    n.target_gram / s.scale as residual,
    n.target_gram / s.scale as direction
from _recsys_ridge_neighborhoods as n
inner join movie_stats as m on m.movie_id = n.source_id
inner join _recsys_ridge_scales as s on s.target_id = n.target_id;
