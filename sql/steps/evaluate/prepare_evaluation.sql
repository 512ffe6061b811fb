-- prepare_evaluation: a step, not a layer. recsys_duck.evaluation runs it once per fold
-- with $split ('kfold', 'holdout', 'validation', 'temporal', 'leave_last_out' or
-- 'given', the files of eval_given_ratings) and $fold (1 for the single splits) bound,
-- before it re-applies the rating layers in schema eval_train so that every model there
-- is trained on the fold's train part only.

-- eval_split: one row per rating, is_test marking the fold's held-out part.
create or replace table eval_split as
select user_id, movie_id, rating, rated_at, is_test
from holdout_split
where $split = 'holdout'
union all
select user_id, movie_id, rating, rated_at, is_test
from validation_split
where $split = 'validation'
union all
select user_id, movie_id, rating, rated_at, is_test
from temporal_split
where $split = 'temporal'
union all
select user_id, movie_id, rating, rated_at, is_test
from leave_last_out_split
where $split = 'leave_last_out'
union all
select user_id, movie_id, rating, rated_at, fold = $fold as is_test
from kfold_split
where $split = 'kfold'
union all
select user_id, movie_id, rating, rated_at, is_test
from eval_given_ratings
where $split = 'given' and fold = $fold;

-- The schema is kept from fold to fold and its objects replaced: DuckDB 1.5 cannot
-- commit a transaction that dropped a schema whose tables it had filled.
create schema if not exists eval_train;

-- The training copy sees only the train ratings, and the tags known when they were made;
-- what depends on neither (movies, settings, model definitions) is read from main.
create or replace table eval_train.ratings as
select user_id, movie_id, rating, rated_at
from eval_split
where not is_test;

create or replace view eval_train.movies as select * from main.movies;

create or replace view eval_train.recsys_params as select * from main.recsys_params;

create or replace view eval_train.knn_models as select * from main.knn_models;

create or replace view eval_train.ranking_models as select * from main.ranking_models;

-- A tag is known at training time when it is not on a held-out pair and was applied
-- no later than its user's last train rating (tags of the test period would leak it
-- into the content model). The content layers compute their TF-IDF vectors and
-- neighbours again from these (movie_terms, movie_tag_terms: filled by the plan).
create or replace table eval_train.tags as
select t.user_id, t.movie_id, t.tag, t.tagged_at
from main.tags as t
inner join (
    select r.user_id, max(r.rated_at) as last_rated_at
    from eval_train.ratings as r
    group by r.user_id
) as u on u.user_id = t.user_id and t.tagged_at <= u.last_rated_at
where not exists (
    select 1
    from eval_split as s
    where s.is_test and s.user_id = t.user_id and s.movie_id = t.movie_id
);

create or replace table eval_train.movie_terms as select * from main.movie_terms where false;

create or replace table eval_train.movie_tag_terms as
select * from main.movie_tag_terms where false;

-- The k-NN predictors predict the held-out pairs.
create or replace table eval_train.knn_requests as
select user_id, movie_id
from eval_split
where is_test;
