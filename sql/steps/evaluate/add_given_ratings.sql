-- add_given_ratings: a step, not a layer. After recsys_duck.loader has checked one file of
-- a split given as files (its ratings staged in _recsys_load_ratings), appends them to
-- eval_given_ratings as fold $fold's train part ($is_test false) or test part (true).
insert into eval_given_ratings (fold, user_id, movie_id, rating, rated_at, is_test)
select $fold, user_id, movie_id, rating, make_timestamp(epoch_seconds * 1000000), $is_test
from _recsys_load_ratings
order by record_no;
