-- item_neighbors (cleanup): drops the scope of item_neighbors.refresh.sql and the
-- temporary tables of item_neighbors.patch.sql, whether the ranking succeeded or not.
drop table if exists _recsys_refresh_movies;

drop table if exists _recsys_rerated_movies;

drop table if exists _recsys_movie_norms;

drop table if exists _recsys_patch_candidates;

drop table if exists _recsys_patched_neighbors;
