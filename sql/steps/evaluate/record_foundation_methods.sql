-- record_foundation_methods: a step, not a layer. Run with $split, $fold and $methods
-- (a list, subset of user_based, item_based, content_based, popularity and the models
-- of ranking_models) bound after record_evaluation, when the full rating layers were
-- built in eval_train.
-- Rating predictions for every held-out pair, NULL where a method has none; the
-- popularity baseline and the ranking models only rank, so they have no rating
-- predictions.
insert into eval_predictions (split, fold, method, user_id, movie_id, rating, predicted_rating)
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
select t.split, t.fold, m.method, t.user_id, t.movie_id, t.rating, p.predicted_rating
from eval_test_ratings as t
inner join methods as m on list_contains($methods, m.method)
left join predictions as p
    on p.method = m.method
    and p.user_id = t.user_id
    and p.movie_id = t.movie_id
where t.split = $split and t.fold = $fold;

insert into eval_ranked_methods (split, fold, method)
select $split, $fold, m.method
from (
    select 'user_based' as method
    union all
    select 'item_based'
    union all
    select 'content_based'
    union all
    select 'popularity'
    union all
    select r.model
    from ranking_models as r
) as m
where list_contains($methods, m.method);

insert into eval_recommendations (split, fold, method, user_id, rank, movie_id)
select $split, $fold, r.method, r.user_id, r.rank, r.movie_id
from eval_train.recommendations as r
where list_contains($methods, r.method);
