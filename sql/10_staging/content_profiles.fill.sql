-- content_profiles (fill): groups the movies of content_features by their content vector.
-- Movies are first grouped by a fingerprint of their features (the feature count and two
-- sums of hashes of (feature, value)); each movie is then checked against the smallest
-- movie of its group, feature by feature and value by value: equal vectors share the
-- group's profile, and a movie that only collided on the fingerprint is a profile of its
-- own. So a profile never holds two different vectors, whatever the hash function of the
-- engine (a collision costs sharing, never exactness).
insert into content_profiles (movie_id, profile_id, member_rank, n_members)
with fingerprints as (
    select
        f.movie_id,
        count(*) as n_features,
        sum(hash(f.feature, f.value) % 1099511627776) as fingerprint_a,
        sum(hash(f.value, f.feature) % 1099511627776) as fingerprint_b
    from content_features as f
    group by f.movie_id
),
candidates as (
    select
        p.movie_id,
        p.n_features,
        min(p.movie_id) over (
            partition by p.n_features, p.fingerprint_a, p.fingerprint_b
        ) as candidate_id
    from fingerprints as p
),
matched as (
    -- the features of each movie that its candidate has with the same value
    select c.movie_id, count(*) as n_matched
    from candidates as c
    inner join content_features as f on f.movie_id = c.movie_id
    inner join content_features as r
        on r.movie_id = c.candidate_id
        and r.feature = f.feature
        and r.value = f.value
    group by c.movie_id
),
profiles as (
    select
        c.movie_id,
        case when m.n_matched = c.n_features then c.candidate_id else c.movie_id end as profile_id
    from candidates as c
    left join matched as m on m.movie_id = c.movie_id
)
select
    p.movie_id,
    p.profile_id,
    row_number() over (partition by p.profile_id order by p.movie_id) as member_rank,
    count(*) over (partition by p.profile_id) as n_members
from profiles as p;
