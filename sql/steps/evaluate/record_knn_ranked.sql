-- record_knn_ranked: a step, not a layer. Run with $split, $fold and $model bound before
-- the batches of record_knn_recommendations: lists $model among the fold's ranked methods.
insert into eval_ranked_methods (split, fold, method) values ($split, $fold, $model);
