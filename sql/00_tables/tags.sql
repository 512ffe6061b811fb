-- tags: one row per tag application of tags.csv (a user may tag a movie many times).
create table if not exists tags (
    user_id integer not null,
    movie_id integer not null,
    tag varchar not null,
    tagged_at timestamp not null
);
