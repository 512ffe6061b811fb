-- eval_user_ranking_metrics: one row per (split, fold, method, user_id, k) for every test
-- user of the fold with at least one relevant held-out movie (R = those movies) and every
-- cutoff k of eval_cutoffs (1 to the longest stored list, at least
-- recsys_params.n_recommendations). With L_k the user's top-k recommendations (fewer if
-- the method had fewer), binary relevance, and H_k = the ranks i <= k whose movie is in R:
--   n_hits                 = |L_k & R| = |H_k|
--   precision_at_k         = |H_k| / k                  (a short list is not rewarded)
--   recall_at_k            = |H_k| / |R|
--   ndcg_at_k              = DCG_k / IDCG_k, DCG_k = sum_{i in H_k} 1 / log2(i + 1),
--                            IDCG_k = sum_{r = 1}^{min(|R|, k)} 1 / log2(r + 1)
--   average_precision_at_k = sum_{i in H_k} precision_at_i / min(|R|, k),
--                            precision_at_i = |H_i| / i (the precision at each hit)
--   hit_at_k               = 1 if |H_k| > 0 else 0
--   reciprocal_rank_at_k   = 1 / min(H_k) (the rank of the first hit), 0 if H_k is empty
-- A user with no recommendation at all (e.g. unseen in train) scores 0 on all of them.
-- Users with no relevant held-out movie are left out: every metric is undefined for them.
create or replace view eval_user_ranking_metrics as
with relevant_users as (
    select t.split, t.fold, t.user_id, count(*) as n_relevant
    from eval_test_ratings as t
    where t.is_relevant
    group by t.split, t.fold, t.user_id
),
cutoff_values as (
    select distinct c.k
    from eval_cutoffs as c
),
ideal_gains as (
    select
        c.k as position,
        sum(1.0 / nullif(log2(i.k + 1), 0)) as ideal_dcg
    from cutoff_values as c
    inner join cutoff_values as i on i.k <= c.k
    group by c.k
),
-- every recommended relevant movie, with its number among the user's hits (1, 2, ...)
hits as (
    select
        r.split,
        r.fold,
        r.method,
        r.user_id,
        r.rank,
        1.0 / nullif(log2(r.rank + 1), 0) as gain,
        row_number() over (
            partition by r.split, r.fold, r.method, r.user_id
            order by r.rank, r.movie_id
        ) as hit_number
    from eval_recommendations as r
    inner join eval_test_ratings as t
        on t.split = r.split
        and t.fold = r.fold
        and t.user_id = r.user_id
        and t.movie_id = r.movie_id
        and t.is_relevant
),
grid as (
    select c.split, c.fold, c.method, u.user_id, u.n_relevant, c.k
    from relevant_users as u
    inner join eval_cutoffs as c on c.split = u.split and c.fold = u.fold
),
per_user as (
    select
        g.split,
        g.fold,
        g.method,
        g.user_id,
        g.k,
        g.n_relevant,
        count(h.rank) as n_hits,
        coalesce(sum(h.gain), 0) as dcg,
        coalesce(sum(h.hit_number / nullif(cast(h.rank as double), 0)), 0) as sum_precision,
        min(h.rank) as first_hit_rank
    from grid as g
    left join hits as h
        on h.split = g.split
        and h.fold = g.fold
        and h.method = g.method
        and h.user_id = g.user_id
        and h.rank <= g.k
    group by g.split, g.fold, g.method, g.user_id, g.k, g.n_relevant
)
select
    u.split,
    u.fold,
    u.method,
    u.user_id,
    u.k,
    u.n_relevant,
    u.n_hits,
    u.n_hits / nullif(cast(u.k as double), 0) as precision_at_k,
    u.n_hits / nullif(cast(u.n_relevant as double), 0) as recall_at_k,
    u.dcg / nullif(i.ideal_dcg, 0) as ndcg_at_k,
    u.sum_precision / nullif(cast(least(u.k, u.n_relevant) as double), 0)
        as average_precision_at_k,
    cast(case when u.n_hits > 0 then 1 else 0 end as double) as hit_at_k,
    coalesce(1.0 / nullif(cast(u.first_hit_rank as double), 0), 0.0) as reciprocal_rank_at_k
from per_user as u
inner join ideal_gains as i on i.position = least(u.k, u.n_relevant);
