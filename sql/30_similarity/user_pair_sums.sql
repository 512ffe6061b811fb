-- user_pair_sums: one row per unordered pair of users (user_id < neighbor_id) who rated
-- at least one movie in common:
--   n_common    = |I(u) & I(v)|, the movies both users rated
--   dot_product = sum over i in I(u) & I(v) of r_ui * r_vi
-- Created empty here and filled like item_pair_sums (user_pair_sums.batch.sql,
-- user_pair_sums.work.sql, user_pair_sums.increment.sql); exact in any order of addition.
create or replace table user_pair_sums (
    user_id integer not null,
    neighbor_id integer not null,
    n_common bigint not null,
    dot_product double not null
);
