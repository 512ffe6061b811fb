-- batch_work: a step of recsys_duck.pairs, cut into batches by sql/steps/batches.sql.
-- The work of each position 0 .. n-1 of one side ($side = 'item' or 'user'): the
-- co-rated triples its batch joins (for a movie, the sum over its raters of how many
-- movies they rated).
create or replace temp table _recsys_batch_work as
select e.movie_idx as position, sum(a.n_entries) as work
from _recsys_pair_entries as e
inner join (
    select user_idx, count(*) as n_entries from _recsys_pair_entries group by user_idx
) as a on a.user_idx = e.user_idx
where $side = 'item'
group by e.movie_idx
union all
select e.user_idx as position, sum(a.n_entries) as work
from _recsys_pair_entries as e
inner join (
    select movie_idx, count(*) as n_entries from _recsys_pair_entries group by movie_idx
) as a on a.movie_idx = e.movie_idx
where $side = 'user'
group by e.user_idx;
