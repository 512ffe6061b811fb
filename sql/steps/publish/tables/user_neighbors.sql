-- user_neighbors: one row per (user_id, neighbor_id), the top-k most similar users of
-- every user by cosine similarity of the rating vectors; rank 1 is the most similar.
create table user_neighbors (
    user_id integer not null,
    neighbor_id integer not null,
    similarity double precision,
    n_common bigint,
    rank bigint not null
);

comment on table user_neighbors is
'one row per (user_id, neighbor_id): the top-k users most similar to user_id by cosine similarity of their ratings, rank 1 first';

-- keys and indexes: created once the rows are in (faster than maintained row by row)
alter table user_neighbors add primary key (user_id, rank);

alter table user_neighbors add unique (user_id, neighbor_id);

create index user_neighbors_neighbor_id_idx on user_neighbors (neighbor_id);
