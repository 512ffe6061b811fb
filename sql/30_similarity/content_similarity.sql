-- content_similarity: one row per ordered pair of distinct movies whose stacked
-- content vectors (content_features) share at least one feature.
-- Cosine similarity over the stacked vector x = [0.6 * genre_tfidf, 0.4 * tag_tfidf]:
--   sim(i, j) = min(1, sum_f x_if * x_jf / ( sqrt(sum_f x_if^2) * sqrt(sum_f x_jf^2) ))
-- (the min: two equal vectors give 1.0000000000000002 in floating point; a cosine is <= 1).
-- n_common is the number of shared features. rank_key orders one movie's neighbours as
-- item_similarity.rank_key does (similarity to 12 places, then the smaller id).
-- Both directions of a pair are joined and summed (rather than one direction mirrored)
-- so that a filter on movie_id reaches the self-join: the build computes
-- content_neighbors in batches of movies this way (recsys_duck.content), each batch
-- joining only its movies' features, which bounds its memory (25M-sized data: 59,000
-- movies, hundreds of millions of pairs).
create or replace view content_similarity as
with norms as (
    select movie_id, sqrt(sum(value * value)) as feature_norm
    from content_features
    group by movie_id
),
ordered_pairs as (
    select
        a.movie_id as movie_id,
        b.movie_id as neighbor_id,
        count(*) as n_common,
        sum(a.value * b.value) as dot_product
    from content_features as a
    inner join content_features as b
        on a.feature = b.feature
        and a.movie_id <> b.movie_id
    group by a.movie_id, b.movie_id
),
similarities as (
    select
        p.movie_id,
        p.neighbor_id,
        p.n_common,
        least(p.dot_product / nullif(na.feature_norm * nb.feature_norm, 0), 1.0) as similarity
    from ordered_pairs as p
    inner join norms as na on na.movie_id = p.movie_id
    inner join norms as nb on nb.movie_id = p.neighbor_id
)
select
    movie_id,
    neighbor_id,
    n_common,
    similarity,
    cast(round(similarity * 1e12) as bigint) * 4194304 - neighbor_id as rank_key
from similarities;
