-- content_neighbors (finish): moves the staged neighbours into content_neighbors,
-- rank-major (see content_neighbors.sql).
insert into content_neighbors (movie_id, neighbor_id, similarity, n_common, rank)
select movie_id, neighbor_id, similarity, n_common, rank
from _recsys_content_neighbors
order by rank, movie_id;
