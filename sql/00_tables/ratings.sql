-- ratings: one row per (user_id, movie_id), from ratings.csv.
-- rating is on MovieLens' half-star scale 0.5 .. 5.0; rated_at is UTC.
create table if not exists ratings (
    user_id integer not null,
    movie_id integer not null,
    rating double not null,
    rated_at timestamp not null,
    primary key (user_id, movie_id)
);
