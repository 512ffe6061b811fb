-- apply_item_pair_deltas: a step of recsys_duck.increment, run after item_pair_deltas.
-- Adds the deltas to item_pair_sums (exact: multiples of 1/4), then lists the movies
-- whose neighbours can change. sim(i, j) = dot(i, j) / (norm(i) * norm(j)) changes only
-- if i or j has a new rating (its norm changes; a changed dot implies one too), so they
-- are the movies with a new rating and every movie paired with one.
update item_pair_sums as p
set n_common = p.n_common + d.n_common, dot_product = p.dot_product + d.dot_product
from _recsys_item_pair_deltas as d
where d.movie_id = p.movie_id and d.neighbor_id = p.neighbor_id;

insert into item_pair_sums (movie_id, neighbor_id, n_common, dot_product)
select d.movie_id, d.neighbor_id, d.n_common, d.dot_product
from _recsys_item_pair_deltas as d
anti join item_pair_sums as p on p.movie_id = d.movie_id and p.neighbor_id = d.neighbor_id;

create or replace temp table _recsys_affected_movies as
with rerated as (select distinct movie_id from _recsys_new_ratings)
select movie_id from rerated
union
select p.neighbor_id from item_pair_sums as p semi join rerated as r on r.movie_id = p.movie_id
union
select p.movie_id from item_pair_sums as p semi join rerated as r on r.movie_id = p.neighbor_id;
