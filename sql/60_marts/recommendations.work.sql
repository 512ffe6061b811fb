-- recommendations (work): cut into batches by sql/steps/pipeline/batches.sql. The work of
-- each user: their ratings (which bound the candidates every method scores for them).
create or replace temp table _recsys_batch_work as
select user_id as position, count(*) as work
from ratings
group by user_id;
