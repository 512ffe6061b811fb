-- baseline_biases (prepare): the biases before the first epoch: 0 for every user, no
-- movie yet. Temporary tables, dropped by baseline_biases.cleanup.sql.
create or replace temp table _recsys_user_biases as
select user_id as id, count(*) as n_ratings, cast(0 as double) as bias
from ratings
group by user_id;

create or replace temp table _recsys_item_biases as
select u.id, u.n_ratings, u.bias
from _recsys_user_biases as u
where false;
