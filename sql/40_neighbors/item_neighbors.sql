-- item_neighbors: one row per (movie_id, neighbor_id) for the recsys_params.neighbors_k most
-- similar movies of every movie by item_similarity, materialised by the build.
-- rank 1 is the most similar; equal similarities are ordered by the smaller
-- neighbor_id, so the stored top-k is deterministic and its first n rows are the exact
-- top-n for every n <= neighbors_k. Similarities are compared to 12 decimal places:
-- sums taken in a different order (parallel aggregation) differ in the last bits, and
-- that noise must not decide between mathematically equal neighbours.
create or replace table item_neighbors as
with ranked as (
    select
        s.movie_id,
        s.neighbor_id,
        s.similarity,
        s.n_common,
        row_number() over (
            partition by s.movie_id
            order by round(s.similarity, 12) desc, s.neighbor_id asc
        ) as rank
    from item_similarity as s
)
select
    r.movie_id,
    r.neighbor_id,
    r.similarity,
    r.n_common,
    r.rank
from ranked as r
where r.rank <= (select p.neighbors_k from recsys_params as p)
order by r.movie_id, r.rank;
