-- user_pair_sums (work): as item_pair_sums.work.sql, for user positions: the co-rated
-- triples of each user's batch (the sum over their movies of how many users rated them).
create or replace temp table _recsys_batch_work as
select e.user_idx as position, sum(a.n_entries) as work
from _recsys_pair_entries as e
inner join (
    select movie_idx, count(*) as n_entries from _recsys_pair_entries group by movie_idx
) as a on a.movie_idx = e.movie_idx
group by e.user_idx;
