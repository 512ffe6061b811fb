-- cleanup: a step of recsys_duck.pairs; drops the temporary tables of prepare.
drop table if exists _recsys_pair_entries;

drop table if exists _recsys_movie_index;

drop table if exists _recsys_user_index;
