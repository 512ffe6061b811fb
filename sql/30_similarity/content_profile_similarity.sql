-- content_profile_similarity: one row per ordered pair of content profiles
-- (content_profiles) whose content vectors share at least one feature, a profile paired
-- with itself included (two movies of one profile are neighbours at that similarity).
-- A profile's vector is the content_features of its own movie (movie_id = profile_id).
-- Cosine similarity over the stacked vector x = [0.6 * genre_tfidf, 0.4 * tag_tfidf]:
--   sim(P, Q) = min(1, sum_f x_Pf * x_Qf / ( sqrt(sum_f x_Pf^2) * sqrt(sum_f x_Qf^2) ))
-- (the min: two equal vectors give 1.0000000000000002 in floating point; a cosine is <= 1).
-- n_common is the number of shared features; similarity_key the similarity to 12
-- places as an integer, the first part of content_similarity.rank_key. Both directions
-- of a pair are joined and summed, so a filter on profile_id reaches the self-join (the
-- build ranks content_neighbors in batches of profiles this way).
create or replace view content_profile_similarity as
with profile_features as (
    select f.movie_id as profile_id, f.feature, f.value
    from content_features as f
    inner join content_profiles as p
        on p.movie_id = f.movie_id
        and p.profile_id = f.movie_id
),
norms as (
    select profile_id, sqrt(sum(value * value)) as feature_norm
    from profile_features
    group by profile_id
),
ordered_pairs as (
    select
        a.profile_id as profile_id,
        b.profile_id as neighbor_profile_id,
        count(*) as n_common,
        sum(a.value * b.value) as dot_product
    from profile_features as a
    inner join profile_features as b on a.feature = b.feature
    group by a.profile_id, b.profile_id
),
similarities as (
    select
        p.profile_id,
        p.neighbor_profile_id,
        p.n_common,
        least(p.dot_product / nullif(na.feature_norm * nb.feature_norm, 0), 1.0) as similarity
    from ordered_pairs as p
    inner join norms as na on na.profile_id = p.profile_id
    inner join norms as nb on nb.profile_id = p.neighbor_profile_id
)
select
    profile_id,
    neighbor_profile_id,
    n_common,
    similarity,
    cast(round(similarity * 1e12) as bigint) as similarity_key
from similarities;
