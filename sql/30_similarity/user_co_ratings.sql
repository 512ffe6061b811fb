-- user_co_ratings: one row per ordered pair of distinct users (user_id, neighbor_id)
-- who rated at least one movie in common; both orders are present.
--   n_common    = |I(u) & I(v)|, the movies both users rated
--   dot_product = sum over i in I(u) & I(v) of r_ui * r_vi
-- Stored once per unordered pair in the table user_pair_sums (see user_pair_sums.sql) and
-- mirrored here.
create or replace view user_co_ratings as
select user_id, neighbor_id, n_common, dot_product from user_pair_sums
union all
select neighbor_id as user_id, user_id as neighbor_id, n_common, dot_product
from user_pair_sums;
