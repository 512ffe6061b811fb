-- baseline_biases: one row per user (kind = 'user', id = user_id) and per rated movie
-- (kind = 'item', id = movie_id) with its bias in the baseline predictor
--   b_ui = mu + b_u + b_i,   mu = mean of all ratings,
-- fitted by alternating least squares as Surprise's BaselineOnly does: biases start at
-- 0 and each of recsys_params.baseline_epochs epochs sets, with lambda_i =
-- baseline_reg_items and lambda_u = baseline_reg_users,
--   b_i = sum_{u in U_i} (r_ui - mu - b_u) / (lambda_i + |U_i|)   for every movie, then
--   b_u = sum_{i in I_u} (r_ui - mu - b_i) / (lambda_u + |I_u|)   for every user.
-- Written as a recursive query over half-epochs: step 0 holds the users' zero biases,
-- odd steps item biases computed from the previous users' biases, even steps user
-- biases computed from the previous items' biases; the last two steps are kept.
-- n_ratings = |U_i| or |I_u|.
create or replace table baseline_biases as
with recursive
settings as (
    select
        (select t.mean_rating from rating_matrix_stats as t) as mu,
        p.baseline_epochs as n_epochs,
        p.baseline_reg_items as reg_items,
        p.baseline_reg_users as reg_users
    from recsys_params as p
),
-- Each rating twice: seen from its user (kind 'user') and from its movie (kind 'item').
edges as (
    select 'user' as kind, user_id as id, movie_id as other_id, rating
    from ratings
    union all
    select 'item' as kind, movie_id as id, user_id as other_id, rating
    from ratings
),
steps (step, kind, id, n_ratings, bias) as (
    select 0, 'user', user_id, count(*), cast(0 as double)
    from ratings
    group by user_id
    union all
    select
        s.step + 1,
        case when s.kind = 'user' then 'item' else 'user' end,
        e.other_id,
        count(*),
        sum(e.rating - c.mu - s.bias)
        / nullif(
            case when s.kind = 'user' then c.reg_items else c.reg_users end + count(*), 0
        )
    from steps as s
    inner join edges as e on e.kind = s.kind and e.id = s.id
    cross join settings as c
    where s.step < 2 * c.n_epochs
    group by s.step, s.kind, e.other_id, c.reg_items, c.reg_users
)
select s.kind, s.id, s.n_ratings, s.bias
from steps as s
cross join settings as c
where s.step >= 2 * c.n_epochs - 1
order by s.kind, s.id;
