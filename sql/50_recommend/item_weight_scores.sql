-- item_weight_scores: one row per (method, user_id, movie_id) for every ranking method of
-- ranking_models (method = its model name) and every movie the user has not rated that
-- some movie the user rated weighs (item_weights), with S_j(u) those rated movies:
--   score(u, j) = sum_{i in S_j(u)} v(u, i) * w(i, j)
-- v(u, i) = r_ui for a model with rating_values, else 1. n_sources = |S_j(u)|.
-- These methods only rank: a score is not a rating (item_ridge's weights may be
-- negative and its scores below 0).
-- The movies the user rated are removed after the sums, from one row per movie rather
-- than from every joined row (a rated movie popular in neighbourhoods joins many):
-- 23% less time at 10M ratings, where a user's rated movies join ~140,000 weights;
-- by LEFT JOIN ... IS NULL, into whose ratings side DuckDB pushes a filter on user_id
-- (an anti join read every rating for each batch of the mart). The sums group by a
-- number for the model rather than its name, a narrower key: 15% less time.
create or replace view item_weight_scores as
with models as (
    select m.model, m.rating_values, row_number() over (order by m.model) as model_no
    from ranking_models as m
),
sums as (
    select
        m.model_no,
        r.user_id,
        w.neighbor_id as movie_id,
        sum(case when m.rating_values then r.rating else 1.0 end * w.weight) as score,
        count(*) as n_sources
    from ratings as r
    inner join item_weights as w on w.movie_id = r.movie_id
    inner join models as m on m.model = w.model
    group by m.model_no, r.user_id, w.neighbor_id
)
select m.model as method, s.user_id, s.movie_id, s.score, s.n_sources
from sums as s
inner join models as m on m.model_no = s.model_no
left join ratings as seen on seen.user_id = s.user_id and seen.movie_id = s.movie_id
where seen.movie_id is null;
