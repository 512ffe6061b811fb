-- recsys_params: one row holding every tunable of the build, so an analyst can see
-- exactly which settings produced the numbers in this file. The Python API and the
-- command line update it with bound parameters before a build.
create table if not exists recsys_params (
    neighbors_k integer not null,              -- neighbours stored per item, user and movie (content)
    n_similar_users integer not null,          -- user-based: neighbours used for the recommendations table
    n_item_neighbors integer not null,         -- item- and content-based: neighbours of each rated movie used
    n_recommendations integer not null,        -- length of each list in the recommendations table
    n_rank_candidates integer not null,        -- rating predictors rank each user's top this many by item_based
    content_genre_weight double not null,      -- weight of the genre TF-IDF block in the stacked content vector
    content_tag_weight double not null,        -- weight of the tag TF-IDF block
    tag_max_features integer not null,         -- vocabulary cap of the tag vectoriser
    relevance_threshold double not null,       -- evaluation: a test rating >= this is relevant
    test_fraction double not null,             -- evaluation: share of each user's ratings held out
    seed integer not null,                     -- evaluation: seed of the holdout and k-fold splits
    n_folds integer not null,                  -- evaluation: number of folds of the k-fold split
    baseline_epochs integer not null,          -- baseline_biases: alternating least squares epochs
    baseline_reg_items double not null,        -- baseline_biases: regularisation of item biases
    baseline_reg_users double not null,        -- baseline_biases: regularisation of user biases
    rating_min double not null,                -- rating scale: ratings lie in and predictions
    rating_max double not null,                --   are clipped to [rating_min, rating_max],
    rating_step double not null,               --   ratings on steps of rating_step (0: any value)
    build_item_neighbors boolean not null,     -- neighbour tables the build computes: an
    build_user_neighbors boolean not null,     --   unbuilt kind's table is left empty (user-user
    build_content_neighbors boolean not null   --   pairs grow with users squared: 2.4B at 10M)
);

insert into recsys_params
select 50, 5, 10, 20, 100, 0.6, 0.4, 50, 4.0, 0.2, 42, 5, 10, 10.0, 15.0, 0.5, 5.0, 0.5, true, true, true
where not exists (select 1 from recsys_params);
