-- apply: a step of recsys_duck.increment, run after pair_deltas. Adds the new ratings
-- and the deltas to the pair sums, then finds the rows of the neighbour tables that can
-- change. sim(i, j) = dot(i, j) / (norm(i) * norm(j)) changes only if i or j has a new
-- rating (its norm changes; a changed dot implies one too), so the movies whose
-- neighbours can change are those with a new rating and every movie paired with one;
-- likewise for users.
insert into ratings (user_id, movie_id, rating, rated_at)
select user_id, movie_id, rating, rated_at from _recsys_new_ratings;

update item_pair_sums as p
set n_common = p.n_common + d.n_common, dot_product = p.dot_product + d.dot_product
from _recsys_item_pair_deltas as d
where d.movie_id = p.movie_id and d.neighbor_id = p.neighbor_id;

insert into item_pair_sums (movie_id, neighbor_id, n_common, dot_product)
select d.movie_id, d.neighbor_id, d.n_common, d.dot_product
from _recsys_item_pair_deltas as d
anti join item_pair_sums as p on p.movie_id = d.movie_id and p.neighbor_id = d.neighbor_id;

update user_pair_sums as p
set n_common = p.n_common + d.n_common, dot_product = p.dot_product + d.dot_product
from _recsys_user_pair_deltas as d
where d.user_id = p.user_id and d.neighbor_id = p.neighbor_id;

insert into user_pair_sums (user_id, neighbor_id, n_common, dot_product)
select d.user_id, d.neighbor_id, d.n_common, d.dot_product
from _recsys_user_pair_deltas as d
anti join user_pair_sums as p on p.user_id = d.user_id and p.neighbor_id = d.neighbor_id;

create or replace temp table _recsys_affected_movies as
with rerated as (select distinct movie_id from _recsys_new_ratings)
select movie_id from rerated
union
select p.neighbor_id from item_pair_sums as p semi join rerated as r on r.movie_id = p.movie_id
union
select p.movie_id from item_pair_sums as p semi join rerated as r on r.movie_id = p.neighbor_id;

create or replace temp table _recsys_affected_users as
with rerating as (select distinct user_id from _recsys_new_ratings)
select user_id from rerating
union
select p.neighbor_id from user_pair_sums as p semi join rerating as r on r.user_id = p.user_id
union
select p.user_id from user_pair_sums as p semi join rerating as r on r.user_id = p.neighbor_id;
