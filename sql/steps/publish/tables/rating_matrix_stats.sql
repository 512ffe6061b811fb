-- rating_matrix_stats: one row describing the sparse user x movie rating matrix. A
-- one-row table has no key.
create table rating_matrix_stats (
    n_users bigint not null,
    n_movies bigint not null,
    n_ratings bigint not null,
    density double precision,
    sparsity double precision,
    mean_rating double precision
);

comment on table rating_matrix_stats is
'one row: n_users, n_movies (movies with a rating), n_ratings, density = n_ratings / (n_users * n_movies), sparsity = 1 - density, mean_rating = the global mean of the baseline predictor';
