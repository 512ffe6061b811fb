-- user_pair_sums (add-ratings): as item_pair_sums.increment.sql with the roles of users
-- and movies swapped: adds what the new ratings contribute to user_pair_sums (pairs of
-- ratings of one movie, at least one new), then lists in _recsys_refresh_users the
-- users whose neighbours can change (those with a new rating and every user paired with
-- one), for user_neighbors.refresh.sql.
create or replace temp table _recsys_user_pair_deltas as
with touched as (
    select r.user_id, r.movie_id, r.rating, n.user_id is not null as is_new
    from ratings as r
    left join _recsys_new_ratings as n on n.user_id = r.user_id and n.movie_id = r.movie_id
    where r.movie_id in (select t.movie_id from _recsys_new_ratings as t)
)
select
    least(a.user_id, b.user_id) as user_id,
    greatest(a.user_id, b.user_id) as neighbor_id,
    count(*) as n_common,
    sum(a.rating * b.rating) as dot_product
from _recsys_new_ratings as a
inner join touched as b
    on a.movie_id = b.movie_id
    and a.user_id <> b.user_id
where not b.is_new or a.user_id < b.user_id
group by least(a.user_id, b.user_id), greatest(a.user_id, b.user_id);

update user_pair_sums as p
set n_common = p.n_common + d.n_common, dot_product = p.dot_product + d.dot_product
from _recsys_user_pair_deltas as d
where d.user_id = p.user_id and d.neighbor_id = p.neighbor_id;

insert into user_pair_sums (user_id, neighbor_id, n_common, dot_product)
select d.user_id, d.neighbor_id, d.n_common, d.dot_product
from _recsys_user_pair_deltas as d
anti join user_pair_sums as p on p.user_id = d.user_id and p.neighbor_id = d.neighbor_id;

drop table _recsys_user_pair_deltas;

create or replace temp table _recsys_refresh_users as
with rerating as (select distinct user_id from _recsys_new_ratings)
select user_id from rerating
union
select p.neighbor_id from user_pair_sums as p semi join rerating as r on r.user_id = p.user_id
union
select p.user_id from user_pair_sums as p semi join rerating as r on r.user_id = p.neighbor_id;
