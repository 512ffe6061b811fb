-- prepare: a step of recsys_duck.content; the staging table of the batches.
create or replace temp table _recsys_content_neighbors (
    movie_id integer not null,
    neighbor_id integer not null,
    similarity double,
    n_common bigint not null,
    rank bigint not null
);
