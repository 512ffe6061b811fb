-- item_co_ratings: one row per ordered pair of distinct movies (movie_id, neighbor_id)
-- that at least one user rated both of; both orders are present.
--   n_common    = |U(i) & U(j)|, the users who rated both movies
--   dot_product = sum over u in U(i) & U(j) of r_ui * r_uj
-- The sums are stored once per unordered pair in the table item_pair_sums (filled by
-- the build in batches, see item_pair_sums.sql, and kept up to date by add-ratings) and
-- mirrored here, so no dense user x movie matrix is ever formed.
create or replace view item_co_ratings as
select movie_id, neighbor_id, n_common, dot_product from item_pair_sums
union all
select neighbor_id as movie_id, movie_id as neighbor_id, n_common, dot_product
from item_pair_sums;
