-- cleanup: run by recsys_duck.increment after add-ratings, whether it succeeded or not;
-- drops the temporary tables of the increment scope.
drop table if exists _recsys_new_ratings;

drop table if exists _recsys_item_pair_deltas;

drop table if exists _recsys_user_pair_deltas;

drop table if exists _recsys_changed_movies;

drop table if exists _recsys_refresh_movies;

drop table if exists _recsys_refresh_users;
