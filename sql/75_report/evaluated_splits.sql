-- evaluated_splits: one row per split with stored evaluation results (eval_folds), to
-- say what an evaluation covered:
--   n_folds          = number of folds recorded (1 for holdout, temporal, leave_last_out)
--   n_test           = held-out ratings summed over the folds (eval_folds.n_test)
--   n_train_ratings  = train ratings summed over the folds (eval_folds.n_train_ratings)
--   n_methods        = methods with stored results (rows of evaluated_methods)
--   n_ranked_methods = of those, the methods with stored top-N lists (is_ranked)
create or replace view evaluated_splits as
with folds as (
    select
        f.split,
        count(*) as n_folds,
        sum(f.n_test) as n_test,
        sum(f.n_train_ratings) as n_train_ratings
    from eval_folds as f
    group by f.split
),
method_counts as (
    select
        m.split,
        count(*) as n_methods,
        sum(case when m.is_ranked then 1 else 0 end) as n_ranked_methods
    from evaluated_methods as m
    group by m.split
)
select
    f.split,
    f.n_folds,
    f.n_test,
    f.n_train_ratings,
    coalesce(c.n_methods, 0) as n_methods,
    coalesce(c.n_ranked_methods, 0) as n_ranked_methods
from folds as f
left join method_counts as c on c.split = f.split
order by f.split;
