-- predictions: run by recsys_duck.predictors.predict (the predict verb, Recommender.predict)
-- with $model bound, while knn_requests holds the requested (user_id, movie_id) pairs.
-- One row per pair: the knn_predictions view's columns, and two flags that say when the
-- prediction is only the baseline's guess because the pair's user or movie has no
-- rating to learn from:
--   unknown_user  = no rating by user_id in ratings
--   unknown_movie = no rating of movie_id in ratings
select
    p.*,
    not exists (select 1 from ratings as r where r.user_id = p.user_id) as unknown_user,
    not exists (select 1 from ratings as r where r.movie_id = p.movie_id) as unknown_movie
from knn_predictions as p
where p.model = $model
order by p.user_id, p.movie_id;
