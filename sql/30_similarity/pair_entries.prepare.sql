-- pair_entries (prepare): run by recsys_duck.pairs before the pair sums are filled in
-- batches. Numbers the rated movies and the raters 0 .. n-1 in id order, so that a batch
-- of consecutive positions has small, known bounds (DuckDB then aggregates a dense batch
-- in an array, its perfect-hash GROUP BY), and stages the ratings by position, sorted
-- by user. Temporary tables, dropped by pair_entries.cleanup.sql.
create or replace temp table _recsys_movie_index as
select movie_id, cast(row_number() over (order by movie_id) - 1 as integer) as movie_idx
from (select distinct movie_id from ratings) as rated;

create or replace temp table _recsys_user_index as
select user_id, cast(row_number() over (order by user_id) - 1 as integer) as user_idx
from (select distinct user_id from ratings) as raters;

create or replace temp table _recsys_pair_entries as
select u.user_idx, m.movie_idx, r.rating
from ratings as r
inner join _recsys_user_index as u on u.user_id = r.user_id
inner join _recsys_movie_index as m on m.movie_id = r.movie_id
order by u.user_idx, m.movie_idx;
