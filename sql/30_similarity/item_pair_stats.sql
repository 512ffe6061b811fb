-- item_pair_stats: one row per unordered pair of movies rated by a common user
-- (movie_id < other_movie_id), with the sums over the C = users who rated both that the k-NN
-- similarities of knn_pair_similarity are made of (x = the movie_id side, y = the other):
--   n_common = |C|, sum_xy = sum_C r_x r_y, sum_xx = sum_C r_x^2, sum_yy = sum_C r_y^2,
--   sum_x = sum_C r_x, sum_y = sum_C r_y, sum_sq_diff = sum_C (r_x - r_y)^2,
--   sum_exy, sum_exx, sum_eyy: the same products of baseline residuals e (knn_ratings).
-- Only the pairs with an id in knn_pair_scope (based = 'item'): every pair, unless a
-- query shadows the scope. The pairs come in two parts, the first id in the scope, and
-- only the second, so that the scope filters the ratings before the join, not the join's
-- rows after it (a small scope reads a small part of the join). A view: it is as large
-- as the co-rating join, so it is computed where it is used (the evaluation materialises
-- it once per fold).
create or replace view item_pair_stats as
with rating_pairs as (
    select
        a.movie_id as x_id,
        b.movie_id as y_id,
        a.rating as r_x,
        b.rating as r_y,
        a.residual as e_x,
        b.residual as e_y
    from knn_ratings as a
    inner join knn_ratings as b
        on b.user_id = a.user_id
        and b.movie_id > a.movie_id
    where a.movie_id in (select s.id from knn_pair_scope as s where s.based = 'item')
    union all
    select
        a.movie_id as x_id,
        b.movie_id as y_id,
        a.rating as r_x,
        b.rating as r_y,
        a.residual as e_x,
        b.residual as e_y
    from knn_ratings as a
    inner join knn_ratings as b
        on b.user_id = a.user_id
        and b.movie_id > a.movie_id
    where b.movie_id in (select s.id from knn_pair_scope as s where s.based = 'item')
        and a.movie_id not in (select s.id from knn_pair_scope as s where s.based = 'item')
)
select
    p.x_id as movie_id,
    p.y_id as other_movie_id,
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
