-- item_pair_deltas: a step of recsys_duck.increment, run after the new ratings are staged in
-- _recsys_new_ratings and before they are added to ratings. What the new ratings add to
-- item_pair_sums, once per unordered pair of movies, from the pairs of ratings of one
-- user of which at least one rating is new:
--   delta n_common    = number of such users
--   delta dot_product = sum of the products of their two ratings
-- Each pair is joined from its new rating(s) only (a new rating against every rating of
-- the same rater; two new ones once): work in proportion to the new ratings times their
-- raters' activity, not to all the touched raters' pairs.
-- A rating is new or old, never both (the loader refuses pairs already rated), so the
-- pair sums plus these deltas are the pair sums of all ratings, exactly (half-star
-- products add up exactly in any order).
create or replace temp table _recsys_item_pair_deltas as
with touched as (
    select r.user_id, r.movie_id, r.rating, false as is_new
    from ratings as r
    semi join _recsys_new_ratings as n on n.user_id = r.user_id
    union all
    select user_id, movie_id, rating, true as is_new
    from _recsys_new_ratings
)
select
    least(a.movie_id, b.movie_id) as movie_id,
    greatest(a.movie_id, b.movie_id) as neighbor_id,
    count(*) as n_common,
    sum(a.rating * b.rating) as dot_product
from _recsys_new_ratings as a
inner join touched as b
    on a.user_id = b.user_id
    and a.movie_id <> b.movie_id
where not b.is_new or a.movie_id < b.movie_id
group by least(a.movie_id, b.movie_id), greatest(a.movie_id, b.movie_id);
