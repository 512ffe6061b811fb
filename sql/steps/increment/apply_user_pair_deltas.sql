-- apply_user_pair_deltas: a step of recsys_duck.increment, run after user_pair_deltas.
-- Adds the deltas to user_pair_sums, then lists the users whose neighbours can change:
-- those with a new rating and every user paired with one (as for movies).
update user_pair_sums as p
set n_common = p.n_common + d.n_common, dot_product = p.dot_product + d.dot_product
from _recsys_user_pair_deltas as d
where d.user_id = p.user_id and d.neighbor_id = p.neighbor_id;

insert into user_pair_sums (user_id, neighbor_id, n_common, dot_product)
select d.user_id, d.neighbor_id, d.n_common, d.dot_product
from _recsys_user_pair_deltas as d
anti join user_pair_sums as p on p.user_id = d.user_id and p.neighbor_id = d.neighbor_id;

create or replace temp table _recsys_affected_users as
with rerating as (select distinct user_id from _recsys_new_ratings)
select user_id from rerating
union
select p.neighbor_id from user_pair_sums as p semi join rerating as r on r.user_id = p.user_id
union
select p.user_id from user_pair_sums as p semi join rerating as r on r.user_id = p.neighbor_id;
