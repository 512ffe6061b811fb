-- knn_ratings: one row per rating with its baseline residual, the centring that
-- pearson_baseline similarity and the knn_baseline predictor use:
--   residual = r_ui - b_ui = r_ui - (mu + b_u + b_i)
-- (mu = rating_matrix_stats.mean_rating, biases from baseline_biases, 0 when missing).
create or replace view knn_ratings as
select
    r.user_id,
    r.movie_id,
    r.rating,
    r.rating - (t.mean_rating + coalesce(u.bias, 0) + coalesce(i.bias, 0)) as residual
from ratings as r
cross join rating_matrix_stats as t
left join baseline_biases as u on u.kind = 'user' and u.id = r.user_id
left join baseline_biases as i on i.kind = 'item' and i.id = r.movie_id;
