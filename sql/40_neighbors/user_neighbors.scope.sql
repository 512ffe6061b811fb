-- user_neighbors (scope of a build): every rater, in _recsys_refresh_users, for
-- user_neighbors.refresh.sql (add-ratings fills it in user_pair_sums.increment.sql).
create or replace temp table _recsys_refresh_users as
select distinct r.user_id
from ratings as r;
