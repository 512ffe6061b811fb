-- item_pair_sums (add-ratings): run by the plan's increment scope after the new ratings
-- of _recsys_new_ratings have been inserted into ratings. Adds to item_pair_sums what
-- they contribute, once per unordered pair of movies, from the pairs of ratings of one
-- user of which at least one rating is new:
--   delta n_common    = number of such users
--   delta dot_product = sum of the products of their two ratings
-- Each pair is joined from its new rating(s) only (a new rating against every rating of
-- the same rater; two new ones once): work in proportion to the new ratings times their
-- raters' activity, not to all the touched raters' pairs. A rating is new or old, never
-- both (the loader refuses pairs already rated), so the old sums plus these deltas are
-- the sums of all ratings, exactly (half-star products add up exactly in any order).
-- Then lists in _recsys_changed_movies the movies with a new rating and every movie
-- paired with one: the rows that can change in every table read from the pair sums
-- (item_neighbors, item_weights; each file says why no other can). item_neighbors works
-- from a copy, _recsys_refresh_movies, which its patch shrinks: sim(i, j) =
-- dot(i, j) / (norm(i) * norm(j)) changes only if i or j has a new rating (its norm
-- changes; a changed dot implies one too).
create or replace temp table _recsys_item_pair_deltas as
with touched as (
    select r.user_id, r.movie_id, r.rating, n.movie_id is not null as is_new
    from ratings as r
    left join _recsys_new_ratings as n on n.user_id = r.user_id and n.movie_id = r.movie_id
    where r.user_id in (select t.user_id from _recsys_new_ratings as t)
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

update item_pair_sums as p
set n_common = p.n_common + d.n_common, dot_product = p.dot_product + d.dot_product
from _recsys_item_pair_deltas as d
where d.movie_id = p.movie_id and d.neighbor_id = p.neighbor_id;

insert into item_pair_sums (movie_id, neighbor_id, n_common, dot_product)
select d.movie_id, d.neighbor_id, d.n_common, d.dot_product
from _recsys_item_pair_deltas as d
anti join item_pair_sums as p on p.movie_id = d.movie_id and p.neighbor_id = d.neighbor_id;

drop table _recsys_item_pair_deltas;

create or replace temp table _recsys_changed_movies as
with rerated as (select distinct movie_id from _recsys_new_ratings)
select movie_id from rerated
union
select p.neighbor_id from item_pair_sums as p semi join rerated as r on r.movie_id = p.movie_id
union
select p.movie_id from item_pair_sums as p semi join rerated as r on r.movie_id = p.neighbor_id;

create or replace temp table _recsys_refresh_movies as
select c.movie_id
from _recsys_changed_movies as c;
