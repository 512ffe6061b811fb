-- recsys_params: one row, the settings of the build (and last evaluation) that computed
-- the published numbers. A one-row table has no key.
create table recsys_params (
    neighbors_k integer not null,
    n_similar_users integer not null,
    n_item_neighbors integer not null,
    n_recommendations integer not null,
    n_rank_candidates integer not null,
    content_genre_weight double precision not null,
    content_tag_weight double precision not null,
    tag_max_features integer not null,
    relevance_threshold double precision not null,
    test_fraction double precision not null,
    seed integer not null,
    n_folds integer not null,
    baseline_epochs integer not null,
    baseline_reg_items double precision not null,
    baseline_reg_users double precision not null,
    rating_min double precision not null,
    rating_max double precision not null,
    rating_step double precision not null,
    build_item_neighbors boolean not null,
    build_user_neighbors boolean not null,
    build_content_neighbors boolean not null
);

comment on table recsys_params is
'one row: the settings that computed the published tables (neighbours k, list lengths, content weights, evaluation splits, baseline fitting, rating scale, which neighbour tables were built)';
