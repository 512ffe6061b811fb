-- batches: a step of recsys_duck.marts. Cuts the users, in user_id order, into ranges
-- [lo, hi) of consecutive user_ids holding about $work ratings each (a user's ratings
-- bound the candidates every method scores for them). One row per batch, in order.
with per_user as (
    select user_id, count(*) as n_ratings
    from ratings
    group by user_id
),
cumulative as (
    select
        user_id,
        sum(n_ratings) over (order by user_id rows unbounded preceding) - n_ratings as before
    from per_user
)
select min(user_id) as lo, max(user_id) + 1 as hi
from cumulative
group by floor(before / $work)
order by lo;
