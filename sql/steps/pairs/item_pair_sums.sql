-- item_pair_sums (one batch): a step of recsys_duck.pairs, run once per range [$lo, $hi)
-- of movie positions. Adds one row per unordered pair of distinct movies (movie_id <
-- neighbor_id) whose first movie lies in the range and that at least one user rated both:
--   n_common    = |U(i) & U(j)|, the users who rated both movies
--   dot_product = sum over u in U(i) & U(j) of r_ui * r_uj
-- Ratings are half stars, so every product is a multiple of 1/4 and every sum is exact
-- in double precision whatever the order of addition: batches, threads and incremental
-- updates give the same bits.
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
