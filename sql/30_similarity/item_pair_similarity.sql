-- item_pair_similarity: one row per unordered pair of co-rated movies (movie_id <
-- neighbor_id), with their cosine similarity; item_similarity mirrors it into both
-- orders. Cosine of the movies' zero-filled rating vectors (what scikit-learn's
-- cosine_similarity gives on a user x movie matrix with missing ratings as 0):
--   sim(i, j) = sum_{u rated both} r_ui * r_uj
--               / ( sqrt(sum_{u rated i} r_ui^2) * sqrt(sum_{u rated j} r_uj^2) )
-- The norms are joined once per unordered pair, before the mirroring (half the lookups
-- of joining them to both orders). sim(i, j) and sim(j, i) are the same bits: the
-- product of the two norms does not depend on their order.
create or replace view item_pair_similarity as
select
    p.movie_id,
    p.neighbor_id,
    p.n_common,
    p.dot_product / nullif(a.rating_norm * b.rating_norm, 0) as similarity
from item_pair_sums as p
inner join movie_stats as a on a.movie_id = p.movie_id
inner join movie_stats as b on b.movie_id = p.neighbor_id;
