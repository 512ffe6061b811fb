-- _recsys_new_ratings: the checked records of a file of new ratings, typed as the
-- ratings table (rated_at in UTC), for recsys_duck.increment. Temporary; the increment
-- drops it.
create or replace temp table _recsys_new_ratings as
select user_id, movie_id, rating, make_timestamp(epoch_seconds * 1000000) as rated_at
from _recsys_load_ratings
order by record_no;
