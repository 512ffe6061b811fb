-- long_tail: one row per rated movie (kind 'movie') and per rating user (kind 'user'),
-- ranked by how many ratings it has: the rank-frequency curve of the long tail.
--   id               = movie_id or user_id
--   n_ratings        = movie_stats.n_ratings or user_stats.n_ratings
--   rank             = 1 for the most ratings, equal counts by the smaller id (for
--                      movies the same order as movie_popularity.popularity_rank)
--   cumulative_share = sum of n_ratings over ranks 1..rank of the kind / sum over all
--                      of its rows (the share of all ratings that the rank most rated
--                      movies, or most active users, account for)
create or replace view long_tail as
with counts as (
    select 'movie' as kind, m.movie_id as id, m.n_ratings
    from movie_stats as m
    union all
    select 'user' as kind, u.user_id as id, u.n_ratings
    from user_stats as u
),
ranked as (
    select
        c.kind,
        c.id,
        c.n_ratings,
        row_number() over (
            partition by c.kind
            order by c.n_ratings desc, c.id asc
        ) as rank,
        sum(c.n_ratings) over (
            partition by c.kind
            order by c.n_ratings desc, c.id asc
            rows between unbounded preceding and current row
        ) as cumulative_ratings,
        sum(c.n_ratings) over (partition by c.kind) as total_ratings
    from counts as c
)
select
    r.kind,
    r.id,
    r.rank,
    r.n_ratings,
    r.cumulative_ratings / nullif(cast(r.total_ratings as double), 0) as cumulative_share
from ranked as r
order by r.kind, r.rank;
