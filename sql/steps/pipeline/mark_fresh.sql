-- mark_fresh: a step of the plan, run last by build and refresh: the tables of $tables
-- (those add-ratings defers or may defer) were just computed from every rating.
delete from freshness
where table_name in (select unnest($tables));

insert into freshness (table_name, is_stale, computed_at, stale_since, ratings_added_since)
select t.table_name, false, timezone('UTC', now()), null, 0
from (select unnest($tables) as table_name) as t
order by t.table_name;
