-- pair_entries (scratch): run by recsys_duck.pairs after pair_entries.prepare.sql when
-- the staged ratings are few (see the module's docstring). Moves _recsys_pair_entries
-- into the attached scratch database _recsys_pair_scratch, whose small row groups let
-- every thread scan a share, and leaves a temporary view of the same name, so the
-- batches read it unchanged.
create table _recsys_pair_scratch.main.entries as
select user_idx, movie_idx, rating
from _recsys_pair_entries
order by user_idx, movie_idx;

drop table _recsys_pair_entries;

create temp view _recsys_pair_entries as
select user_idx, movie_idx, rating
from _recsys_pair_scratch.main.entries;
