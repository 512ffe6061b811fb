-- item_weights (rp3beta, work): cut into batches by sql/steps/pipeline/batches.sql. The
-- work of each movie position: the co-rated triples its batch joins (the sum over its
-- raters of how many movies they rated), as item_pair_sums.work.sql counts them.
create or replace temp table _recsys_batch_work as
select e.movie_idx as position, sum(a.n_entries) as work
from _recsys_walk_entries as e
inner join (
    select user_idx, count(*) as n_entries from _recsys_walk_entries group by user_idx
) as a on a.user_idx = e.user_idx
group by e.movie_idx;
