-- content_neighbors (one batch): run once per range [$lo, $hi) of movie_ids. Stages the
-- top $neighbors_k neighbours of the range's movies by content_similarity.rank_key: the
-- filter on movie_id reaches the view's self-join, so a batch joins only its own movies'
-- features.
insert into _recsys_content_neighbors (movie_id, neighbor_id, similarity, n_common, rank)
with ranked as (
    select
        s.movie_id,
        s.neighbor_id,
        s.similarity,
        s.n_common,
        row_number() over (partition by s.movie_id order by s.rank_key desc) as rank
    from content_similarity as s
    where s.movie_id >= $lo and s.movie_id < $hi
)
select r.movie_id, r.neighbor_id, r.similarity, r.n_common, r.rank
from ranked as r
where r.rank <= $neighbors_k;
