-- record_knn_recommendations: a step, not a layer. Run with $split, $fold and $model
-- bound after record_knn_predictions: ranks, for every user with a held-out rating,
-- every movie rated in the fold's train part that the user did not rate there, by the
-- model's predicted rating, and keeps the top recsys_params.n_recommendations. This
-- replaces eval_train.knn_requests (the held-out pairs) with those candidates.
delete from eval_train.knn_requests;

insert into eval_train.knn_requests (user_id, movie_id)
select u.user_id, m.movie_id
from (select distinct user_id from eval_split where is_test) as u
cross join (select distinct movie_id from eval_train.ratings) as m
where not exists (
    select 1
    from eval_train.ratings as r
    where r.user_id = u.user_id and r.movie_id = m.movie_id
);

insert into eval_ranked_methods (split, fold, method) values ($split, $fold, $model);

insert into eval_recommendations (split, fold, method, user_id, rank, movie_id)
select $split, $fold, $model, r.user_id, r.rank, r.movie_id
from eval_train.knn_recommendations as r
where r.model = $model
    and r.rank <= (select p.n_recommendations from recsys_params as p);
