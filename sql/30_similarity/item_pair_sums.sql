-- item_pair_sums: one row per unordered pair of movies (movie_id < neighbor_id) that at
-- least one user rated both:
--   n_common    = |U(i) & U(j)|, the users who rated both movies
--   dot_product = sum over u in U(i) & U(j) of r_ui * r_uj
-- Created empty here; the plan (recsys_duck.pipeline) fills it batch by batch with
-- item_pair_sums.batch.sql over the ranges that item_pair_sums.work.sql cuts (see
-- recsys_duck.pairs for why batches), and add-ratings adds what new ratings contribute
-- with item_pair_sums.increment.sql. Ratings are half stars, so every product is a
-- multiple of 1/4 and every sum is exact in double precision whatever the order of
-- addition: batches, threads and increments give the same bits.
create or replace table item_pair_sums (
    movie_id integer not null,
    neighbor_id integer not null,
    n_common bigint not null,
    dot_product double not null
);
