-- eval_ranking_metrics: one row per (split, method, k), the ranking metrics of
-- eval_user_ranking_metrics averaged over the test users with at least one relevant
-- held-out movie (n_users of them). Filter k = 10 for the usual @10 figures.
create or replace view eval_ranking_metrics as
select
    split,
    method,
    k,
    count(*) as n_users,
    avg(precision_at_k) as precision_at_k,
    avg(recall_at_k) as recall_at_k,
    avg(ndcg_at_k) as ndcg_at_k
from eval_user_ranking_metrics
group by split, method, k;
