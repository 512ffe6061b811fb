-- item_based_candidates: one row per (user_id, movie_id, source_movie_id) where the user rated
-- source_movie_id, movie_id is one of its stored neighbours by item-item cosine (item_neighbors),
-- and the user has not rated movie_id (no row in ratings: a LEFT JOIN ... IS NULL, which
-- DuckDB plans as a plain hash join with the user filter pushed to both sides, where
-- NOT EXISTS became a delim join: 5.0 -> 3.8 ms per user at 10M ratings).
create or replace view item_based_candidates as
select
    r.user_id,
    n.neighbor_id as movie_id,
    r.movie_id as source_movie_id,
    n.rank as neighbor_rank,
    n.similarity,
    r.rating
from ratings as r
inner join item_neighbors as n on n.movie_id = r.movie_id
left join ratings as seen on seen.user_id = r.user_id and seen.movie_id = n.neighbor_id
where seen.movie_id is null;
