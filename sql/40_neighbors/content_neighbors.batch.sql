-- content_neighbors (one batch): run once per range [$lo, $hi) of profile_ids
-- (content_profiles). Stages the top $neighbors_k (k) neighbours of the movies of the
-- range's profiles, by content_similarity.rank_key
--   rank_key = round(sim * 1e12) * 2^22 - neighbor_id  (similarity to 12 places, then
--   the smaller id),
-- from the similarities between profiles (content_profile_similarity; the filter on
-- profile_id reaches its self-join). For a profile P:
-- * the movies of a neighbouring profile Q all tie on similarity, so only Q's k + 1
--   smallest movie_ids (member_rank <= k + 1) can be chosen; P's k + 1 nearest profiles
--   (by the same key over profile ids) hold at least k + 1 such movies, and a profile
--   less similar than the one at which they first do (thresholds) cannot place one;
-- * the top k + 1 candidate movies of P are ranked once (candidate_rank, by rank_key, so
--   profiles of tied similarity interleave by movie_id);
-- * a movie i of P takes that list without itself: rank = candidate_rank, less one after
--   i's own place in the list (own_rank), kept up to k.
insert into _recsys_content_neighbors (movie_id, neighbor_id, similarity, n_common, rank)
with profile_pairs as (
    select
        s.profile_id,
        s.neighbor_profile_id,
        s.similarity,
        s.n_common,
        s.similarity_key,
        cast(round(s.similarity * 1e12) as bigint) * 4194304 - s.neighbor_profile_id as rank_key
    from content_profile_similarity as s
    where s.profile_id >= $lo and s.profile_id < $hi
),
ranked_pairs as (
    select
        p.profile_id,
        p.neighbor_profile_id,
        p.similarity_key,
        p.rank_key,
        row_number() over (partition by p.profile_id order by p.rank_key desc) as profile_rank
    from profile_pairs as p
),
nearest as (
    -- the k + 1 most similar profiles of each profile
    select r.profile_id, r.neighbor_profile_id, r.similarity_key, r.rank_key
    from ranked_pairs as r
    where r.profile_rank <= $neighbors_k + 1
),
covering as (
    -- n_before: the candidates of the nearer profiles, each giving at least one and at
    -- most k + 1 (its k + 1 smallest movie_ids)
    select
        n.profile_id,
        n.similarity_key,
        sum(least(q.n_members, $neighbors_k + 1)) over (
            partition by n.profile_id
            order by n.rank_key desc
            rows between unbounded preceding and 1 preceding
        ) as n_before
    from nearest as n
    inner join content_profiles as q on q.movie_id = n.neighbor_profile_id
),
thresholds as (
    -- the similarity at which the nearest profiles first hold k + 1 candidates: a
    -- profile less similar than that cannot place a movie in the top k + 1
    select c.profile_id, min(c.similarity_key) as min_similarity_key
    from covering as c
    where coalesce(c.n_before, 0) < $neighbors_k + 1
    group by c.profile_id
),
candidate_keys as (
    select
        p.profile_id,
        m.movie_id as neighbor_id,
        p.similarity,
        p.n_common,
        cast(round(p.similarity * 1e12) as bigint) * 4194304 - m.movie_id as rank_key
    from profile_pairs as p
    inner join thresholds as t
        on t.profile_id = p.profile_id
        and p.similarity_key >= t.min_similarity_key
    inner join content_profiles as m
        on m.profile_id = p.neighbor_profile_id
        and m.member_rank <= $neighbors_k + 1
),
candidates as (
    select
        c.profile_id,
        c.neighbor_id,
        c.similarity,
        c.n_common,
        row_number() over (partition by c.profile_id order by c.rank_key desc) as candidate_rank
    from candidate_keys as c
),
listed as (
    select c.profile_id, c.neighbor_id, c.similarity, c.n_common, c.candidate_rank
    from candidates as c
    where c.candidate_rank <= $neighbors_k + 1
),
expanded as (
    select
        i.movie_id,
        l.neighbor_id,
        l.similarity,
        l.n_common,
        l.candidate_rank,
        min(case when l.neighbor_id = i.movie_id then l.candidate_rank end)
            over (partition by i.movie_id) as own_rank
    from content_profiles as i
    inner join listed as l on l.profile_id = i.profile_id
    where i.profile_id >= $lo and i.profile_id < $hi
),
ranked as (
    select
        e.movie_id,
        e.neighbor_id,
        e.similarity,
        e.n_common,
        e.candidate_rank - case when e.own_rank < e.candidate_rank then 1 else 0 end as rank
    from expanded as e
    where e.neighbor_id <> e.movie_id
)
select r.movie_id, r.neighbor_id, r.similarity, r.n_common, r.rank
from ranked as r
where r.rank <= $neighbors_k;
