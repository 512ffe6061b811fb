-- content_neighbors: one row per (movie_id, neighbor_id) for the $neighbors_k
-- (recsys_params) most similar movies of every movie by content_similarity. rank 1 is the
-- most similar, in the order of content_similarity.rank_key (similarity to 12 places,
-- then the smaller neighbor_id), so the stored top-k is deterministic and its first n
-- rows are the exact top-n for every n <= neighbors_k. Created empty here; the plan fills
-- it in batches of content profiles (content_neighbors.batch.sql over the ranges that
-- content_neighbors.work.sql cuts, staged by .prepare and moved in by .finish): movies of
-- equal content vectors share a profile (content_profiles), so similarities are computed
-- between profiles (content_profile_similarity), each profile's candidates ranked once
-- and the list expanded to its movies; batches bound the memory of the profile pairs
-- (59,000 movies). Rows are stored by rank, then movie, as item_neighbors.
create or replace table content_neighbors (
    movie_id integer not null,
    neighbor_id integer not null,
    similarity double,
    n_common bigint not null,
    rank bigint not null
);
