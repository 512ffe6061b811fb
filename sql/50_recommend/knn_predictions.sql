-- knn_predictions: one row per model of knn_models and request of knn_requests
-- (user u, movie i), the model's predicted rating, clipped to
-- [recsys_params.rating_min, rating_max]. With mu the global mean, b_u, b_i the biases of
-- baseline_biases (0 for an unknown user or movie), x the user (based = 'user') or the
-- movie (based = 'item') and N the neighbours: for user-based the users v who rated i,
-- for item-based the movies j that u rated, each with the model's similarity s to x
-- (knn_pair_similarity) and rating r_n (r_vi or r_uj). N^k = the k neighbours of
-- highest similarity (equal similarities, to 12 decimal places, by smaller id), of
-- which only those with s > 0 count; actual_k = their number:
--   baseline_only  = mu + b_u + b_i
--   knn_basic      = sum_{N^k} s r_n / sum_{N^k} s
--   knn_with_means = mean_x + sum_{N^k} s (r_n - mean_n) / sum_{N^k} s
--   knn_baseline   = b_ui + sum_{N^k} s (r_n - b_n) / sum_{N^k} s
--                    (r_n - b_n is the neighbour rating's residual in knn_ratings)
-- means are the train means of user_stats / movie_stats. Fallbacks, as in Surprise:
-- knn_basic predicts mu when u or i is unknown or actual_k < min_k (was_impossible);
-- knn_with_means predicts mu when u or i is unknown (was_impossible) and mean_x when
-- actual_k < min_k; knn_baseline predicts b_ui when u or i is unknown or actual_k < min_k.
-- Filter on model: the similarities of the other models are then not computed.
create or replace view knn_predictions as
with requests as (
    select
        m.model,
        m.algorithm,
        m.based,
        m.k,
        m.min_k,
        q.user_id,
        q.movie_id,
        us.user_id is not null and ms.movie_id is not null as is_known,
        case when m.based = 'user' then us.mean_rating else ms.mean_rating end as x_mean,
        t.mean_rating
        + coalesce(ub.bias, 0)
        + coalesce(ib.bias, 0) as baseline,
        t.mean_rating as global_mean
    from knn_requests as q
    cross join knn_models as m
    cross join rating_matrix_stats as t
    left join user_stats as us on us.user_id = q.user_id
    left join movie_stats as ms on ms.movie_id = q.movie_id
    left join baseline_biases as ub on ub.kind = 'user' and ub.id = q.user_id
    left join baseline_biases as ib on ib.kind = 'item' and ib.id = q.movie_id
),
neighbor_ratings as (
    -- item-based: the movies j the user rated (x = the requested movie)
    select
        q.model,
        q.user_id,
        q.movie_id,
        q.movie_id as x_id,
        r.movie_id as neighbor_id,
        r.rating as neighbor_rating,
        r.rating - nm.mean_rating as neighbor_deviation,
        r.residual as neighbor_residual
    from requests as q
    inner join knn_ratings as r on r.user_id = q.user_id
    inner join movie_stats as nm on nm.movie_id = r.movie_id
    where q.based = 'item'
    union all
    -- user-based: the users v who rated the movie (x = the requesting user)
    select
        q.model,
        q.user_id,
        q.movie_id,
        q.user_id as x_id,
        r.user_id as neighbor_id,
        r.rating as neighbor_rating,
        r.rating - nu.mean_rating as neighbor_deviation,
        r.residual as neighbor_residual
    from requests as q
    inner join knn_ratings as r on r.movie_id = q.movie_id
    inner join user_stats as nu on nu.user_id = r.user_id
    where q.based = 'user'
),
neighbors as (
    -- with sim(x, neighbour): one join for both sides, so that the pair sums are
    -- computed once (a model's similarities are all of its side)
    select
        n.model,
        n.user_id,
        n.movie_id,
        n.neighbor_id,
        s.similarity,
        n.neighbor_rating,
        n.neighbor_deviation,
        n.neighbor_residual
    from neighbor_ratings as n
    inner join knn_pair_similarity as s
        on s.model = n.model
        and s.x_id = n.x_id
        and s.y_id = n.neighbor_id
    where s.similarity > 0
),
ranked as (
    select
        n.*,
        row_number() over (
            partition by n.model, n.user_id, n.movie_id
            order by round(n.similarity, 12) desc, n.neighbor_id asc
        ) as neighbor_rank
    from neighbors as n
),
sums as (
    select
        r.model,
        r.user_id,
        r.movie_id,
        count(*) as actual_k,
        sum(r.similarity) as sum_similarity,
        sum(r.similarity * r.neighbor_rating) as sum_rating,
        sum(r.similarity * r.neighbor_deviation) as sum_deviation,
        sum(r.similarity * r.neighbor_residual) as sum_residual
    from ranked as r
    inner join knn_models as m on m.model = r.model
    where r.neighbor_rank <= m.k
    group by r.model, r.user_id, r.movie_id
),
estimates as (
    select
        q.model,
        q.user_id,
        q.movie_id,
        coalesce(s.actual_k, 0) as actual_k,
        case
            when q.algorithm in ('knn_basic', 'knn_with_means') and not q.is_known then true
            when q.algorithm = 'knn_basic' and coalesce(s.actual_k, 0) < greatest(q.min_k, 1)
                then true
            else false
        end as was_impossible,
        case
            when q.algorithm = 'baseline_only' then q.baseline
            when q.algorithm = 'knn_basic'
                then case
                    when q.is_known and coalesce(s.actual_k, 0) >= greatest(q.min_k, 1)
                        then s.sum_rating / nullif(s.sum_similarity, 0)
                    else q.global_mean
                end
            when q.algorithm = 'knn_with_means'
                then case
                    when not q.is_known then q.global_mean
                    when coalesce(s.actual_k, 0) >= q.min_k
                        then q.x_mean + coalesce(s.sum_deviation / nullif(s.sum_similarity, 0), 0)
                    else q.x_mean
                end
            when q.algorithm = 'knn_baseline'
                then case
                    when q.is_known and coalesce(s.actual_k, 0) >= q.min_k
                        then q.baseline + coalesce(s.sum_residual / nullif(s.sum_similarity, 0), 0)
                    else q.baseline
                end
        end as estimate
    from requests as q
    left join sums as s
        on s.model = q.model
        and s.user_id = q.user_id
        and s.movie_id = q.movie_id
)
select
    e.model,
    e.user_id,
    e.movie_id,
    greatest(p.rating_min, least(p.rating_max, e.estimate)) as predicted_rating,
    e.estimate as unclipped_rating,
    e.actual_k,
    e.was_impossible
from estimates as e
cross join recsys_params as p;
