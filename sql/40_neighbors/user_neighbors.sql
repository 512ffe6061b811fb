-- user_neighbors: one row per (user_id, neighbor_id) for the $neighbors_k (recsys_params)
-- most similar users of every user by user_similarity, materialised by the build.
-- rank 1 is the most similar, in the order of user_similarity.rank_key (similarity
-- to 12 places, then the smaller neighbor_id), so the stored top-k is deterministic
-- and its first n rows are the exact top-n for every n <= neighbors_k. add-ratings
-- replaces the rows of the users whose similarities changed the same way
-- (sql/steps/increment/refresh_user_neighbors.sql).
-- Rows are stored by rank, then user: requests read rank <= k (k = 10 by default, of
-- $neighbors_k = 50), and DuckDB's zone maps then skip the row groups of the deeper ranks
-- (10M ratings: a request scans 122,880 rows of item_neighbors instead of 491,520).
-- The ranking carries only the ids; the winners' similarity is recomputed from their
-- pair sums and norms by user_pair_similarity's formula, as in item_neighbors.sql
-- (which says why).
create or replace table user_neighbors as
with ranked as (
    select
        s.user_id,
        s.neighbor_id,
        row_number() over (partition by s.user_id order by s.rank_key desc) as rank
    from user_similarity as s
)
select
    r.user_id,
    r.neighbor_id,
    p.dot_product / nullif(a.rating_norm * b.rating_norm, 0) as similarity,
    p.n_common,
    r.rank
from ranked as r
inner join user_pair_sums as p
    on p.user_id = least(r.user_id, r.neighbor_id)
    and p.neighbor_id = greatest(r.user_id, r.neighbor_id)
inner join user_stats as a on a.user_id = r.user_id
inner join user_stats as b on b.user_id = r.neighbor_id
where r.rank <= $neighbors_k
order by r.rank, r.user_id;
