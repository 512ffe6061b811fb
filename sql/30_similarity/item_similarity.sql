-- item_similarity: one row per ordered pair of distinct co-rated movies, both orders of
-- item_pair_similarity (whose comment gives the formula: cosine of the zero-filled
-- rating vectors). Pairs with no common user have similarity 0 and no row. Ratings are
-- positive, so every stored similarity lies in (0, 1].
-- rank_key orders the neighbours of one movie (larger first): the similarity rounded to
-- 12 decimal places, then the smaller neighbor_id, packed in one BIGINT as
-- round(similarity * 1e12) * 2^22 - neighbor_id. Rounding keeps the last-bit noise of
-- mathematically equal similarities (computed from different sums) from deciding
-- between them; one key (ids below 2^22 = 4,194,304, checked by the build, and
-- similarity in [0, 1]) lets DuckDB run row_number() <= k as a top-k aggregate
-- instead of sorting every pair: 1.6x faster on ml-latest-small's 26M movie pairs.
create or replace view item_similarity as
with both_orders as (
    select p.movie_id, p.neighbor_id, p.n_common, p.similarity
    from item_pair_similarity as p
    union all
    select p.neighbor_id as movie_id, p.movie_id as neighbor_id, p.n_common, p.similarity
    from item_pair_similarity as p
)
select
    o.movie_id,
    o.neighbor_id,
    o.n_common,
    o.similarity,
    cast(round(o.similarity * 1e12) as bigint) * 4194304 - o.neighbor_id as rank_key
from both_orders as o;
