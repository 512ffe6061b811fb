-- content_neighbors (prepare): the staging table of the batches, moved into
-- content_neighbors by content_neighbors.finish.sql.
create or replace temp table _recsys_content_neighbors (
    movie_id integer not null,
    neighbor_id integer not null,
    similarity double,
    n_common bigint not null,
    rank bigint not null
);
