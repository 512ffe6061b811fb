-- knn_recommendations: top-N from any rating predictor of knn_models. One row per
-- (model, user_id, rank) over the requests of knn_requests, ranked by the predicted
-- rating of knn_predictions (equal predictions, to 10 decimal places, by the smaller
-- movie_id). Fill knn_requests with the candidate movies of the users wanted, e.g. every
-- rated movie a user has not rated, and filter on model.
create or replace view knn_recommendations as
select
    p.model,
    p.user_id,
    row_number() over (
        partition by p.model, p.user_id
        order by round(p.predicted_rating, 10) desc, p.movie_id asc
    ) as rank,
    p.movie_id,
    p.predicted_rating
from knn_predictions as p;
