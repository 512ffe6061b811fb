-- prepare_evaluation: a step, not a layer. recsys_duck.evaluation runs it with $split
-- ('holdout' or 'temporal') bound, before it re-applies the rating layers (20..60) in
-- schema eval_train so that every model there is trained on the split's train part only.

-- eval_split: one row per rating of the chosen split, is_test marking the held-out part.
create or replace table eval_split as
select user_id, movie_id, rating, rated_at, is_test
from holdout_split
where $split = 'holdout'
union all
select user_id, movie_id, rating, rated_at, is_test
from temporal_split
where $split = 'temporal';

drop schema if exists eval_train cascade;

create schema eval_train;

-- The training copy sees only the train ratings; what does not depend on ratings
-- (movies, settings, content neighbours) is read from the main schema.
create table eval_train.ratings as
select user_id, movie_id, rating, rated_at
from eval_split
where not is_test;

create view eval_train.movies as select * from main.movies;

create view eval_train.recsys_params as select * from main.recsys_params;

create view eval_train.content_neighbors as select * from main.content_neighbors;
