-- replace_tables: a step of recsys_duck.loader, run once every file has passed its
-- checks. Empties movies, ratings, tags and links and refills them from the staging
-- tables (one row per staged record). Rows go in in file order.
delete from movies;

delete from ratings;

delete from tags;

delete from links;

-- year: the title's trailing "(YYYY)", trailing spaces allowed.
insert into movies (movie_id, title, genres, year)
select movie_id, title, genres,
    cast(nullif(regexp_extract(title, '\((\d{4})\)\s*$', 1), '') as integer) as year
from _recsys_load_movies
order by record_no;

-- Unix seconds become a TIMESTAMP in UTC: make_timestamp takes microseconds and
-- involves no time zone.
insert into ratings (user_id, movie_id, rating, rated_at)
select user_id, movie_id, rating, make_timestamp(epoch_seconds * 1000000) as rated_at
from _recsys_load_ratings
order by record_no;

insert into tags (user_id, movie_id, tag, tagged_at)
select user_id, movie_id, tag, make_timestamp(epoch_seconds * 1000000) as tagged_at
from _recsys_load_tags
order by record_no;

insert into links (movie_id, imdb_id, tmdb_id)
select movie_id, imdb_id, tmdb_id
from _recsys_load_links
order by record_no;
