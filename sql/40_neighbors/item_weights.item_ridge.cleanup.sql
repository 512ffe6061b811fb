-- item_weights (item_ridge, cleanup): drops the temporary tables of the solve, also
-- after an error.
drop table if exists _recsys_ridge_product;

drop table if exists _recsys_ridge_state;

drop table if exists _recsys_ridge_gram;

drop table if exists _recsys_ridge_scales;

drop table if exists _recsys_ridge_neighborhoods;
