-- user_based_candidates: one row per (user_id, movie_id, neighbor_id) where neighbor_id
-- is one of the user's stored neighbours (user_neighbors) with positive similarity,
-- rated movie_id, and the user has not rated movie_id (no row in ratings; LEFT JOIN ...
-- IS NULL rather than NOT EXISTS, as in item_based_candidates). The user-based
-- predictions, the recommend_user_based macro and the evaluation all aggregate this one
-- relation.
create or replace view user_based_candidates as
select
    n.user_id,
    r.movie_id,
    n.neighbor_id,
    n.rank as neighbor_rank,
    n.similarity,
    r.rating
from user_neighbors as n
inner join ratings as r on r.user_id = n.neighbor_id
left join ratings as seen on seen.user_id = n.user_id and seen.movie_id = r.movie_id
where n.similarity > 0
    and seen.movie_id is null;
