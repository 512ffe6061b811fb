-- drop_temporaries: a step of recsys_duck.loader, run when a load ends (passed or
-- failed). Drops every temporary table the loader creates in the caller's connection.
drop table if exists _recsys_load_raw;

drop table if exists _recsys_load_reject_errors;

drop table if exists _recsys_load_reject_scans;

drop table if exists _recsys_load_movies;

drop table if exists _recsys_load_ratings;

drop table if exists _recsys_load_tags;

drop table if exists _recsys_load_links;

drop table if exists _recsys_load_problems;

drop table if exists _recsys_load_genre_names;

drop table if exists _recsys_load_movie_genres;
