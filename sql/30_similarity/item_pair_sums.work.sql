-- item_pair_sums (work): run by recsys_duck.pairs and cut into batches by
-- sql/steps/pipeline/batches.sql. The work of each movie position 0 .. n-1: the co-rated
-- triples its batch joins (the sum over its raters of how many movies they rated).
create or replace temp table _recsys_batch_work as
select e.movie_idx as position, sum(a.n_entries) as work
from _recsys_pair_entries as e
inner join (
    select user_idx, count(*) as n_entries from _recsys_pair_entries group by user_idx
) as a on a.user_idx = e.user_idx
group by e.movie_idx;
