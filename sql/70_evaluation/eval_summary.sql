-- eval_summary: one row per (split, method, metric, k), each metric summarised over the
-- folds of the split, in long format ("mean ± std" on the command line):
--   metric = 'rmse', 'mae', 'coverage' (from eval_rating_metrics; k is NULL), or
--            'precision_at_k', 'recall_at_k', 'ndcg_at_k', 'map_at_k', 'hit_rate_at_k',
--            'mrr_at_k', 'catalog_coverage_at_k', 'novelty_at_k' (from
--            eval_ranking_metrics, one row per k)
--   n_folds = number of folds in which the metric is defined (NULL values, e.g. the
--             rmse of a method that predicted nothing in a fold, are left out)
--   mean    = sum over those folds of value / n_folds
--   std     = sample standard deviation over those folds,
--             sqrt( sum (value - mean)^2 / (n_folds - 1) ), NULL when n_folds < 2
-- Single splits (holdout, temporal, leave_last_out) have one fold: mean is the value and
-- std is NULL.
create or replace view eval_summary as
with rating_metric_names as (
    select 'rmse' as metric
    union all
    select 'mae'
    union all
    select 'coverage'
),
ranking_metric_names as (
    select 'precision_at_k' as metric
    union all
    select 'recall_at_k'
    union all
    select 'ndcg_at_k'
    union all
    select 'map_at_k'
    union all
    select 'hit_rate_at_k'
    union all
    select 'mrr_at_k'
    union all
    select 'catalog_coverage_at_k'
    union all
    select 'novelty_at_k'
),
fold_values as (
    select
        r.split,
        r.fold,
        r.method,
        n.metric,
        cast(null as integer) as k,
        case n.metric
            when 'rmse' then r.rmse
            when 'mae' then r.mae
            when 'coverage' then r.coverage
        end as value
    from eval_rating_metrics as r
    cross join rating_metric_names as n
    union all
    select
        m.split,
        m.fold,
        m.method,
        n.metric,
        m.k,
        case n.metric
            when 'precision_at_k' then m.precision_at_k
            when 'recall_at_k' then m.recall_at_k
            when 'ndcg_at_k' then m.ndcg_at_k
            when 'map_at_k' then m.map_at_k
            when 'hit_rate_at_k' then m.hit_rate_at_k
            when 'mrr_at_k' then m.mrr_at_k
            when 'catalog_coverage_at_k' then m.catalog_coverage_at_k
            when 'novelty_at_k' then m.novelty_at_k
        end as value
    from eval_ranking_metrics as m
    cross join ranking_metric_names as n
)
select
    v.split,
    v.method,
    v.metric,
    v.k,
    count(v.value) as n_folds,
    avg(v.value) as mean,
    stddev_samp(v.value) as std
from fold_values as v
group by v.split, v.method, v.metric, v.k;
