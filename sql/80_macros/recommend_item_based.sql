-- recommend_item_based(user_id, n := 10, n_neighbors := 10): the user's top n unrated
-- movies by item-based collaborative filtering, one row per movie, ordered by score
-- (to 10 decimal places) then movie_id. For each movie i the user rated, take i's
-- n_neighbors most similar movies (item_neighbors, cosine of rating vectors); each
-- one j the user has not rated scores
--   score(u, j) = sum over those i of r_ui * sim(i, j)
-- Example: select * from recommend_item_based(1, n := 5);
create or replace macro recommend_item_based(user_id, n := 10, n_neighbors := 10) as table
with scores as (
    select
        c.movie_id,
        sum(c.rating * c.similarity) as score
    from item_based_candidates as c
    where c.user_id = user_id_of(user_id)
        and c.neighbor_rank <= stored_k_at_least(n_neighbors)
    group by c.movie_id
)
select
    s.movie_id,
    m.title,
    m.genres,
    s.score
from scores as s
inner join movies as m on m.movie_id = s.movie_id
order by round(s.score, 10) desc, s.movie_id asc
limit n;
