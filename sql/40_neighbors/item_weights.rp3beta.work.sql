-- item_weights (rp3beta, work): cut into batches by sql/steps/pipeline/batches.sql. The
-- work of a source movie of _recsys_weight_movies: the rows its walks join, sum over its
-- raters u of n_u.
create or replace temp table _recsys_batch_work as
with user_ratings as (
    select e.user_id, count(*) as n_ratings
    from _recsys_walk_entries as e
    group by e.user_id
)
select m.position, sum(u.n_ratings) as work
from _recsys_walk_entries as e
inner join user_ratings as u on u.user_id = e.user_id
inner join _recsys_walk_movies as m on m.movie_id = e.movie_id
semi join _recsys_weight_movies as w on w.movie_id = e.movie_id
group by m.position;
