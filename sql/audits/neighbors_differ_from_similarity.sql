-- neighbors_differ_from_similarity: stored item and user neighbours whose similarity or
-- n_common is not exactly (to the bit) the row of item_similarity / user_similarity for
-- the same pair, or that have no such row (want: none). The build and add-ratings
-- recompute the winners' similarity after ranking (sql/40_neighbors); this checks that
-- the recomputation and the views agree.
select 'item' as kind, n.movie_id as id, n.neighbor_id, n.similarity, s.similarity as expected
from item_neighbors as n
left join item_similarity as s on s.movie_id = n.movie_id and s.neighbor_id = n.neighbor_id
where s.similarity is null
    or s.similarity <> n.similarity
    or s.n_common <> n.n_common
union all
select 'user' as kind, n.user_id as id, n.neighbor_id, n.similarity, s.similarity as expected
from user_neighbors as n
left join user_similarity as s on s.user_id = n.user_id and s.neighbor_id = n.neighbor_id
where s.similarity is null
    or s.similarity <> n.similarity
    or s.n_common <> n.n_common;
