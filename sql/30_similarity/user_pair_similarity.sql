-- user_pair_similarity: one row per unordered pair of users with a movie in common
-- (user_id < neighbor_id), with their cosine similarity; user_similarity mirrors it
-- into both orders. Cosine of the users' zero-filled rating vectors:
--   sim(u, v) = sum_{i rated by both} r_ui * r_vi
--               / ( sqrt(sum_{i rated by u} r_ui^2) * sqrt(sum_{i rated by v} r_vi^2) )
-- The norms are joined once per unordered pair, before the mirroring; sim(u, v) and
-- sim(v, u) are the same bits.
create or replace view user_pair_similarity as
select
    p.user_id,
    p.neighbor_id,
    p.n_common,
    p.dot_product / nullif(a.rating_norm * b.rating_norm, 0) as similarity
from user_pair_sums as p
inner join user_stats as a on a.user_id = p.user_id
inner join user_stats as b on b.user_id = p.neighbor_id;
