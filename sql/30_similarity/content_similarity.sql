-- content_similarity: one row per ordered pair of distinct movies whose stacked
-- content vectors (content_features) share at least one feature.
-- Cosine similarity over the stacked vector x = [0.6 * genre_tfidf, 0.4 * tag_tfidf]:
--   sim(i, j) = min(1, sum_f x_if * x_jf / ( sqrt(sum_f x_if^2) * sqrt(sum_f x_jf^2) ))
-- (the min: two equal vectors give 1.0000000000000002 in floating point; a cosine is <= 1).
-- n_common is the number of shared features. rank_key orders one movie's neighbours as
-- item_similarity.rank_key does (similarity to 12 places, then the smaller id).
-- Movies of equal vectors share a content profile (content_profiles), so the pairs are
-- those of content_profile_similarity, which computes the formula once per pair of
-- profiles, expanded to their movies (i in profile P, j in profile Q, i <> j).
create or replace view content_similarity as
select
    a.movie_id,
    b.movie_id as neighbor_id,
    s.n_common,
    s.similarity,
    cast(round(s.similarity * 1e12) as bigint) * 4194304 - b.movie_id as rank_key
from content_profile_similarity as s
inner join content_profiles as a on a.profile_id = s.profile_id
inner join content_profiles as b on b.profile_id = s.neighbor_profile_id
where a.movie_id <> b.movie_id;
