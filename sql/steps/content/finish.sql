-- finish: a step of recsys_duck.content. Moves the staged neighbours into
-- content_neighbors, rank-major (see sql/40_neighbors/content_neighbors.sql);
-- recsys_duck.content then drops the staging table.
insert into content_neighbors (movie_id, neighbor_id, similarity, n_common, rank)
select movie_id, neighbor_id, similarity, n_common, rank
from _recsys_content_neighbors
order by rank, movie_id;
