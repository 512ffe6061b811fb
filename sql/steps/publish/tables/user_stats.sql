-- user_stats: one row per user (user_id) with at least one rating.
create table user_stats (
    user_id integer not null,
    n_ratings bigint not null,
    mean_rating double precision,
    stddev_rating double precision,
    rating_norm double precision,
    first_rated_at timestamp,
    last_rated_at timestamp
);

comment on table user_stats is
'one row per user (user_id) with a rating: n_ratings, mean, sample stddev, L2 norm of the ratings, first and last rating time (UTC)';

-- keys and indexes: created once the rows are in (faster than maintained row by row)
alter table user_stats add primary key (user_id);
