-- item_weights (item_ridge, finish): the solved weights of model $model, w(i, j) for
-- every i in N(j) (item_weights.item_ridge.prepare.sql gives the formula), in place of
-- the rows of the targets j solved (_recsys_weight_movies).
delete from item_weights
where model = $model and neighbor_id in (select s.movie_id from _recsys_weight_movies as s);

insert into item_weights (model, movie_id, neighbor_id, weight)
select $model as model, s.source_id as movie_id, s.target_id as neighbor_id, s.weight
from _recsys_ridge_state as s;
