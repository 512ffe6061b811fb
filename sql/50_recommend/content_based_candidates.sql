-- content_based_candidates: one row per (user_id, movie_id, source_movie_id) where the user rated
-- source_movie_id, movie_id is one of its stored neighbours by content cosine (content_neighbors),
-- and the user has not rated movie_id.
create or replace view content_based_candidates as
select
    r.user_id,
    n.neighbor_id as movie_id,
    r.movie_id as source_movie_id,
    n.rank as neighbor_rank,
    n.similarity,
    r.rating
from ratings as r
inner join content_neighbors as n on n.movie_id = r.movie_id
where not exists (
    select 1
    from ratings as seen
    where seen.user_id = r.user_id
        and seen.movie_id = n.neighbor_id
);
