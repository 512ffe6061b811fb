-- user_based_predictions: one row per (user_id, movie_id) the user has not rated and at
-- least one of the user's recsys_params.n_similar_users most similar users (positive
-- similarity only) rated. With N(u) those neighbours and N_i(u) the ones who rated i:
--   score(u, i)            = sum_{v in N_i(u)} sim(u, v) * r_vi
--   predicted_rating(u, i) = sum_{v in N_i(u)} sim(u, v) * r_vi / sum_{v in N_i(u)} sim(u, v)
-- score ranks recommendations (it grows with the neighbours who rated i, as
-- item_based's; ranking by predicted_rating, the seed's rule, puts movies with one
-- 5-star neighbour rating first: NDCG@10 0.048 against 0.142 on a validation split of
-- ml-latest-small); predicted_rating is the rating prediction evaluated by RMSE/MAE.
-- n_neighbors = |N_i(u)|.
-- The neighbours are cut to n_similar_users before the join with their ratings (the
-- user_based_candidates view holds all k, for the macros and explanations): on 1M
-- synthetic ratings 16.5 s -> 1.6 s, the filter on a subquery could not be pushed down.
-- Rated movies are removed by LEFT JOIN ... IS NULL, into whose ratings side DuckDB
-- pushes a filter on user_id (an anti join read every rating for each batch of the mart).
create or replace view user_based_predictions as
with neighbours as (
    select n.user_id, n.neighbor_id, n.similarity
    from user_neighbors as n
    inner join recsys_params as p on n.rank <= p.n_similar_users
    where n.similarity > 0
)
select
    nb.user_id,
    r.movie_id,
    sum(nb.similarity * r.rating) as score,
    sum(nb.similarity * r.rating) / nullif(sum(nb.similarity), 0) as predicted_rating,
    count(*) as n_neighbors
from neighbours as nb
inner join ratings as r on r.user_id = nb.neighbor_id
left join ratings as seen on seen.user_id = nb.user_id and seen.movie_id = r.movie_id
where seen.movie_id is null
group by nb.user_id, r.movie_id;
