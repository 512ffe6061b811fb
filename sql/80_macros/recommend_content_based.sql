-- recommend_content_based(user_id, n := 10, n_neighbors := 10): the user's top n unrated
-- movies by content-based filtering, one row per movie, ordered by score (to 10
-- decimal places) then movie_id. For each movie i the user rated, take i's
-- n_neighbors most similar movies (content_neighbors, TF-IDF of genres and tags);
-- each one j the user has not rated scores
--   score(u, j) = sum over those i of r_ui * sim(i, j)
-- Example: select * from recommend_content_based(1, n := 5);
create or replace macro recommend_content_based(target_user_id, n := 10, n_neighbors := 10) as table
with checked as (
    -- Raises for an unknown user, too many neighbours or neighbours not built; kept
    -- out of the filter below so that the user filter is a constant DuckDB pushes into
    -- the scan.
    select
        user_id_of(target_user_id) as checked_user_id,
        stored_k_at_least(n_neighbors, kind := 'content') as checked_k
),
scores as (
    select
        c.movie_id,
        sum(c.rating * c.similarity) as score
    from content_based_candidates as c
    where c.user_id = target_user_id
        and c.neighbor_rank <= n_neighbors
    group by c.movie_id
),
top_n as (
    -- The top n before the titles: only n rows of movies are read.
    select s.movie_id, s.score
    from checked as k
    inner join scores as s on s.score is not null
    where k.checked_user_id is not null
        and k.checked_k is not null
    order by round(s.score, 10) desc, s.movie_id asc
    limit n
)
select
    t.movie_id,
    m.title,
    m.genres,
    t.score
from top_n as t
inner join movies as m on m.movie_id = t.movie_id
order by round(t.score, 10) desc, t.movie_id asc;
