-- record_knn_predictions: a step, not a layer. Run with $split, $fold and $model (a
-- model of knn_models) bound after record_evaluation: the model's predictions for the
-- fold's held-out pairs (eval_train.knn_requests), trained on the fold's train part.
insert into eval_predictions (split, fold, method, user_id, movie_id, rating, predicted_rating)
select $split, $fold, $model, t.user_id, t.movie_id, t.rating, p.predicted_rating
from eval_test_ratings as t
left join eval_train.knn_predictions as p
    on p.user_id = t.user_id
    and p.movie_id = t.movie_id
    and p.model = $model
where t.split = $split and t.fold = $fold;
