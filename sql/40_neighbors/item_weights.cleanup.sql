-- item_weights (cleanup): drops the scope of the weights (item_weights.scope.sql or
-- item_weights.increment.sql), whether they were computed or not.
drop table if exists _recsys_weight_movies;
