-- movie_stats: one row per movie (movie_id) with at least one rating.
create table movie_stats (
    movie_id integer not null,
    n_ratings bigint not null,
    mean_rating double precision,
    stddev_rating double precision,
    rating_norm double precision
);

comment on table movie_stats is
'one row per movie (movie_id) with a rating: n_ratings, mean, sample stddev and L2 norm of its ratings';

-- keys and indexes: created once the rows are in (faster than maintained row by row)
alter table movie_stats add primary key (movie_id);
