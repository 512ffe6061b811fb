-- user_neighbors (refresh): replaces the rows of the users in _recsys_refresh_users
-- (every user at a build, user_neighbors.scope.sql; those whose similarities changed at
-- add-ratings, user_pair_sums.increment.sql) with their top $neighbors_k by
-- user_similarity.rank_key, as item_neighbors.refresh.sql does for movies (which says
-- why the ranking carries only the ids).
delete from user_neighbors
where user_id in (select s.user_id from _recsys_refresh_users as s);

insert into user_neighbors (user_id, neighbor_id, similarity, n_common, rank)
with ranked as (
    select
        s.user_id,
        s.neighbor_id,
        row_number() over (partition by s.user_id order by s.rank_key desc) as rank
    from user_similarity as s
    semi join _recsys_refresh_users as a on a.user_id = s.user_id
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
