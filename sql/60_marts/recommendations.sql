-- recommendations: one row per (method, user_id, rank), the top
-- recsys_params.n_recommendations movies of every user by each method, for BI tools
-- that cannot call macros:
--   user_based    ranked by user_based_predictions.score
--   item_based    ranked by item_based_scores.score
--   content_based ranked by content_based_scores.score
--   popularity    ranked by popularity_scores.score (the movie's number of ratings)
--   and every ranking method of ranking_models (item_knn, rp3beta, item_ridge, ...),
--                 ranked by item_weight_scores.score
-- Equal scores (to 10 decimal places) are ordered by the smaller movie_id. Movies the
-- user rated never appear. Created empty here; the plan fills it once per batch of users
-- (recommendations.batch.sql over the ranges recommendations.work.sql cuts): ranking
-- every user at once held DuckDB's top-n states for all of them in memory it cannot
-- spill (25M ratings ran out of a 6.4 GB memory_limit).
create or replace table recommendations (
    method varchar not null,
    user_id integer not null,
    rank bigint not null,
    movie_id integer not null,
    title varchar,
    genres varchar,
    score double
);
