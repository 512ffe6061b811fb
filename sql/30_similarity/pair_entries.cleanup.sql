-- pair_entries (cleanup): run by recsys_duck.pairs after the batches; drops the
-- temporary tables of pair_entries.prepare.sql.
drop table if exists _recsys_pair_entries;

drop table if exists _recsys_movie_index;

drop table if exists _recsys_user_index;
