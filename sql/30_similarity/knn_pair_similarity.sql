-- knn_pair_similarity: one row per k-NN model (knn_models, algorithm <> baseline_only)
-- and ordered pair (x_id, y_id) of movies (based = 'item') or users (based = 'user')
-- with at least one common rater / rated movie, x_id <> y_id, carrying the model's
-- similarity over the common ratings C only (sums from item_pair_stats and
-- user_pair_stats, n = |C|):
--   cosine           = sum_xy / sqrt(sum_xx * sum_yy)
--   msd              = 1 / (sum_sq_diff / n + 1)
--   pearson          = (n sum_xy - sum_x sum_y)
--                      / sqrt((n sum_xx - sum_x^2) (n sum_yy - sum_y^2)),  0 if that is 0/0
--   pearson_baseline = sum_exy / sqrt(sum_exx * sum_eyy) * (n - 1) / (n - 1 + shrinkage)
--                      (Pearson of the baseline residuals, shrunk; 0 if a residual sum is 0)
-- and 0 when n < min_support (for pearson_baseline, n < max(2, min_support)). Pairs
-- with no common rating have similarity 0 and no row. These are Surprise's formulas
-- (surprise.similarities), written the same way so that the floating-point results agree.
create or replace view knn_pair_similarity as
with pairs as (
    select
        'item' as based,
        s.movie_id as x_id,
        s.other_movie_id as y_id,
        s.n_common,
        s.sum_xy,
        s.sum_xx,
        s.sum_yy,
        s.sum_x,
        s.sum_y,
        s.sum_sq_diff,
        s.sum_exy,
        s.sum_exx,
        s.sum_eyy
    from item_pair_stats as s
    union all
    select
        'user' as based,
        s.user_id as x_id,
        s.other_user_id as y_id,
        s.n_common,
        s.sum_xy,
        s.sum_xx,
        s.sum_yy,
        s.sum_x,
        s.sum_y,
        s.sum_sq_diff,
        s.sum_exy,
        s.sum_exx,
        s.sum_eyy
    from user_pair_stats as s
),
scored as (
    select
        m.model,
        p.based,
        p.x_id,
        p.y_id,
        p.n_common,
        case
            when m.similarity = 'pearson_baseline' and p.n_common < greatest(2, m.min_support)
                then 0
            when p.n_common < m.min_support then 0
            when m.similarity = 'cosine'
                then p.sum_xy / nullif(sqrt(p.sum_xx * p.sum_yy), 0)
            when m.similarity = 'msd'
                then 1 / nullif(p.sum_sq_diff / nullif(p.n_common, 0) + 1, 0)
            when m.similarity = 'pearson'
                then coalesce(
                    (p.n_common * p.sum_xy - p.sum_x * p.sum_y)
                    / nullif(
                        sqrt(
                            (p.n_common * p.sum_xx - p.sum_x * p.sum_x)
                            * (p.n_common * p.sum_yy - p.sum_y * p.sum_y)
                        ),
                        0
                    ),
                    0
                )
            when m.similarity = 'pearson_baseline'
                then coalesce(
                    p.sum_exy / nullif(sqrt(p.sum_exx * p.sum_eyy), 0)
                    * ((p.n_common - 1) / nullif(p.n_common - 1 + m.shrinkage, 0)),
                    0
                )
        end as similarity
    from pairs as p
    inner join knn_models as m on m.based = p.based
)
-- Both orders of each pair from one reading of scored (a union of two readings would
-- compute the pair sums twice).
select
    s.model,
    s.based,
    case when o.flipped then s.y_id else s.x_id end as x_id,
    case when o.flipped then s.x_id else s.y_id end as y_id,
    s.n_common,
    s.similarity
from scored as s
cross join (values (false), (true)) as o (flipped);
