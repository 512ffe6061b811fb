-- ranking_grid: the settings `recsys-duck tune` tries for each algorithm of
-- ranking_models, one row per configuration (columns as in ranking_models; a setting an
-- algorithm does not use keeps its default). Tune scores every row of a model's
-- algorithm, and the model's current settings, on validation_split, and keeps the best.
-- Edit it with SQL to search elsewhere; a table you edited keeps your rows when the
-- file is built again.
create table if not exists ranking_grid (
    algorithm varchar not null check (algorithm in ('item_knn', 'rp3beta', 'item_ridge')),
    neighbors integer not null check (neighbors >= 1),
    shrinkage double not null default 0 check (shrinkage >= 0),
    normalize boolean not null default false,
    rating_values boolean not null default false,
    alpha double not null default 1 check (alpha >= 0),
    beta double not null default 0 check (beta >= 0),
    l2 double not null default 0 check (l2 >= 0),
    steps integer not null default 0 check (steps >= 0)
);

-- The neighbourhood of the settings that nested validation chose on ml-latest-small
-- (bench/bench_ranking.py, grid "small"): 4 + 4 + 6 configurations, about three minutes
-- of tuning there. Into an empty table only.
insert into ranking_grid (
    algorithm, neighbors, shrinkage, normalize, rating_values, alpha, beta, l2, steps
)
select d.*
from (
    values
        ('item_knn', 20, 50.0, true, true, 1.0, 0.0, 0.0, 0),
        ('item_knn', 20, 100.0, true, true, 1.0, 0.0, 0.0, 0),
        ('item_knn', 50, 50.0, true, true, 1.0, 0.0, 0.0, 0),
        ('item_knn', 50, 100.0, true, true, 1.0, 0.0, 0.0, 0),
        ('rp3beta', 100, 0.0, true, false, 0.6, 0.3, 0.0, 0),
        ('rp3beta', 100, 0.0, true, false, 0.6, 0.5, 0.0, 0),
        ('rp3beta', 100, 0.0, true, false, 1.0, 0.3, 0.0, 0),
        ('rp3beta', 100, 0.0, true, false, 1.0, 0.5, 0.0, 0),
        ('item_ridge', 100, 0.0, false, false, 1.0, 0.0, 100.0, 4),
        ('item_ridge', 100, 0.0, false, false, 1.0, 0.0, 100.0, 8),
        ('item_ridge', 100, 0.0, false, false, 1.0, 0.0, 250.0, 4),
        ('item_ridge', 100, 0.0, false, false, 1.0, 0.0, 250.0, 8),
        ('item_ridge', 100, 0.0, false, false, 1.0, 0.0, 500.0, 4),
        ('item_ridge', 100, 0.0, false, false, 1.0, 0.0, 500.0, 8)
) as d
where not exists (select 1 from ranking_grid);
