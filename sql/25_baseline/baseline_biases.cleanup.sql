-- baseline_biases (cleanup): drops the temporary tables of the epochs.
drop table if exists _recsys_user_biases;
drop table if exists _recsys_item_biases;
