-- item_based_scores: one row per (user_id, movie_id) the user has not rated that is among the
-- recsys_params.n_item_neighbors nearest neighbours (item_neighbors) of at least one movie
-- the user rated. With S_j(u) those rated movies i:
--   score(u, j)            = sum_{i in S_j(u)} r_ui * sim(i, j)
--   predicted_rating(u, j) = sum_{i in S_j(u)} r_ui * sim(i, j) / sum_{i in S_j(u)} sim(i, j)
-- score ranks recommendations; predicted_rating is the rating prediction evaluated by
-- RMSE/MAE. n_sources = |S_j(u)|.
-- The neighbours are cut to n_item_neighbors before the join with the ratings (the
-- item_based_candidates view holds all k, for the macros and explanations).
-- Rated movies are removed by LEFT JOIN ... IS NULL, into whose ratings side DuckDB
-- pushes a filter on user_id (an anti join read every rating for each batch of the mart).
create or replace view item_based_scores as
with neighbours as (
    select n.movie_id, n.neighbor_id, n.similarity
    from item_neighbors as n
    inner join recsys_params as p on n.rank <= p.n_item_neighbors
)
select
    r.user_id,
    nb.neighbor_id as movie_id,
    sum(r.rating * nb.similarity) as score,
    sum(r.rating * nb.similarity) / nullif(sum(nb.similarity), 0) as predicted_rating,
    count(*) as n_sources
from ratings as r
inner join neighbours as nb on nb.movie_id = r.movie_id
left join ratings as seen on seen.user_id = r.user_id and seen.movie_id = nb.neighbor_id
where seen.movie_id is null
group by r.user_id, nb.neighbor_id;
