-- insert_ratings: a step of recsys_duck.increment, run after the pair deltas are
-- computed from the old ratings: adds the new ratings to the ratings table.
insert into ratings (user_id, movie_id, rating, rated_at)
select user_id, movie_id, rating, rated_at from _recsys_new_ratings;
