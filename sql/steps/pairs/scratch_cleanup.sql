-- scratch_cleanup: a step of recsys_duck.pairs; drops the view of the step scratch and
-- detaches its database (recsys_duck.pairs then removes the file).
drop view if exists _recsys_pair_entries;

detach database if exists _recsys_pair_scratch;
