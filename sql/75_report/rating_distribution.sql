-- rating_distribution: one row per rating level, the histogram of the ratings table.
-- The levels are every step of the rating scale from recsys_params.rating_min to
-- rating_max (0.5, 1.0, ..., 5.0 on MovieLens' scale, with n_ratings = 0 where nobody
-- gave that rating; none on a scale without steps, rating_step = 0), plus any other
-- value that occurs in ratings.
--   n_ratings = number of ratings with exactly this value
--   share     = n_ratings / (number of all ratings), NULL when there are no ratings
create or replace view rating_distribution as
with scale_steps as (
    select p.rating_min + p.rating_step * s.step as rating
    from recsys_params as p
    cross join range(
        0,
        1 + (
            select coalesce(cast(floor(
                (q.rating_max - q.rating_min) / nullif(q.rating_step, 0) + 1e-9
            ) as integer), -1)
            from recsys_params as q
        )
    ) as s(step)
),
levels as (
    select h.rating
    from scale_steps as h
    union
    select r.rating
    from ratings as r
),
counts as (
    select r.rating, count(*) as n_ratings
    from ratings as r
    group by r.rating
),
total as (
    select count(*) as n_ratings
    from ratings
)
select
    l.rating,
    coalesce(c.n_ratings, 0) as n_ratings,
    coalesce(c.n_ratings, 0) / nullif(cast(t.n_ratings as double), 0) as share
from levels as l
cross join total as t
left join counts as c on c.rating = l.rating
order by l.rating;
