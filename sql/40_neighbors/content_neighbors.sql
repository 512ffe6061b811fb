-- content_neighbors: one row per (movie_id, neighbor_id) for the $neighbors_k
-- (recsys_params) most similar movies of every movie by content_similarity,
-- materialised by the build. rank 1 is the most similar, in the order of
-- content_similarity.rank_key (similarity to 12 places, then the smaller neighbor_id),
-- so the stored top-k is deterministic and its first n rows are the exact top-n for
-- every n <= neighbors_k.
-- Rows are stored by rank, then movie: requests read rank <= k (k = 10 by default, of
-- $neighbors_k = 50), and DuckDB's zone maps then skip the row groups of the deeper ranks
-- (10M ratings: a request scans 122,880 rows of item_neighbors instead of 491,520).
create or replace table content_neighbors as
with ranked as (
    select
        s.movie_id,
        s.neighbor_id,
        s.similarity,
        s.n_common,
        row_number() over (partition by s.movie_id order by s.rank_key desc) as rank
    from content_similarity as s
)
select r.movie_id, r.neighbor_id, r.similarity, r.n_common, r.rank
from ranked as r
where r.rank <= $neighbors_k
order by r.rank, r.movie_id;
