-- scope: run by recsys_duck.predictors with $model bound, after knn_requests holds the
-- requested (user_id, movie_id) pairs. Shadows knn_pair_scope with the ids whose pairs
-- $model's similarities need, so that item_pair_stats / user_pair_stats join only their
-- ratings (a pair is summed when either id is in the scope):
-- * item-based: sim(i, j) for a requested movie i and a movie j its user rated; either
--   side covers every such pair, so the smaller of the two lists (one user's candidates:
--   the ~hundreds of movies they rated, not the thousands they did not);
-- * user-based: sim(u, v) for a requesting user u and a user v who rated the requested
--   movie; again the smaller side;
-- * baseline_only: no similarity, an empty scope.
create or replace temp table knn_pair_scope as
with wanted as (
    select m.based
    from knn_models as m
    where m.model = $model
),
requested_movies as (
    select distinct q.movie_id as id
    from knn_requests as q
),
rated_movies as (
    select distinct r.movie_id as id
    from ratings as r
    where r.user_id in (select q.user_id from knn_requests as q)
),
requesting_users as (
    select distinct q.user_id as id
    from knn_requests as q
),
raters as (
    select distinct r.user_id as id
    from ratings as r
    where r.movie_id in (select q.movie_id from knn_requests as q)
),
sides as (
    select 'item' as based, 'requested' as side, s.id
    from requested_movies as s
    union all
    select 'item' as based, 'related' as side, s.id
    from rated_movies as s
    union all
    select 'user' as based, 'requested' as side, s.id
    from requesting_users as s
    union all
    select 'user' as based, 'related' as side, s.id
    from raters as s
),
sizes as (
    select s.based, s.side, count(*) as n_ids
    from sides as s
    group by s.based, s.side
),
chosen as (
    -- the smaller side of the model's based, 'related' on a tie
    select z.based, z.side
    from sizes as z
    inner join wanted as w on w.based = z.based
    qualify row_number() over (partition by z.based order by z.n_ids, z.side) = 1
)
select s.based, s.id
from sides as s
inner join chosen as c on c.based = s.based and c.side = s.side;
