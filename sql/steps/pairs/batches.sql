-- batches: a step of recsys_duck.pairs. Cuts the positions 0 .. n-1 of one side
-- ($side = 'item' or 'user') into ranges [lo, hi) of consecutive positions holding
-- about $work co-rated triples each (a position's work bounds the rows its batch joins:
-- for a movie, the sum over its raters of how many movies they rated; a single position
-- may hold more). One row per batch, in order.
with work_per_position as (
    select e.movie_idx as position, sum(a.n_entries) as triples
    from _recsys_pair_entries as e
    inner join (
        select user_idx, count(*) as n_entries from _recsys_pair_entries group by user_idx
    ) as a on a.user_idx = e.user_idx
    where $side = 'item'
    group by e.movie_idx
    union all
    select e.user_idx as position, sum(a.n_entries) as triples
    from _recsys_pair_entries as e
    inner join (
        select movie_idx, count(*) as n_entries from _recsys_pair_entries group by movie_idx
    ) as a on a.movie_idx = e.movie_idx
    where $side = 'user'
    group by e.user_idx
),
cumulative as (
    select
        position,
        sum(triples) over (order by position rows unbounded preceding) - triples as before
    from work_per_position
)
select min(position) as lo, max(position) + 1 as hi
from cumulative
group by floor(before / $work)
order by lo;
