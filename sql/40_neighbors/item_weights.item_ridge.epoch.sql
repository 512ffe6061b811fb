-- item_weights (item_ridge, one step): one conjugate-gradient step of every movie's
-- system at once (item_weights.item_ridge.prepare.sql gives the system and the step).
-- q = A p: the diagonal's part plus the off-diagonal entries, stored once per unordered
-- pair of slots and applied in both directions.
-- Every sum adds fixed-point integers, so that it is exact and the same whatever order
-- the threads add in (floating sums differed in their last bits between two builds, and
-- the steps grew that to 1e-9, enough to reorder near-tied recommendations): the
-- products of A p as whole multiples of 2^-46 held in DOUBLE, exact while a slot's parts
-- add up to less than 2^53 / 2^46 = 128 (entries of A are at most 1 and the directions
-- stay below 0.03 on the data measured, so ~100 parts add up to about 3; a BIGINT sum
-- would be exact too, but DuckDB sums BIGINT as HUGEINT, 1.4x slower at 10M ratings),
-- the squares and dot products, which shrink as the steps converge, as DECIMAL(38)
-- multiples of 2^-90.
create or replace temp table _recsys_ridge_product as
with off_diagonal as (
    select g.slot, g.gram * s.direction as part
    from _recsys_ridge_gram as g
    inner join _recsys_ridge_state as s on s.slot = g.other_slot
    union all
    select g.other_slot as slot, g.gram * s.direction as part
    from _recsys_ridge_gram as g
    inner join _recsys_ridge_state as s on s.slot = g.slot
),
summed as (
    select
        o.slot,
        sum(round(o.part * 70368744177664)) / 70368744177664 as product
    from off_diagonal as o
    group by o.slot
)
select
    s.slot,
    s.target_id,
    s.source_id,
    s.diagonal,
    s.weight,
    s.residual,
    s.direction,
    s.diagonal * s.direction + coalesce(m.product, 0) as product
from _recsys_ridge_state as s
left join summed as m on m.slot = s.slot;

-- a = r.r / p.q per movie (0 once a system is solved: r = 0), then r' and p.
create or replace temp table _recsys_ridge_state as
with step_sizes as (
    select
        q.target_id,
        cast(sum(cast(round(q.residual * q.residual * 1237940039285380274899124224) as decimal(38, 0))) as double)
        / 1237940039285380274899124224 as residual_square,
        cast(sum(cast(round(q.direction * q.product * 1237940039285380274899124224) as decimal(38, 0))) as double)
        / 1237940039285380274899124224 as curvature
    from _recsys_ridge_product as q
    group by q.target_id
),
stepped as (
    select
        q.slot,
        q.target_id,
        q.source_id,
        q.diagonal,
        q.weight + coalesce(z.residual_square / nullif(z.curvature, 0), 0) * q.direction
        as weight,
        q.residual - coalesce(z.residual_square / nullif(z.curvature, 0), 0) * q.product
        as residual,
        q.direction,
        z.residual_square
    from _recsys_ridge_product as q
    inner join step_sizes as z on z.target_id = q.target_id
),
turns as (
    select
        s.target_id,
        coalesce(
            cast(sum(cast(round(s.residual * s.residual * 1237940039285380274899124224) as decimal(38, 0))) as double)
            / 1237940039285380274899124224
            / nullif(max(s.residual_square), 0),
            0
        ) as turn
    from stepped as s
    group by s.target_id
)
select
    s.slot,
    s.target_id,
    s.source_id,
    s.diagonal,
    s.weight,
    s.residual,
    s.residual + t.turn * s.direction as direction
from stepped as s
inner join turns as t on t.target_id = s.target_id;
