-- insert_ratings: the load step of the plan's increment scope (recsys_duck.pipeline),
-- run after the loader has checked and staged the new ratings in _recsys_new_ratings:
-- adds them to the ratings table. The pair sums' increments then tell new from old by
-- that staging table.
insert into ratings (user_id, movie_id, rating, rated_at)
select user_id, movie_id, rating, rated_at from _recsys_new_ratings;
