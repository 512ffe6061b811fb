-- recommend_user_based(user_id, n := 10, n_similar_users := 5): the user's top n unrated
-- movies by user-based collaborative filtering, one row per movie, ordered by score
-- (to 10 decimal places) then movie_id. With N(u) the n_similar_users most similar
-- other users (user_neighbors), keeping those with similarity > 0, and N_i(u) the ones
-- who rated movie i (as user_based_predictions):
--   score(u, i)            = sum_{v in N_i(u)} sim(u, v) * r_vi
--   predicted_rating(u, i) = sum_{v in N_i(u)} sim(u, v) * r_vi / sum_{v in N_i(u)} sim(u, v)
-- The seed ranked by predicted_rating; that list is the user's rows of
-- user_based_predictions ordered by predicted_rating.
-- Example: select * from recommend_user_based(1, n := 5);
create or replace macro recommend_user_based(target_user_id, n := 10, n_similar_users := 5) as table
with checked as (
    -- Raises for an unknown user, too many neighbours or neighbours not built. Kept out
    -- of the filter below so that the user filter is a constant DuckDB pushes into the
    -- scan (2 s -> 10 ms).
    select
        user_id_of(target_user_id) as checked_user_id,
        stored_k_at_least(n_similar_users, kind := 'user') as checked_k
),
predictions as (
    select
        c.movie_id,
        sum(c.similarity * c.rating) as score,
        sum(c.similarity * c.rating) / nullif(sum(c.similarity), 0) as predicted_rating
    from user_based_candidates as c
    where c.user_id = target_user_id
        and c.neighbor_rank <= n_similar_users
    group by c.movie_id
),
top_n as (
    -- The top n before the titles: only n rows of movies are read.
    select p.movie_id, p.score, p.predicted_rating
    from checked as k
    inner join predictions as p on p.predicted_rating is not null
    where k.checked_user_id is not null
        and k.checked_k is not null
    order by round(p.score, 10) desc, p.movie_id asc
    limit n
)
select
    t.movie_id,
    m.title,
    m.genres,
    t.score,
    t.predicted_rating
from top_n as t
inner join movies as m on m.movie_id = t.movie_id
order by round(t.score, 10) desc, t.movie_id asc;
