-- item_weights: one row per (model, movie_id, neighbor_id) with the weight w(i, j) by
-- which a rating of movie i (movie_id) scores movie j (neighbor_id) for the ranking
-- method `model` of ranking_models (whose comment gives the score; each algorithm's
-- formula heads its file item_weights.<algorithm>.sql). A pair with no row weighs 0.
-- Created empty here; the plan fills it for every row of ranking_models.
create or replace table item_weights (
    model varchar not null,
    movie_id integer not null,
    neighbor_id integer not null,
    weight double not null
);
