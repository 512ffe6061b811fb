-- knn_pair_scope: the movies (based = 'item') and users (based = 'user') whose pairs
-- item_pair_stats and user_pair_stats sum; a pair is summed when either of its two ids
-- is in the scope. Here every rated movie and every user with a rating. A query that
-- needs only some similarities shadows it with a temporary table of the same columns
-- (sql/steps/predict/scope.sql), so that the co-rating join reads only their pairs.
create or replace view knn_pair_scope as
select 'item' as based, s.movie_id as id
from movie_stats as s
union all
select 'user' as based, s.user_id as id
from user_stats as s;
