-- item_neighbors (scope of a build): every rated movie, in _recsys_refresh_movies, for
-- item_neighbors.refresh.sql (add-ratings fills it in item_pair_sums.increment.sql).
create or replace temp table _recsys_refresh_movies as
select distinct r.movie_id
from ratings as r;
