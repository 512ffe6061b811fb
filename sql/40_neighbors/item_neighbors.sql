-- item_neighbors: one row per (movie_id, neighbor_id) for the $neighbors_k (recsys_params)
-- most similar movies of every movie by item_similarity. rank 1 is the most similar, in
-- the order of item_similarity.rank_key (similarity to 12 places, then the smaller
-- neighbor_id), so the stored top-k is deterministic and its first n rows are the exact
-- top-n for every n <= neighbors_k. Created empty here; item_neighbors.refresh.sql ranks
-- the movies of a scope into it: every movie at a build, the movies whose similarities
-- changed at add-ratings.
create or replace table item_neighbors (
    movie_id integer not null,
    neighbor_id integer not null,
    similarity double,
    n_common bigint not null,
    rank bigint not null
);
