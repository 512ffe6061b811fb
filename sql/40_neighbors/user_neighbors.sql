-- user_neighbors: one row per (user_id, neighbor_id) for the $neighbors_k (recsys_params)
-- most similar users of every user by user_similarity, ranked as item_neighbors (rank 1
-- the most similar; similarity to 12 places, then the smaller neighbor_id). Created
-- empty here; user_neighbors.refresh.sql ranks the users of a scope into it: every user
-- at a build, the users whose similarities changed at add-ratings.
create or replace table user_neighbors (
    user_id integer not null,
    neighbor_id integer not null,
    similarity double,
    n_common bigint not null,
    rank bigint not null
);
