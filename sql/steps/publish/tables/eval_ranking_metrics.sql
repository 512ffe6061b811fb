-- eval_ranking_metrics: one row per (split, method, k), precision, recall and NDCG at k
-- averaged over the test users with at least one relevant held-out movie.
create table eval_ranking_metrics (
    split text not null,
    method text not null,
    k integer not null,
    n_users bigint not null,
    precision_at_k double precision,
    recall_at_k double precision,
    ndcg_at_k double precision
);

comment on table eval_ranking_metrics is
'one row per (split, method, k): precision@k, recall@k and NDCG@k averaged over the n_users test users with a relevant held-out movie';

-- keys and indexes: created once the rows are in (faster than maintained row by row)
alter table eval_ranking_metrics add primary key (split, method, k);
