-- user_based_predictions: one row per (user_id, movie_id) the user has not rated and at
-- least one of the user's recsys_params.n_similar_users most similar users (positive
-- similarity only) rated. With N(u) those neighbours and N_i(u) the ones who rated i:
--   predicted_rating(u, i) = sum_{v in N_i(u)} sim(u, v) * r_vi / sum_{v in N_i(u)} sim(u, v)
-- n_neighbors = |N_i(u)|.
create or replace view user_based_predictions as
select
    c.user_id,
    c.movie_id,
    sum(c.similarity * c.rating) / nullif(sum(c.similarity), 0) as predicted_rating,
    count(*) as n_neighbors
from user_based_candidates as c
where c.neighbor_rank <= (select p.n_similar_users from recsys_params as p)
group by c.user_id, c.movie_id;
