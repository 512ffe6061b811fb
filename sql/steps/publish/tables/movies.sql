-- movies: one row per movie (movie_id), the movies table as published to PostgreSQL.
-- genres keeps MovieLens' pipe-separated text; year is parsed from the title.
create table movies (
    movie_id integer not null,
    title text not null,
    genres text not null,
    year integer
);

comment on table movies is
'one row per movie (movie_id) of MovieLens movies.csv; genres is pipe-separated, year is parsed from the title';

-- keys and indexes: created once the rows are in (faster than maintained row by row)
alter table movies add primary key (movie_id);

create index movies_title_idx on movies (title);
