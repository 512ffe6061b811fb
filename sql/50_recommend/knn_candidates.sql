-- knn_candidates: one row per (user_id, movie_id) of a user with ratings and a rated
-- movie (movie_stats) the user has not rated: the candidates a rating predictor ranks
-- for top-N (knn_recommendations). Filter on user_id: only that user's rows are built.
create or replace view knn_candidates as
select u.user_id, m.movie_id
from user_stats as u
cross join movie_stats as m
where not exists (
    select 1
    from ratings as r
    where r.user_id = u.user_id and r.movie_id = m.movie_id
);
