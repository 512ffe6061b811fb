-- pair_entries (scratch cleanup): run by recsys_duck.pairs; drops the view of
-- pair_entries.scratch.sql and detaches its database (recsys_duck.pairs then removes
-- the file).
drop view if exists _recsys_pair_entries;

detach database if exists _recsys_pair_scratch;
