-- ranking_models: one row per top-N ranking method that scores the movies a user has not
-- rated through a movie-to-movie weight table (item_weights, filled by the build for
-- every row here):
--   score(u, j) = sum over the movies i that u rated of v(u, i) * w(i, j)
-- with v(u, i) = r_ui when rating_values, else 1 (the movies a user rated, as a set).
-- algorithm says how w is computed (the formula heads the file
-- sql/40_neighbors/item_weights.<algorithm>.sql):
--   item_knn    cosine similarity with shrinkage, the top `neighbors` of each rated
--               movie, each row optionally normalised to sum 1 (Deshpande & Karypis 2004)
--   rp3beta     a three-step random walk movie -> user -> movie, each step's
--               probability raised to alpha and the target's popularity to -beta,
--               the top `neighbors` of each movie (Paudel et al. 2017)
--   item_ridge  each movie regressed on its `neighbors` nearest movies with an l2
--               penalty (EASE, Steck 2019, restricted to a neighbourhood as fsSLIM,
--               Ning & Karypis 2011), solved by `steps` conjugate-gradient steps
-- model is the method's name in the recommendations mart, evaluate and recommend.
-- validation_ndcg is the NDCG@10 of these settings on the validation split that chose
-- them (tuned_on says which), NULL for settings nobody tuned. Settings not used by an
-- algorithm keep their defaults.
create table if not exists ranking_models (
    model varchar primary key,
    algorithm varchar not null check (algorithm in ('item_knn', 'rp3beta', 'item_ridge')),
    neighbors integer not null check (neighbors >= 1),
    shrinkage double not null default 0 check (shrinkage >= 0),
    normalize boolean not null default false,
    rating_values boolean not null default false,
    alpha double not null default 1 check (alpha >= 0),
    beta double not null default 0 check (beta >= 0),
    l2 double not null default 0 check (l2 >= 0),
    steps integer not null default 0 check (steps >= 0),
    validation_ndcg double,
    tuned_on varchar
);

-- The settings that nested validation chose on ml-latest-small (bench/bench_ranking.py,
-- results in bench/results/ranking_ml-latest-small.md): each algorithm's grid scored on a
-- validation split of the holdout split's train part, the test part never read.
-- All three at once, into an empty table only: a table you edited (a row deleted or
-- changed) keeps your rows when the file is built again.
insert into ranking_models (
    model,
    algorithm,
    neighbors,
    shrinkage,
    normalize,
    rating_values,
    alpha,
    beta,
    l2,
    steps,
    validation_ndcg,
    tuned_on
)
select d.*
from (
    values
        ('item_knn', 'item_knn', 20, 100.0, true, true, 1.0, 0.0, 0.0, 0, 0.1591,
         'ml-latest-small, nested validation'),
        ('rp3beta', 'rp3beta', 100, 0.0, true, false, 1.0, 0.3, 0.0, 0, 0.1766,
         'ml-latest-small, nested validation'),
        ('item_ridge', 'item_ridge', 100, 0.0, false, false, 1.0, 0.0, 250.0, 8, 0.1826,
         'ml-latest-small, nested validation')
) as d
where not exists (select 1 from ranking_models);
