-- recommendations (work): cut into batches by sql/steps/pipeline/batches.sql. The work of
-- each user: the rows every method joins to score them, which the GROUP BY of a batch
-- holds: one per (rating, movie it scores) for item_based, content_based (their first
-- n_item_neighbors neighbours) and each ranking model (every row of item_weights), one
-- per rating of each of the first n_similar_users similar users for user_based, and
-- the user's ratings themselves (popularity). Counting ratings alone made batches of
-- 1.6 billion joined rows at 10M ratings once the ranking models came (13 GB spilled).
create or replace temp table _recsys_batch_work as
with params as (
    select p.n_item_neighbors, p.n_similar_users
    from recsys_params as p
),
movie_fan_out as (
    select f.movie_id, sum(f.n) as n
    from (
        select n.movie_id, count(*) as n
        from item_neighbors as n
        where n.rank <= (select p.n_item_neighbors from params as p)
        group by n.movie_id
        union all
        select n.movie_id, count(*) as n
        from content_neighbors as n
        where n.rank <= (select p.n_item_neighbors from params as p)
        group by n.movie_id
        union all
        select w.movie_id, count(*) as n
        from item_weights as w
        group by w.movie_id
    ) as f
    group by f.movie_id
),
user_ratings as (
    select r.user_id, count(*) as n
    from ratings as r
    group by r.user_id
),
user_fan_out as (
    select n.user_id, sum(u.n) as n
    from user_neighbors as n
    inner join user_ratings as u on u.user_id = n.neighbor_id
    where n.rank <= (select p.n_similar_users from params as p)
    group by n.user_id
),
rating_fan_out as (
    select r.user_id, count(*) + coalesce(sum(f.n), 0) as n
    from ratings as r
    left join movie_fan_out as f on f.movie_id = r.movie_id
    group by r.user_id
)
select r.user_id as position, r.n + coalesce(u.n, 0) as work
from rating_fan_out as r
left join user_fan_out as u on u.user_id = r.user_id;
