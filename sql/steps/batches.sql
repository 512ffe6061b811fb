-- batches: a step of recsys_duck.sql.batches. Cuts the positions of the temporary
-- table _recsys_batch_work(position, work), in position order, into ranges [lo, hi) of
-- consecutive positions whose work adds up to about $work (a position with more work
-- than that is a batch of its own). One row per batch, in order. The table is filled
-- first by a step named batch_work: co-rated triples per movie or user (pairs/), self-
-- join rows per movie (content/), ratings per user (marts/).
with cumulative as (
    select
        position,
        sum(work) over (order by position rows unbounded preceding) - work as before
    from _recsys_batch_work
)
select min(position) as lo, max(position) + 1 as hi
from cumulative
group by floor(before / $work)
order by lo;
