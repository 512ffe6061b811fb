-- validation_split: one row per train rating of holdout_split (its test part is never
-- read), with is_test marking a second, independent per-user holdout of those: each
-- user's train ratings in the seeded order md5('validation:' seed:user:movie) then
-- movie_id, the first floor(test_fraction * n_user_train_ratings) of them held out.
-- Settings chosen on it (recsys-duck tune) leave the holdout's test part unseen, so
-- `evaluate --split holdout` scores them honestly.
create or replace view validation_split as
with ordered as (
    select
        h.user_id,
        h.movie_id,
        h.rating,
        h.rated_at,
        p.test_fraction,
        row_number() over (
            partition by h.user_id
            order by
                md5(
                    'validation:' || cast(p.seed as varchar) || ':'
                    || cast(h.user_id as varchar) || ':' || cast(h.movie_id as varchar)
                ),
                h.movie_id
        ) as position,
        count(*) over (partition by h.user_id) as n_user_ratings
    from holdout_split as h
    cross join recsys_params as p
    where not h.is_test
)
select
    user_id,
    movie_id,
    rating,
    rated_at,
    position <= floor(test_fraction * n_user_ratings) as is_test
from ordered;
