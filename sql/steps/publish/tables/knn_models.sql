-- knn_models: one row per rating predictor of the k-NN family (Surprise's BaselineOnly,
-- KNNBasic, KNNWithMeans, KNNBaseline definitions) with its settings; the model names
-- of eval_predictions and eval_summary.
create table knn_models (
    model text not null,
    algorithm text not null,
    based text,
    similarity text,
    k integer not null,
    min_k integer not null,
    min_support integer not null,
    shrinkage double precision not null
);

comment on table knn_models is
'one row per k-NN rating predictor: algorithm (baseline_only, knn_basic, knn_with_means, knn_baseline), based (user/item), similarity (cosine, msd, pearson, pearson_baseline), k, min_k, min_support, shrinkage';

-- keys and indexes: created once the rows are in (faster than maintained row by row)
alter table knn_models add primary key (model);
