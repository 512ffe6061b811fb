-- freshness: one row per table that add-ratings leaves for `recsys-duck refresh` to
-- recompute (the baseline biases, whose least-squares fit is global, and the marts:
-- popular_movies and the every-user recommendations), and item_weights, which
-- add-ratings keeps exact unless told to defer it (--defer-weights: a new rating of a
-- popular movie changes most rows, so exact weights cost about a build of them).
-- add-ratings keeps the ratings, pair sums and neighbour tables exact at once (the
-- recommend_* macros read those per request); a stale table describes the ratings as
-- they were at computed_at.
--   is_stale            = a rating was added since the table was computed
--   computed_at         = when build or refresh last computed it (UTC)
--   stale_since         = the first add-ratings after that (UTC), NULL while fresh
--   ratings_added_since = the ratings added since computed_at
-- build and refresh leave every row fresh.
create table if not exists freshness (
    table_name varchar primary key,
    is_stale boolean not null,
    computed_at timestamp not null,
    stale_since timestamp,
    ratings_added_since bigint not null
);
