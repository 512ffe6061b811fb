-- evaluated_methods: one row per (split, method) with stored evaluation results, saying
-- which metrics mean something for it:
--   is_rating_scored = the method stored rating predictions (eval_predictions), so
--                      rmse, mae and coverage of eval_summary describe it
--   is_ranked        = the method was asked to rank (eval_ranked_methods) or stored
--                      top-N lists (eval_recommendations), so the ranking metrics
--                      describe it. A method that only predicted ratings (a k-NN model
--                      not in --rank-models) has no ranking metrics.
create or replace view evaluated_methods as
with stored as (
    select p.split, p.method, 1 as has_predictions, 0 as has_recommendations
    from eval_predictions as p
    union all
    select r.split, r.method, 0 as has_predictions, 1 as has_recommendations
    from eval_recommendations as r
    union all
    select m.split, m.method, 0 as has_predictions, 1 as has_recommendations
    from eval_ranked_methods as m
)
select
    s.split,
    s.method,
    max(s.has_predictions) = 1 as is_rating_scored,
    max(s.has_recommendations) = 1 as is_ranked
from stored as s
group by s.split, s.method;
