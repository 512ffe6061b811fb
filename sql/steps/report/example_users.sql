-- example_users: a step, not a layer. The report's example users when none are given:
-- the first $n users of user_stats in the seeded order md5('<seed>:<user_id>'), then
-- user_id, where seed is $seed or, when $seed is NULL, recsys_params.seed. The same
-- seed always picks the same users.
select u.user_id
from user_stats as u
cross join recsys_params as p
order by
    md5(
        cast(coalesce(cast($seed as bigint), p.seed) as varchar) || ':'
        || cast(u.user_id as varchar)
    ),
    u.user_id
limit $n;
