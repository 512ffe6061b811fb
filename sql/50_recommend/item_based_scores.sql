-- item_based_scores: one row per (user_id, movie_id) the user has not rated that is among the
-- recsys_params.n_item_neighbors nearest neighbours (item_neighbors) of at least one movie
-- the user rated. With S_j(u) those rated movies i:
--   score(u, j)            = sum_{i in S_j(u)} r_ui * sim(i, j)
--   predicted_rating(u, j) = sum_{i in S_j(u)} r_ui * sim(i, j) / sum_{i in S_j(u)} sim(i, j)
-- score ranks recommendations; predicted_rating is the rating prediction evaluated by
-- RMSE/MAE. n_sources = |S_j(u)|.
create or replace view item_based_scores as
select
    c.user_id,
    c.movie_id,
    sum(c.rating * c.similarity) as score,
    sum(c.rating * c.similarity) / nullif(sum(c.similarity), 0) as predicted_rating,
    count(*) as n_sources
from item_based_candidates as c
where c.neighbor_rank <= (select p.n_item_neighbors from recsys_params as p)
group by c.user_id, c.movie_id;
