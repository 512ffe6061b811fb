-- mark_stale: a step of the plan, run last by add-ratings: the tables of $tables (those
-- it deferred) now lack the $n_ratings ratings just added (stale since the first such
-- add-ratings). A table the file has no row for yet (a file built before item_weights
-- could be deferred) gets one, computed when the oldest row was.
insert into freshness (table_name, is_stale, computed_at, stale_since, ratings_added_since)
select
    t.table_name,
    false,
    coalesce((select min(f.computed_at) from freshness as f), timezone('UTC', now())),
    null,
    0
from (select unnest($tables) as table_name) as t
where t.table_name not in (select f.table_name from freshness as f);

update freshness
set
    is_stale = true,
    stale_since = coalesce(stale_since, timezone('UTC', now())),
    ratings_added_since = ratings_added_since + $n_ratings
where table_name in (select unnest($tables));
