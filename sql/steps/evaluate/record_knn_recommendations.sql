-- record_knn_recommendations: a step, not a layer. Run with $split, $fold, $model and a
-- user range [$lo, $hi) bound after record_knn_predictions, once per batch that
-- knn_ranking.work.sql cuts: ranks, for every user in the range with a held-out rating
-- and train ratings, their candidates of the fold's train part (eval_train.knn_candidates:
-- the top n_rank_candidates by item_based, unrated there) by the model's predicted rating,
-- and keeps the top recsys_params.n_recommendations. This replaces
-- eval_train.knn_requests (the held-out pairs, then the previous batch) with those
-- candidates.
delete from eval_train.knn_requests;

insert into eval_train.knn_requests (user_id, movie_id)
select c.user_id, c.movie_id
from eval_train.knn_candidates as c
where c.user_id >= $lo and c.user_id < $hi
    and c.user_id in (select s.user_id from eval_split as s where s.is_test);

insert into eval_recommendations (split, fold, method, user_id, rank, movie_id)
select $split, $fold, $model, r.user_id, r.rank, r.movie_id
from eval_train.knn_recommendations as r
where r.model = $model
    and r.rank <= (select p.n_recommendations from recsys_params as p);
