-- eval_user_ranking_metrics: one row per (split, method, user_id, k) for every test user
-- with at least one relevant held-out movie (R = those movies) and every cutoff k from 1
-- to the longest stored list (at least recsys_params.n_recommendations). With L_k the
-- user's top-k recommendations (fewer if the method had fewer) and binary relevance:
--   precision_at_k = |L_k & R| / k                  (a short list is not rewarded)
--   recall_at_k    = |L_k & R| / |R|
--   ndcg_at_k      = DCG_k / IDCG_k, DCG_k = sum_{i in L_k & R} 1 / log2(rank_i + 1),
--                    IDCG_k = sum_{r = 1}^{min(|R|, k)} 1 / log2(r + 1)
-- A user with no recommendation at all (e.g. unseen in train) scores 0 on all three.
-- Users with no relevant held-out movie are left out: every metric is undefined for them.
create or replace view eval_user_ranking_metrics as
with relevant_users as (
    select split, user_id, count(*) as n_relevant
    from eval_test_ratings
    where is_relevant
    group by split, user_id
),
methods as (
    select distinct split, method
    from eval_recommendations
),
cutoffs as (
    select cast(c.k as integer) as k
    from range(
        1,
        1 + (
            select greatest(
                coalesce(max(r.rank), 0),
                (select p.n_recommendations from recsys_params as p)
            )
            from eval_recommendations as r
        )
    ) as c(k)
),
ideal_gains as (
    select
        c.k as position,
        sum(1.0 / log2(c.k + 1)) over (order by c.k) as ideal_dcg
    from cutoffs as c
),
hits as (
    select r.split, r.method, r.user_id, r.rank, 1.0 / log2(r.rank + 1) as gain
    from eval_recommendations as r
    inner join eval_test_ratings as t
        on t.split = r.split
        and t.user_id = r.user_id
        and t.movie_id = r.movie_id
        and t.is_relevant
),
grid as (
    select u.split, m.method, u.user_id, u.n_relevant, c.k
    from relevant_users as u
    inner join methods as m on m.split = u.split
    cross join cutoffs as c
),
per_user as (
    select
        g.split,
        g.method,
        g.user_id,
        g.k,
        g.n_relevant,
        count(h.rank) as n_hits,
        coalesce(sum(h.gain), 0) as dcg
    from grid as g
    left join hits as h
        on h.split = g.split
        and h.method = g.method
        and h.user_id = g.user_id
        and h.rank <= g.k
    group by g.split, g.method, g.user_id, g.k, g.n_relevant
)
select
    u.split,
    u.method,
    u.user_id,
    u.k,
    u.n_relevant,
    u.n_hits,
    u.n_hits / cast(u.k as double) as precision_at_k,
    u.n_hits / cast(u.n_relevant as double) as recall_at_k,
    u.dcg / nullif(i.ideal_dcg, 0) as ndcg_at_k
from per_user as u
inner join ideal_gains as i on i.position = least(u.k, u.n_relevant);
