-- links: one row per movie, its identifiers on IMDb and TMDB.
-- imdb_id keeps its leading zeros (IMDb URLs are 'tt' || imdb_id); tmdb_id may be NULL.
create table if not exists links (
    movie_id integer primary key,
    imdb_id varchar not null,
    tmdb_id integer
);
