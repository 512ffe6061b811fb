-- similarity_out_of_range: stored neighbours whose cosine lies outside (0, 1] (beyond
-- rounding) or that point at themselves (want: none).
select 'item' as kind, n.movie_id as id, n.neighbor_id, n.similarity
from item_neighbors as n
where n.similarity <= 0 or n.similarity > 1 + 1e-12 or n.movie_id = n.neighbor_id
union all
select 'user' as kind, n.user_id as id, n.neighbor_id, n.similarity
from user_neighbors as n
where n.similarity <= 0 or n.similarity > 1 + 1e-12 or n.user_id = n.neighbor_id
union all
select 'content' as kind, n.movie_id as id, n.neighbor_id, n.similarity
from content_neighbors as n
where n.similarity <= 0 or n.similarity > 1 + 1e-12 or n.movie_id = n.neighbor_id;
