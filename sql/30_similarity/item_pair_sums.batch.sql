-- item_pair_sums (one batch): run by recsys_duck.pairs once per range [$lo, $hi) of
-- movie positions cut by item_pair_sums.work.sql. Adds the rows of item_pair_sums (whose
-- file gives the formula) whose first movie lies in the range.
insert into item_pair_sums (movie_id, neighbor_id, n_common, dot_product)
select l.movie_id, r.movie_id as neighbor_id, s.n_common, s.dot_product
from (
    select
        a.movie_idx as left_idx,
        b.movie_idx as right_idx,
        count(*) as n_common,
        sum(a.rating * b.rating) as dot_product
    from _recsys_pair_entries as a
    inner join _recsys_pair_entries as b
        on a.user_idx = b.user_idx
        and a.movie_idx < b.movie_idx
    where a.movie_idx >= $lo and a.movie_idx < $hi
    group by a.movie_idx, b.movie_idx
) as s
inner join _recsys_movie_index as l on l.movie_idx = s.left_idx
inner join _recsys_movie_index as r on r.movie_idx = s.right_idx;
