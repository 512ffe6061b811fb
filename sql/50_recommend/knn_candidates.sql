-- knn_candidates: one row per (user_id, movie_id) that a rating predictor of knn_models
-- ranks for the user's top-N (knn_recommendations): the user's top
-- recsys_params.n_rank_candidates movies by item_based_scores' score (movies near what
-- the user rated, unrated by the user; equal scores, to 10 decimal places, by the smaller
-- movie_id). Scoring every unrated movie would cost candidates x the user's ratings
-- rows per user (16 GB and more on ml-latest-small); this bounds it by
-- n_rank_candidates x ratings. Filter on user_id: only that user's rows are built.
create or replace view knn_candidates as
with ranked as (
    select
        s.user_id,
        s.movie_id,
        row_number() over (
            partition by s.user_id
            order by round(s.score, 10) desc, s.movie_id asc
        ) as candidate_rank
    from item_based_scores as s
)
select r.user_id, r.movie_id
from ranked as r
inner join recsys_params as p on r.candidate_rank <= p.n_rank_candidates;
