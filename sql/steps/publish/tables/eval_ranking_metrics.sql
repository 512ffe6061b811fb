-- eval_ranking_metrics: one row per (split, fold, method, k): precision, recall, NDCG,
-- MAP, hit rate and MRR at k averaged over the test users with at least one relevant
-- held-out movie, and the catalogue coverage and novelty of the top-k lists.
create table eval_ranking_metrics (
    split text not null,
    fold integer not null,
    method text not null,
    k integer not null,
    n_users bigint not null,
    precision_at_k double precision,
    recall_at_k double precision,
    ndcg_at_k double precision,
    map_at_k double precision,
    hit_rate_at_k double precision,
    mrr_at_k double precision,
    catalog_coverage_at_k double precision,
    novelty_at_k double precision
);

comment on table eval_ranking_metrics is
'one row per (split, fold, method, k): precision, recall, NDCG, MAP, hit rate and MRR at k averaged over the n_users test users with a relevant held-out movie; catalogue coverage and novelty (mean self-information, bits) of the top-k lists';

-- keys and indexes: created once the rows are in (faster than maintained row by row)
alter table eval_ranking_metrics add primary key (split, fold, method, k);
