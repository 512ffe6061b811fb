-- eval_cutoffs: one row per evaluated (split, fold, method) and cutoff k, the grid that
-- eval_user_ranking_metrics and eval_ranking_metrics report on. A (split, fold, method)
-- is evaluated when it has a stored recommendation or prediction; k runs from 1 to
--   max(longest stored list in eval_recommendations, recsys_params.n_recommendations).
create or replace view eval_cutoffs as
with evaluated as (
    select r.split, r.fold, r.method
    from eval_recommendations as r
    union
    select p.split, p.fold, p.method
    from eval_predictions as p
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
