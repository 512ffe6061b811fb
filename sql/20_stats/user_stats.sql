-- user_stats: one row per user with at least one rating.
-- rating_norm = sqrt(sum of the user's squared ratings), the L2 norm of the user's
-- zero-filled rating vector (the denominator of user-user cosine similarity).
create or replace view user_stats as
select
    user_id,
    count(*) as n_ratings,
    avg(rating) as mean_rating,
    stddev_samp(rating) as stddev_rating,
    sqrt(sum(rating * rating)) as rating_norm,
    min(rated_at) as first_rated_at,
    max(rated_at) as last_rated_at
from ratings
group by user_id;
