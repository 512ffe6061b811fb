-- item_neighbors (refresh): replaces the rows of the movies in _recsys_refresh_movies
-- (the scope: every movie at a build, see item_neighbors.scope.sql; the movies whose
-- similarities changed at add-ratings, see item_pair_sums.increment.sql) with their top
-- $neighbors_k by item_similarity.rank_key. The scope filter comes before the ranking.
-- The ranking carries only the ids, so DuckDB's top-k aggregate holds two integers a
-- pair; the winners' similarity is then recomputed from their pair sums and norms by
-- item_pair_similarity's formula (the same bits). Rows go in by rank, then movie, so
-- that requests for rank <= k skip the deeper ranks' row groups (bench/results/plans_10M.md).
delete from item_neighbors
where movie_id in (select s.movie_id from _recsys_refresh_movies as s);

insert into item_neighbors (movie_id, neighbor_id, similarity, n_common, rank)
with ranked as (
    select
        s.movie_id,
        s.neighbor_id,
        row_number() over (partition by s.movie_id order by s.rank_key desc) as rank
    from item_similarity as s
    semi join _recsys_refresh_movies as a on a.movie_id = s.movie_id
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
