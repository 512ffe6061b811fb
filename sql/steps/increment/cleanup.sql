-- cleanup: a step of recsys_duck.increment; drops its temporary tables.
drop table if exists _recsys_new_ratings;

drop table if exists _recsys_item_pair_deltas;

drop table if exists _recsys_user_pair_deltas;

drop table if exists _recsys_affected_movies;

drop table if exists _recsys_affected_users;
