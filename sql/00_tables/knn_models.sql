-- knn_models: one row per named rating predictor of the k-NN family, with its settings.
-- algorithm is one of
--   baseline_only   mu + b_u + b_i (the regularised biases of baseline_biases)
--   knn_basic       weighted mean of the neighbours' ratings
--   knn_with_means  mean of x plus the weighted mean-centred deviations of the neighbours
--   knn_baseline    baseline plus the weighted baseline residuals of the neighbours
-- based = 'user' (neighbours are users who rated the movie) or 'item' (neighbours are
-- movies the user rated); similarity one of cosine, msd, pearson, pearson_baseline
-- (formulas in knn_pair_similarity). k = neighbours used at most, min_k = fewest positive
-- neighbours for a k-NN estimate, min_support = fewest common raters (or rated movies)
-- for a nonzero similarity, shrinkage = pearson_baseline's shrinkage.
-- These are the definitions of Surprise's BaselineOnly, KNNBasic, KNNWithMeans and
-- KNNBaseline; the defaults are Surprise's (k 40, min_k 1, min_support 1, shrinkage 100).
-- Add rows to evaluate other settings; the model name is free text.
create table if not exists knn_models (
    model varchar primary key,
    algorithm varchar not null
        check (algorithm in ('baseline_only', 'knn_basic', 'knn_with_means', 'knn_baseline')),
    based varchar check (based in ('user', 'item')),
    similarity varchar check (similarity in ('cosine', 'msd', 'pearson', 'pearson_baseline')),
    k integer not null default 40 check (k >= 1),
    min_k integer not null default 1 check (min_k >= 0),
    min_support integer not null default 1 check (min_support >= 0),
    shrinkage double not null default 100 check (shrinkage >= 0),
    check ((algorithm = 'baseline_only') = (based is null and similarity is null))
);

insert into knn_models (model, algorithm, based, similarity)
select 'baseline_only', 'baseline_only', null, null
where not exists (select 1 from knn_models);

insert into knn_models (model, algorithm, based, similarity)
select a.algorithm || '_' || b.based || '_' || s.similarity, a.algorithm, b.based, s.similarity
from (values ('knn_basic'), ('knn_with_means'), ('knn_baseline')) as a(algorithm)
cross join (values ('item'), ('user')) as b(based)
cross join (values ('cosine'), ('msd'), ('pearson'), ('pearson_baseline')) as s(similarity)
where (select count(*) from knn_models) = 1;

-- The configuration that nested cross-validation on ml-latest-small chose in 5 of 5
-- outer folds (k 60 in four, 40 in one; shrinkage 200; min_support 1), tuned on
-- validation splits of each fold's train part only (bench/bench_accuracy.py).
insert into knn_models (model, algorithm, based, similarity, k, shrinkage)
select 'knn_baseline_item_pearson_baseline_k60_s200', 'knn_baseline', 'item', 'pearson_baseline', 60, 200
where not exists (
    select 1 from knn_models where model = 'knn_baseline_item_pearson_baseline_k60_s200'
);
