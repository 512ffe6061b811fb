-- leave_last_out_split: one row per rating, with is_test marking each user's latest
-- rating: the first by rated_at desc, then movie_id desc (among equal timestamps the
-- larger movie_id counts as later). A user with fewer than 2 ratings keeps everything in
-- train, so every test user has at least one train rating.
create or replace view leave_last_out_split as
with ordered as (
    select
        r.user_id,
        r.movie_id,
        r.rating,
        r.rated_at,
        row_number() over (
            partition by r.user_id
            order by r.rated_at desc, r.movie_id desc
        ) as position_from_latest,
        count(*) over (partition by r.user_id) as n_user_ratings
    from ratings as r
)
select
    user_id,
    movie_id,
    rating,
    rated_at,
    position_from_latest = 1 and n_user_ratings >= 2 as is_test
from ordered;
