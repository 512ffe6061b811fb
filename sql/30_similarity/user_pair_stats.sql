-- user_pair_stats: one row per unordered pair of users who rated a common movie
-- (user_id < other_user_id), with the sums over the C = movies both rated that the k-NN
-- similarities of knn_pair_similarity are made of (x = the user_id side, y = the other):
--   n_common = |C|, sum_xy = sum_C r_x r_y, sum_xx = sum_C r_x^2, sum_yy = sum_C r_y^2,
--   sum_x = sum_C r_x, sum_y = sum_C r_y, sum_sq_diff = sum_C (r_x - r_y)^2,
--   sum_exy, sum_exx, sum_eyy: the same products of baseline residuals e (knn_ratings).
-- Only the pairs with an id in knn_pair_scope (based = 'user'): every pair, unless a
-- query shadows the scope. The pairs come in two parts, the first id in the scope, and
-- only the second, so that the scope filters the ratings before the join, not the join's
-- rows after it (a small scope reads a small part of the join). A view: it is as large
-- as the co-rating join, so it is computed where it is used (the evaluation materialises
-- it once per fold).
create or replace view user_pair_stats as
with rating_pairs as (
    select
        a.user_id as x_id,
        b.user_id as y_id,
        a.rating as r_x,
        b.rating as r_y,
        a.residual as e_x,
        b.residual as e_y
    from knn_ratings as a
    inner join knn_ratings as b
        on b.movie_id = a.movie_id
        and b.user_id > a.user_id
    where a.user_id in (select s.id from knn_pair_scope as s where s.based = 'user')
    union all
    select
        a.user_id as x_id,
        b.user_id as y_id,
        a.rating as r_x,
        b.rating as r_y,
        a.residual as e_x,
        b.residual as e_y
    from knn_ratings as a
    inner join knn_ratings as b
        on b.movie_id = a.movie_id
        and b.user_id > a.user_id
    where b.user_id in (select s.id from knn_pair_scope as s where s.based = 'user')
        and a.user_id not in (select s.id from knn_pair_scope as s where s.based = 'user')
)
select
    p.x_id as user_id,
    p.y_id as other_user_id,
    count(*) as n_common,
    sum(p.r_x * p.r_y) as sum_xy,
    sum(p.r_x * p.r_x) as sum_xx,
    sum(p.r_y * p.r_y) as sum_yy,
    sum(p.r_x) as sum_x,
    sum(p.r_y) as sum_y,
    sum((p.r_x - p.r_y) * (p.r_x - p.r_y)) as sum_sq_diff,
    sum(p.e_x * p.e_y) as sum_exy,
    sum(p.e_x * p.e_x) as sum_exx,
    sum(p.e_y * p.e_y) as sum_eyy
from rating_pairs as p
group by p.x_id, p.y_id;
