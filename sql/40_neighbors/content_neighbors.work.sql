-- content_neighbors (work): cut into batches by sql/steps/pipeline/batches.sql. The work
-- of each content profile (content_profiles, positioned by profile_id): its rows of
-- content_profile_similarity's self-join (for each feature of the profile, the
-- profiles that share it).
create or replace temp table _recsys_batch_work as
with profile_features as (
    select f.movie_id as profile_id, f.feature
    from content_features as f
    inner join content_profiles as p
        on p.movie_id = f.movie_id
        and p.profile_id = f.movie_id
),
feature_counts as (
    select feature, count(*) as n_profiles
    from profile_features
    group by feature
)
select f.profile_id as position, sum(c.n_profiles) as work
from profile_features as f
inner join feature_counts as c on c.feature = f.feature
group by f.profile_id;
