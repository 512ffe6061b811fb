-- item_co_ratings: one row per ordered pair of distinct movies (movie_id, neighbor_id)
-- that at least one user rated both of; both orders are present.
--   n_common    = |U(i) & U(j)|, the users who rated both movies
--   dot_product = sum over u in U(i) & U(j) of r_ui * r_uj
-- Computed once per unordered pair by a self-join of the sparse ratings table, then
-- mirrored, so no dense user x movie matrix is ever formed.
create or replace view item_co_ratings as
with unordered_pairs as (
    select
        a.movie_id as movie_id,
        b.movie_id as neighbor_id,
        count(*) as n_common,
        sum(a.rating * b.rating) as dot_product
    from ratings as a
    inner join ratings as b
        on a.user_id = b.user_id
        and a.movie_id < b.movie_id
    group by a.movie_id, b.movie_id
)
select movie_id, neighbor_id, n_common, dot_product from unordered_pairs
union all
select neighbor_id as movie_id, movie_id as neighbor_id, n_common, dot_product from unordered_pairs;
