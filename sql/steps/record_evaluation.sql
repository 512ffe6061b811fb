-- record_evaluation: a step, not a layer. Run with $split bound after the models of
-- schema eval_train were built; replaces the split's rows of the eval_* tables, which
-- the metric views (sql/70_evaluation) read.
delete from eval_test_ratings where split = $split;

delete from eval_predictions where split = $split;

delete from eval_recommendations where split = $split;

insert into eval_test_ratings (split, user_id, movie_id, rating, is_relevant)
select $split, s.user_id, s.movie_id, s.rating, s.rating >= p.relevance_threshold
from eval_split as s
cross join recsys_params as p
where s.is_test;

-- Rating predictions for every held-out pair, NULL where a method has none.
insert into eval_predictions (split, method, user_id, movie_id, rating, predicted_rating)
with predictions as (
    select 'user_based' as method, user_id, movie_id, predicted_rating
    from eval_train.user_based_predictions
    union all
    select 'item_based' as method, user_id, movie_id, predicted_rating
    from eval_train.item_based_scores
    union all
    select 'content_based' as method, user_id, movie_id, predicted_rating
    from eval_train.content_based_scores
),
methods as (
    select 'user_based' as method
    union all
    select 'item_based'
    union all
    select 'content_based'
)
select t.split, m.method, t.user_id, t.movie_id, t.rating, p.predicted_rating
from eval_test_ratings as t
cross join methods as m
left join predictions as p
    on p.method = m.method
    and p.user_id = t.user_id
    and p.movie_id = t.movie_id
where t.split = $split;

insert into eval_recommendations (split, method, user_id, rank, movie_id)
select $split, r.method, r.user_id, r.rank, r.movie_id
from eval_train.recommendations as r;
