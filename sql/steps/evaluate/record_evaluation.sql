-- record_evaluation: a step, not a layer. Run with $split, $fold and $methods (the
-- foundation methods to score, a subset of user_based, item_based, content_based,
-- popularity) bound, after the models of schema eval_train were built from the fold's
-- train part; appends the fold's rows to the eval_* tables that the metric views
-- (sql/70_evaluation) read. The k-NN models are recorded by record_knn_predictions.
insert into eval_test_ratings (split, fold, user_id, movie_id, rating, is_relevant)
select $split, $fold, s.user_id, s.movie_id, s.rating, s.rating >= p.relevance_threshold
from eval_split as s
cross join recsys_params as p
where s.is_test;

insert into eval_train_items (split, fold, movie_id, n_ratings)
select $split, $fold, movie_id, count(*)
from eval_train.ratings
group by movie_id;

insert into eval_folds (split, fold, n_train_users, n_train_ratings, n_test)
select
    $split,
    $fold,
    (select count(distinct r.user_id) from eval_train.ratings as r),
    (select count(*) from eval_train.ratings),
    (select count(*) from eval_split as s where s.is_test);
