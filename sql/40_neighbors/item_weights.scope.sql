-- item_weights (scope of a build): every rated movie, in _recsys_weight_movies, the
-- movies whose rows each algorithm's parts (item_weights.<algorithm>.sql) compute: the
-- rows of a source movie (item_knn, rp3beta) or of a target movie (item_ridge).
-- add-ratings lists fewer (item_weights.increment.sql). Both drop the weights of models
-- no longer in ranking_models.
delete from item_weights
where model not in (select m.model from ranking_models as m);

create or replace temp table _recsys_weight_movies as
select m.movie_id
from movie_stats as m;
