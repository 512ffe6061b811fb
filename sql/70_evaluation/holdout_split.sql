-- holdout_split: one row per rating, with is_test marking the per-user holdout.
-- Each user's ratings are put in a seeded pseudo-random order, md5(seed:user:movie)
-- then movie_id, and the first floor(test_fraction * n_user_ratings) of them are test
-- (recsys_params.test_fraction, default 0.2, and recsys_params.seed). The same seed
-- always gives the same split; a user with fewer than 1 / test_fraction ratings keeps
-- them all in train.
create or replace view holdout_split as
with ordered as (
    select
        r.user_id,
        r.movie_id,
        r.rating,
        r.rated_at,
        p.test_fraction,
        row_number() over (
            partition by r.user_id
            order by
                md5(
                    cast(p.seed as varchar) || ':' || cast(r.user_id as varchar)
                    || ':' || cast(r.movie_id as varchar)
                ),
                r.movie_id
        ) as position,
        count(*) over (partition by r.user_id) as n_user_ratings
    from ratings as r
    cross join recsys_params as p
)
select
    user_id,
    movie_id,
    rating,
    rated_at,
    position <= floor(test_fraction * n_user_ratings) as is_test
from ordered;
