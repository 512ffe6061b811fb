-- eval_ranking_metrics: one row per (split, fold, method, k) of eval_cutoffs. Filter
-- k = 10 for the usual @10 figures.
-- Means over the n_users test users of the fold with at least one relevant held-out
-- movie, of the per-user metrics of eval_user_ranking_metrics (NULL when n_users = 0):
--   precision_at_k, recall_at_k, ndcg_at_k = mean of the per-user values
--   map_at_k      = mean of average_precision_at_k
--   hit_rate_at_k = mean of hit_at_k
--   mrr_at_k      = mean of reciprocal_rank_at_k
-- Over every user with recommendations (relevant held-out movie or not), with
-- top_k(u) = the user's recommendations at rank <= k:
--   catalog_coverage_at_k = |union over users of top_k(u)| / |catalogue|, the catalogue
--       being the movies of eval_train_items for the (split, fold). Every distinct
--       recommended movie counts, also one outside the catalogue (which only content-based
--       can recommend). NULL when the catalogue is empty.
--   novelty_at_k = mean over all recommended (user, movie) pairs with rank <= k of
--       -log2(n_ratings(movie) / n_train_users),
--       n_ratings(movie) = eval_train_items.n_ratings of the (split, fold), taken as 1 for
--       a movie with no train rating (absent or 0) so that its self-information is the
--       largest possible, log2(n_train_users); n_train_users from eval_folds.
--       NULL when there is no recommended pair or no eval_folds row.
create or replace view eval_ranking_metrics as
with user_means as (
    select
        u.split,
        u.fold,
        u.method,
        u.k,
        count(*) as n_users,
        avg(u.precision_at_k) as precision_at_k,
        avg(u.recall_at_k) as recall_at_k,
        avg(u.ndcg_at_k) as ndcg_at_k,
        avg(u.average_precision_at_k) as map_at_k,
        avg(u.hit_at_k) as hit_rate_at_k,
        avg(u.reciprocal_rank_at_k) as mrr_at_k
    from eval_user_ranking_metrics as u
    group by u.split, u.fold, u.method, u.k
),
-- the best rank at which each movie is recommended to anyone: it is in the union of the
-- top-k lists exactly for k >= first_rank
first_ranks as (
    select r.split, r.fold, r.method, r.movie_id, min(r.rank) as first_rank
    from eval_recommendations as r
    group by r.split, r.fold, r.method, r.movie_id
),
movies_first_at_rank as (
    select f.split, f.fold, f.method, f.first_rank, count(*) as n_movies
    from first_ranks as f
    group by f.split, f.fold, f.method, f.first_rank
),
recommended_movies as (
    select c.split, c.fold, c.method, c.k, coalesce(sum(m.n_movies), 0) as n_movies
    from eval_cutoffs as c
    left join movies_first_at_rank as m
        on m.split = c.split
        and m.fold = c.fold
        and m.method = c.method
        and m.first_rank <= c.k
    group by c.split, c.fold, c.method, c.k
),
catalog as (
    select i.split, i.fold, count(*) as n_movies
    from eval_train_items as i
    group by i.split, i.fold
),
-- self-information summed per rank, then accumulated over the ranks <= k
self_information as (
    select
        r.split,
        r.fold,
        r.method,
        r.rank,
        count(*) as n_pairs,
        sum(
            -log2(
                greatest(coalesce(i.n_ratings, 0), 1)
                / nullif(cast(f.n_train_users as double), 0)
            )
        ) as self_information
    from eval_recommendations as r
    left join eval_train_items as i
        on i.split = r.split
        and i.fold = r.fold
        and i.movie_id = r.movie_id
    left join eval_folds as f
        on f.split = r.split
        and f.fold = r.fold
    group by r.split, r.fold, r.method, r.rank
),
novelty as (
    select
        c.split,
        c.fold,
        c.method,
        c.k,
        sum(s.self_information) / nullif(cast(sum(s.n_pairs) as double), 0) as novelty_at_k
    from eval_cutoffs as c
    inner join self_information as s
        on s.split = c.split
        and s.fold = c.fold
        and s.method = c.method
        and s.rank <= c.k
    group by c.split, c.fold, c.method, c.k
)
select
    c.split,
    c.fold,
    c.method,
    c.k,
    coalesce(u.n_users, 0) as n_users,
    u.precision_at_k,
    u.recall_at_k,
    u.ndcg_at_k,
    u.map_at_k,
    u.hit_rate_at_k,
    u.mrr_at_k,
    m.n_movies / nullif(cast(g.n_movies as double), 0) as catalog_coverage_at_k,
    n.novelty_at_k
from eval_cutoffs as c
left join user_means as u
    on u.split = c.split
    and u.fold = c.fold
    and u.method = c.method
    and u.k = c.k
left join recommended_movies as m
    on m.split = c.split
    and m.fold = c.fold
    and m.method = c.method
    and m.k = c.k
left join catalog as g
    on g.split = c.split
    and g.fold = c.fold
left join novelty as n
    on n.split = c.split
    and n.fold = c.fold
    and n.method = c.method
    and n.k = c.k;
