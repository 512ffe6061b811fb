-- baseline_biases: one row per user (kind = 'user', id = user_id) and per rated movie
-- (kind = 'item', id = movie_id) with its bias in the baseline predictor
--   b_ui = mu + b_u + b_i,   mu = mean of all ratings,
-- fitted by alternating least squares as Surprise's BaselineOnly does: biases start at
-- 0 and each of recsys_params.baseline_epochs epochs sets, with lambda_i =
-- baseline_reg_items and lambda_u = baseline_reg_users,
--   b_i = sum_{u in U_i} (r_ui - mu - b_u) / (lambda_i + |U_i|)   for every movie, then
--   b_u = sum_{i in I_u} (r_ui - mu - b_i) / (lambda_u + |I_u|)   for every user.
-- n_ratings = |U_i| or |I_u|. Created empty here; the plan fills it epoch by epoch:
-- baseline_biases.prepare.sql sets every user's bias to 0, baseline_biases.epoch.sql
-- runs once per epoch, baseline_biases.finish.sql keeps the last biases. (A loop of
-- statements rather than one recursive query: Spark allows no aggregate over a
-- recursive reference.)
create or replace table baseline_biases (
    kind varchar not null,
    id integer not null,
    n_ratings bigint not null,
    bias double not null
);
