-- user_co_ratings: one row per ordered pair of distinct users (user_id, neighbor_id)
-- who rated at least one movie in common; both orders are present.
--   n_common    = |I(u) & I(v)|, the movies both users rated
--   dot_product = sum over i in I(u) & I(v) of r_ui * r_vi
create or replace view user_co_ratings as
with unordered_pairs as (
    select
        a.user_id as user_id,
        b.user_id as neighbor_id,
        count(*) as n_common,
        sum(a.rating * b.rating) as dot_product
    from ratings as a
    inner join ratings as b
        on a.movie_id = b.movie_id
        and a.user_id < b.user_id
    group by a.user_id, b.user_id
)
select user_id, neighbor_id, n_common, dot_product from unordered_pairs
union all
select neighbor_id as user_id, user_id as neighbor_id, n_common, dot_product from unordered_pairs;
