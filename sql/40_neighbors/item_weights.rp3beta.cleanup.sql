-- item_weights (rp3beta, cleanup): drops the temporary tables of the walks, also after
-- an error.
drop table if exists _recsys_walk_sums;

drop table if exists _recsys_walk_entries;

drop table if exists _recsys_walk_movies;
