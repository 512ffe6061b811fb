-- eval_cutoffs: one row per ranked (split, fold, method) and cutoff k, the grid that
-- eval_user_ranking_metrics and eval_ranking_metrics report on. A (split, fold, method)
-- is ranked when it is in eval_ranked_methods or has a stored recommendation (a method
-- that only predicts ratings has no ranking metrics); k runs from 1 to
--   max(longest stored list in eval_recommendations, recsys_params.n_recommendations).
create or replace view eval_cutoffs as
with evaluated as (
    select r.split, r.fold, r.method
    from eval_recommendations as r
    union
    select m.split, m.fold, m.method
    from eval_ranked_methods as m
),
cutoffs as (
    select cast(c.k as integer) as k
    from range(
        1,
        1 + (
            select greatest(
                coalesce(max(r.rank), 0),
                coalesce((select p.n_recommendations from recsys_params as p), 0)
            )
            from eval_recommendations as r
        )
    ) as c(k)
)
select
    e.split,
    e.fold,
    e.method,
    c.k
from evaluated as e
cross join cutoffs as c;
