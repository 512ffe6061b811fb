-- item_neighbors (cleanup): drops the scope of item_neighbors.refresh.sql, whether the
-- ranking succeeded or not.
drop table if exists _recsys_refresh_movies;
