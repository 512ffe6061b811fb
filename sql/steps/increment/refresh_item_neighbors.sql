-- refresh_item_neighbors: a step of recsys_duck.increment. Replaces the rows of
-- item_neighbors of the movies in _recsys_affected_movies with their top $neighbors_k
-- by item_similarity.rank_key, the ranking of sql/40_neighbors/item_neighbors.sql; the
-- filter comes before the ranking, so only the affected movies' pairs are ranked.
-- As there, the winners' similarity is recomputed from their pair sums and norms.
delete from item_neighbors
where movie_id in (select a.movie_id from _recsys_affected_movies as a);

insert into item_neighbors (movie_id, neighbor_id, similarity, n_common, rank)
with ranked as (
    select
        s.movie_id,
        s.neighbor_id,
        row_number() over (partition by s.movie_id order by s.rank_key desc) as rank
    from item_similarity as s
    semi join _recsys_affected_movies as a on a.movie_id = s.movie_id
)
select
    r.movie_id,
    r.neighbor_id,
    p.dot_product / nullif(a.rating_norm * b.rating_norm, 0) as similarity,
    p.n_common,
    r.rank
from ranked as r
inner join item_pair_sums as p
    on p.movie_id = least(r.movie_id, r.neighbor_id)
    and p.neighbor_id = greatest(r.movie_id, r.neighbor_id)
inner join movie_stats as a on a.movie_id = r.movie_id
inner join movie_stats as b on b.movie_id = r.neighbor_id
where r.rank <= $neighbors_k
order by r.rank, r.movie_id;
