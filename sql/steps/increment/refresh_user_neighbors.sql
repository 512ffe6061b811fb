-- refresh_user_neighbors: a step of recsys_duck.increment. Replaces the rows of
-- user_neighbors of the users in _recsys_affected_users with their top $neighbors_k
-- by user_similarity.rank_key, the ranking of sql/40_neighbors/user_neighbors.sql; the
-- filter comes before the ranking, so only the affected users' pairs are ranked.
delete from user_neighbors
where user_id in (select a.user_id from _recsys_affected_users as a);

insert into user_neighbors (user_id, neighbor_id, similarity, n_common, rank)
with ranked as (
    select
        s.user_id,
        s.neighbor_id,
        s.similarity,
        s.n_common,
        row_number() over (partition by s.user_id order by s.rank_key desc) as rank
    from user_similarity as s
    semi join _recsys_affected_users as a on a.user_id = s.user_id
)
select r.user_id, r.neighbor_id, r.similarity, r.n_common, r.rank
from ranked as r
where r.rank <= $neighbors_k
order by r.rank, r.user_id;
