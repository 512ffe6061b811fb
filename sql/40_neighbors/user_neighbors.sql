-- user_neighbors: one row per (user_id, neighbor_id) for the $neighbors_k (recsys_params)
-- most similar users of every user by user_similarity, materialised by the build.
-- rank 1 is the most similar, in the order of user_similarity.rank_key (similarity
-- to 12 places, then the smaller neighbor_id), so the stored top-k is deterministic
-- and its first n rows are the exact top-n for every n <= neighbors_k. add-ratings
-- replaces the rows of the users whose similarities changed the same way
-- (sql/steps/increment/refresh_user_neighbors.sql).
create or replace table user_neighbors as
with ranked as (
    select
        s.user_id,
        s.neighbor_id,
        s.similarity,
        s.n_common,
        row_number() over (partition by s.user_id order by s.rank_key desc) as rank
    from user_similarity as s
)
select r.user_id, r.neighbor_id, r.similarity, r.n_common, r.rank
from ranked as r
where r.rank <= $neighbors_k
order by r.user_id, r.rank;
