-- temporal_split: one row per rating, with is_test marking each user's latest
-- floor(recsys_params.test_fraction * n_user_ratings) ratings (by rated_at; among equal
-- timestamps the larger movie_id counts as later). Train holds everything before.
create or replace view temporal_split as
with ordered as (
    select
        r.user_id,
        r.movie_id,
        r.rating,
        r.rated_at,
        p.test_fraction,
        row_number() over (
            partition by r.user_id
            order by r.rated_at desc, r.movie_id desc
        ) as position_from_latest,
        count(*) over (partition by r.user_id) as n_user_ratings
    from ratings as r
    cross join recsys_params as p
)
select
    user_id,
    movie_id,
    rating,
    rated_at,
    position_from_latest <= floor(test_fraction * n_user_ratings) as is_test
from ordered;
