-- prepare_evaluation: a step, not a layer. recsys_duck.evaluation runs it once per fold
-- with $split ('kfold', 'holdout', 'temporal', 'leave_last_out' or 'given', the files
-- of eval_given_ratings) and $fold (1 for the single splits) bound, before it re-applies the rating layers in schema eval_train so
-- that every model there is trained on the fold's train part only.

-- eval_split: one row per rating, is_test marking the fold's held-out part.
create or replace table eval_split as
select user_id, movie_id, rating, rated_at, is_test
from holdout_split
where $split = 'holdout'
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

-- The training copy sees only the train ratings; what does not depend on ratings
-- (movies, settings, model definitions, content neighbours) is read from main.
create or replace table eval_train.ratings as
select user_id, movie_id, rating, rated_at
from eval_split
where not is_test;

create or replace view eval_train.movies as select * from main.movies;

create or replace view eval_train.recsys_params as select * from main.recsys_params;

create or replace view eval_train.knn_models as select * from main.knn_models;

create or replace view eval_train.ranking_models as select * from main.ranking_models;

create or replace view eval_train.content_neighbors as select * from main.content_neighbors;

-- The k-NN predictors predict the held-out pairs.
create or replace table eval_train.knn_requests as
select user_id, movie_id
from eval_split
where is_test;
