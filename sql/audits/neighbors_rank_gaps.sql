-- neighbors_rank_gaps: neighbour lists whose ranks are not 1..n without gaps, or whose
-- order breaks "similarity desc (to 12 decimal places), then smaller neighbor_id"
-- (want: none).
with ranked as (
    select
        'item' as kind, movie_id as id, neighbor_id, similarity, rank,
        lag(similarity) over (partition by movie_id order by rank) as previous_similarity,
        lag(neighbor_id) over (partition by movie_id order by rank) as previous_neighbor_id,
        row_number() over (partition by movie_id order by rank) as position
    from item_neighbors
    union all
    select
        'user' as kind, user_id as id, neighbor_id, similarity, rank,
        lag(similarity) over (partition by user_id order by rank),
        lag(neighbor_id) over (partition by user_id order by rank),
        row_number() over (partition by user_id order by rank)
    from user_neighbors
    union all
    select
        'content' as kind, movie_id as id, neighbor_id, similarity, rank,
        lag(similarity) over (partition by movie_id order by rank),
        lag(neighbor_id) over (partition by movie_id order by rank),
        row_number() over (partition by movie_id order by rank)
    from content_neighbors
)
select kind, id, neighbor_id, similarity, rank
from ranked
where rank <> position
    or round(similarity, 12) > round(previous_similarity, 12)
    or (round(similarity, 12) = round(previous_similarity, 12) and neighbor_id < previous_neighbor_id);
