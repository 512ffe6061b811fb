-- knn_ranking (work): cut into batches of users by sql/steps/pipeline/batches.sql for
-- record_knn_recommendations. The work of a test user: their train ratings, which an
-- item-based predictor joins with each of their n_rank_candidates candidates.
create or replace temp table _recsys_batch_work as
select r.user_id as position, count(*) as work
from eval_train.ratings as r
where r.user_id in (select s.user_id from eval_split as s where s.is_test)
group by r.user_id;
