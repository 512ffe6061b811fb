-- popularity_scores: the popularity baseline for ranking comparisons. One row per user
-- and movie the user has not rated that can make the user's top
-- recsys_params.n_recommendations by popularity: score = n_ratings of the movie, in
-- the order of movie_popularity (equal counts by the smaller movie_id). Only the first n_recommendations + n_ratings(u)
-- movies of the order are candidates for user u: u rated at most n_ratings(u) of them,
-- so the unrated top n_recommendations are always among them (no user x movie product).
create or replace view popularity_scores as
select
    u.user_id,
    m.movie_id,
    cast(m.n_ratings as double) as score,
    m.popularity_rank
from user_stats as u
inner join movie_popularity as m
    on m.popularity_rank <= u.n_ratings + (select p.n_recommendations from recsys_params as p)
where not exists (
    select 1
    from ratings as r
    where r.user_id = u.user_id and r.movie_id = m.movie_id
);
