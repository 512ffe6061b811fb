-- kfold_split: one row per rating, with the fold (1 .. recsys_params.n_folds) whose test
-- part it belongs to; every rating is in exactly one fold, and fold f's train part is
-- every rating with fold <> f.
-- Rule: all ratings are put in one seeded pseudo-random order,
--   md5(seed || ':' || user_id || ':' || movie_id), then user_id, then movie_id
-- (seed = recsys_params.seed), numbered rn = 1 .. n (n = number of ratings), and
--   fold = 1 + floor((rn - 1) * n_folds / n)
-- i.e. contiguous chunks of a seeded shuffle whose sizes differ by at most 1, as in
-- scikit-learn's and Surprise's KFold. The same seed always gives the same folds. The
-- shuffle is over all ratings, not per user: a user's ratings may fall in any folds.
create or replace view kfold_split as
with ordered as (
    select
        r.user_id,
        r.movie_id,
        r.rating,
        r.rated_at,
        p.n_folds,
        row_number() over (
            order by
                md5(
                    cast(p.seed as varchar) || ':' || cast(r.user_id as varchar)
                    || ':' || cast(r.movie_id as varchar)
                ),
                r.user_id,
                r.movie_id
        ) as rn,
        count(*) over () as n_ratings
    from ratings as r
    cross join recsys_params as p
)
select
    user_id,
    movie_id,
    rating,
    rated_at,
    cast(1 + floor((rn - 1) * n_folds / nullif(cast(n_ratings as double), 0)) as integer)
        as fold
from ordered;
