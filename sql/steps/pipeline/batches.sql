-- batches: run by recsys_duck.sql.batches for every batched step of the plan. Cuts the
-- positions of the temporary table _recsys_batch_work(position, work), in position order,
-- into ranges [lo, hi) of consecutive positions whose work adds up to about $work (a
-- position with more work than that is a batch of its own). One row per batch, in order.
-- The table is filled first by the step's <table>.work.sql (co-rated triples per movie or
-- user, self-join rows per movie, ratings per user).
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
