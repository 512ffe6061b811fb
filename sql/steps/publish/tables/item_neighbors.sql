-- item_neighbors: one row per (movie_id, neighbor_id), the top-k most similar movies of
-- every movie by cosine similarity of the rating vectors; rank 1 is the most similar.
create table item_neighbors (
    movie_id integer not null,
    neighbor_id integer not null,
    similarity double precision,
    n_common bigint,
    rank bigint not null
);

comment on table item_neighbors is
'one row per (movie_id, neighbor_id): the top-k movies most similar to movie_id by cosine similarity of the rating vectors, rank 1 first';

-- keys and indexes: created once the rows are in (faster than maintained row by row)
alter table item_neighbors add primary key (movie_id, rank);

alter table item_neighbors add unique (movie_id, neighbor_id);

create index item_neighbors_neighbor_id_idx on item_neighbors (neighbor_id);
