-- item_neighbors (patch): run by add-ratings after item_pair_sums.increment.sql and
-- before item_neighbors.refresh.sql. Of the movies in _recsys_refresh_movies (the
-- re-rated movies R and every movie paired with one), it patches those whose new top
-- $neighbors_k can be told from their stored one, and leaves the others to be ranked
-- again in full:
-- a movie i outside R keeps every similarity but those with a movie j in R (only j's
-- norm and the dot products with j changed), and every movie outside its stored top k
-- had a rank_key below the stored k-th. So with C(i) = its stored neighbours outside R
-- (as stored) plus every j in R paired with it (similarity by item_pair_similarity's
-- formula, the same bits), the top k of C(i) by rank_key is i's new top k when
--   i had fewer than k stored neighbours (C(i) is then every pair of i), or
--   the k-th rank_key of that top k is at least i's stored k-th rank_key.
-- (rank_key as item_similarity's: round(similarity * 1e12) * 2^22 - neighbor_id.)
-- Patched movies get their new rows and leave _recsys_refresh_movies.
create or replace temp table _recsys_rerated_movies as
select distinct n.movie_id
from _recsys_new_ratings as n;

create or replace temp table _recsys_movie_norms as
select s.movie_id, s.rating_norm
from movie_stats as s;

-- C(i)'s re-rated part: every pair of a movie i outside R with a movie j in R.
create or replace temp table _recsys_patch_candidates as
with crossing as (
    select p.movie_id as movie_id, p.neighbor_id as neighbor_id, p.n_common, p.dot_product,
        p.movie_id as low_id, p.neighbor_id as high_id
    from item_pair_sums as p
    where p.neighbor_id in (select r.movie_id from _recsys_rerated_movies as r)
        and p.movie_id not in (select r.movie_id from _recsys_rerated_movies as r)
    union all
    select p.neighbor_id, p.movie_id, p.n_common, p.dot_product, p.movie_id, p.neighbor_id
    from item_pair_sums as p
    where p.movie_id in (select r.movie_id from _recsys_rerated_movies as r)
        and p.neighbor_id not in (select r.movie_id from _recsys_rerated_movies as r)
)
select
    c.movie_id,
    c.neighbor_id,
    c.n_common,
    c.dot_product / nullif(a.rating_norm * b.rating_norm, 0) as similarity
from crossing as c
inner join _recsys_movie_norms as a on a.movie_id = c.low_id
inner join _recsys_movie_norms as b on b.movie_id = c.high_id;

-- C(i) whole, its top k, and whether that top k is i's new one.
create or replace temp table _recsys_patched_neighbors as
with stored as (
    select n.movie_id, n.neighbor_id, n.similarity, n.n_common, n.rank
    from item_neighbors as n
    where n.movie_id in (select c.movie_id from _recsys_patch_candidates as c)
),
stored_kth as (
    select
        s.movie_id,
        count(*) as n_stored,
        min(cast(round(s.similarity * 1e12) as bigint) * 4194304 - s.neighbor_id) as kth_key
    from stored as s
    group by s.movie_id
),
candidates as (
    select s.movie_id, s.neighbor_id, s.similarity, s.n_common
    from stored as s
    where s.neighbor_id not in (select r.movie_id from _recsys_rerated_movies as r)
    union all
    select c.movie_id, c.neighbor_id, c.similarity, c.n_common
    from _recsys_patch_candidates as c
),
ranked as (
    select
        c.movie_id,
        c.neighbor_id,
        c.similarity,
        c.n_common,
        cast(round(c.similarity * 1e12) as bigint) * 4194304 - c.neighbor_id as rank_key,
        row_number() over (
            partition by c.movie_id
            order by cast(round(c.similarity * 1e12) as bigint) * 4194304 - c.neighbor_id desc
        ) as rank
    from candidates as c
),
top_k as (
    select r.movie_id, r.neighbor_id, r.similarity, r.n_common, r.rank, r.rank_key
    from ranked as r
    where r.rank <= $neighbors_k
),
told as (
    select t.movie_id
    from top_k as t
    left join stored_kth as k on k.movie_id = t.movie_id
    group by t.movie_id, k.n_stored, k.kth_key
    having coalesce(k.n_stored, 0) < $neighbors_k or min(t.rank_key) >= k.kth_key
)
select t.movie_id, t.neighbor_id, t.similarity, t.n_common, t.rank
from top_k as t
where t.movie_id in (select d.movie_id from told as d);

delete from item_neighbors
where movie_id in (select p.movie_id from _recsys_patched_neighbors as p);

insert into item_neighbors (movie_id, neighbor_id, similarity, n_common, rank)
select p.movie_id, p.neighbor_id, p.similarity, p.n_common, p.rank
from _recsys_patched_neighbors as p
order by p.rank, p.movie_id;

delete from _recsys_refresh_movies
where movie_id in (select p.movie_id from _recsys_patched_neighbors as p);
