-- mark_stale: a step of the plan, run last by add-ratings: the deferred tables now lack
-- the $n_ratings ratings just added (stale since the first such add-ratings).
update freshness
set
    is_stale = true,
    stale_since = coalesce(stale_since, timezone('UTC', now())),
    ratings_added_since = ratings_added_since + $n_ratings;
