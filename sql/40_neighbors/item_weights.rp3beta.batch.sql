-- item_weights (rp3beta, one batch): the rows of model $model whose source movie i is in
-- _recsys_weight_movies and has a position in [$lo, $hi) (item_weights.rp3beta.prepare.sql
-- gives the formula). A row
-- is ranked by W(i, j) * n_i^$alpha (the same order, without the row's own factor)
-- rounded to 12 places, so that sums added in another order (Spark) cannot swap equal
-- weights, then by the smaller neighbor_id.
insert into item_weights (model, movie_id, neighbor_id, weight)
with sources as (
    select m.movie_id, m.n_ratings
    from _recsys_walk_movies as m
    semi join _recsys_weight_movies as w on w.movie_id = m.movie_id
    where m.position >= $lo and m.position < $hi
),
walks as (
    select a.movie_id, b.movie_id as neighbor_id, sum(a.step) as walk
    from _recsys_walk_entries as a
    inner join sources as s on s.movie_id = a.movie_id
    inner join _recsys_walk_entries as b on b.user_id = a.user_id and b.movie_id <> a.movie_id
    group by a.movie_id, b.movie_id
),
ranked as (
    select
        w.movie_id,
        w.neighbor_id,
        w.walk * power(cast(t.n_ratings as double), -$beta) as row_weight,
        row_number() over (
            partition by w.movie_id
            order by round(w.walk * power(cast(t.n_ratings as double), -$beta), 12) desc,
                w.neighbor_id asc
        ) as rank
    from walks as w
    inner join _recsys_walk_movies as t on t.movie_id = w.neighbor_id
),
kept as (
    select r.movie_id, r.neighbor_id, r.row_weight * power(cast(s.n_ratings as double), -$alpha) as weight
    from ranked as r
    inner join sources as s on s.movie_id = r.movie_id
    where r.rank <= $neighbors
)
select
    $model as model,
    k.movie_id,
    k.neighbor_id,
    case
        when $normalize
            then k.weight / nullif(sum(k.weight) over (partition by k.movie_id), 0)
        else k.weight
    end as weight
from kept as k;
