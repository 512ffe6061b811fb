-- user_pair_sums (one batch): run by recsys_duck.pairs once per range [$lo, $hi) of
-- user positions cut by user_pair_sums.work.sql. Adds the rows of user_pair_sums (whose
-- file gives the formula) whose first user lies in the range.
insert into user_pair_sums (user_id, neighbor_id, n_common, dot_product)
select l.user_id, r.user_id as neighbor_id, s.n_common, s.dot_product
from (
    select
        a.user_idx as left_idx,
        b.user_idx as right_idx,
        count(*) as n_common,
        sum(a.rating * b.rating) as dot_product
    from _recsys_pair_entries as a
    inner join _recsys_pair_entries as b
        on a.movie_idx = b.movie_idx
        and a.user_idx < b.user_idx
    where a.user_idx >= $lo and a.user_idx < $hi
    group by a.user_idx, b.user_idx
) as s
inner join _recsys_user_index as l on l.user_idx = s.left_idx
inner join _recsys_user_index as r on r.user_idx = s.right_idx;
