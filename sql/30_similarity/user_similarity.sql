-- user_similarity: one row per ordered pair of distinct users with a movie in common,
-- both orders of user_pair_similarity (whose comment gives the formula: cosine of the
-- zero-filled rating vectors).
-- rank_key orders the neighbours of one user (larger first): the similarity rounded to
-- 12 decimal places, then the smaller neighbor_id, packed in one BIGINT as
-- round(similarity * 1e12) * 2^22 - neighbor_id. Rounding keeps the last-bit noise of
-- mathematically equal similarities (computed from different sums) from deciding
-- between them; one key (ids below 2^22 = 4,194,304, checked by the build, and
-- similarity in [0, 1]) lets DuckDB run row_number() <= k as a top-k aggregate
-- instead of sorting every pair: 1.6x faster on ml-latest-small's 26M movie pairs.
create or replace view user_similarity as
with both_orders as (
    select p.user_id, p.neighbor_id, p.n_common, p.similarity
    from user_pair_similarity as p
    union all
    select p.neighbor_id as user_id, p.user_id as neighbor_id, p.n_common, p.similarity
    from user_pair_similarity as p
)
select
    o.user_id,
    o.neighbor_id,
    o.n_common,
    o.similarity,
    cast(round(o.similarity * 1e12) as bigint) * 4194304 - o.neighbor_id as rank_key
from both_orders as o;
