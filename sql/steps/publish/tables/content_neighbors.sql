-- content_neighbors: one row per (movie_id, neighbor_id), the top-k most similar movies of
-- every movie by TF-IDF cosine similarity of genres and tags; rank 1 is the most similar.
create table content_neighbors (
    movie_id integer not null,
    neighbor_id integer not null,
    similarity double precision,
    n_common bigint,
    rank bigint not null
);

comment on table content_neighbors is
'one row per (movie_id, neighbor_id): the top-k movies most similar to movie_id by TF-IDF cosine similarity of genres and tags, rank 1 first';

-- keys and indexes: created once the rows are in (faster than maintained row by row)
alter table content_neighbors add primary key (movie_id, rank);

alter table content_neighbors add unique (movie_id, neighbor_id);

create index content_neighbors_neighbor_id_idx on content_neighbors (neighbor_id);
