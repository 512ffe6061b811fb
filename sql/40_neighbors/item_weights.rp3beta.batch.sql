-- item_weights (rp3beta, one batch): the walk sums S(i, j) (item_weights.rp3beta.prepare.sql
-- gives the formula) of the unordered pairs of movies i < j whose first movie has a
-- position in [$lo, $hi) and one of which has its row computed.
insert into _recsys_walk_sums (movie_idx, neighbor_idx, walk)
select a.movie_idx, b.movie_idx as neighbor_idx, sum(a.step) as walk
from _recsys_walk_entries as a
inner join _recsys_walk_entries as b
    on a.user_idx = b.user_idx
    and a.movie_idx < b.movie_idx
where a.movie_idx >= $lo and a.movie_idx < $hi and (a.in_scope or b.in_scope)
group by a.movie_idx, b.movie_idx;
