-- user_pair_stats: one row per unordered pair of users who rated a common movie
-- (user_id < other_user_id), with the sums over the C = movies both rated that the k-NN
-- similarities of knn_pair_similarity are made of (x = the user_id side, y = the other):
--   n_common = |C|, sum_xy = sum_C r_x r_y, sum_xx = sum_C r_x^2, sum_yy = sum_C r_y^2,
--   sum_x = sum_C r_x, sum_y = sum_C r_y, sum_sq_diff = sum_C (r_x - r_y)^2,
--   sum_exy, sum_exx, sum_eyy: the same products of baseline residuals e (knn_ratings).
-- A view: it is as large as the co-rating join, so it is computed where it is used
-- (the evaluation materialises it once per fold).
create or replace view user_pair_stats as
select
    a.user_id as user_id,
    b.user_id as other_user_id,
    count(*) as n_common,
    sum(a.rating * b.rating) as sum_xy,
    sum(a.rating * a.rating) as sum_xx,
    sum(b.rating * b.rating) as sum_yy,
    sum(a.rating) as sum_x,
    sum(b.rating) as sum_y,
    sum((a.rating - b.rating) * (a.rating - b.rating)) as sum_sq_diff,
    sum(a.residual * b.residual) as sum_exy,
    sum(a.residual * a.residual) as sum_exx,
    sum(b.residual * b.residual) as sum_eyy
from knn_ratings as a
inner join knn_ratings as b
    on b.movie_id = a.movie_id
    and b.user_id > a.user_id
group by a.user_id, b.user_id;
