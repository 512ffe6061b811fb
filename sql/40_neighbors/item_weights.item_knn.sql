-- item_weights (item_knn): the rows of model $model. With x_i movie i's column of the
-- user x movie matrix (r_ui where u rated i, else 0; 1 instead of r_ui unless
-- $rating_values), from the pair sums of item_pair_sums and the norms of movie_stats:
--   sim(i, j) = x_i . x_j / (|x_i| |x_j| + $shrinkage)
-- (the shrinkage pulls similarities computed from few common users towards 0). Each
-- movie i keeps its $neighbors most similar movies N(i) (similarity rounded to 12
-- places, then the smaller neighbor_id) and
--   w(i, j) = sim(i, j) / sum_{j' in N(i)} sim(i, j')   when $normalize
--   w(i, j) = sim(i, j)                                  otherwise.
-- The rows of the source movies in _recsys_weight_movies (item_weights.scope.sql: every
-- movie at a build; the movies whose rows can change at add-ratings) are replaced.
delete from item_weights
where model = $model and movie_id in (select s.movie_id from _recsys_weight_movies as s);

insert into item_weights (model, movie_id, neighbor_id, weight)
with pair_similarity as (
    select
        p.movie_id,
        p.neighbor_id,
        case when $rating_values then p.dot_product else p.n_common end
        / nullif(
            case
                when $rating_values then a.rating_norm * b.rating_norm
                else sqrt(cast(a.n_ratings as double)) * sqrt(cast(b.n_ratings as double))
            end + $shrinkage,
            0
        ) as similarity
    from item_pair_sums as p
    inner join movie_stats as a on a.movie_id = p.movie_id
    inner join movie_stats as b on b.movie_id = p.neighbor_id
),
both_orders as (
    select s.movie_id, s.neighbor_id, s.similarity
    from pair_similarity as s
    union all
    select s.neighbor_id as movie_id, s.movie_id as neighbor_id, s.similarity
    from pair_similarity as s
),
ranked as (
    -- The rounded similarity and the id packed in one key, as item_similarity.rank_key
    -- (similarities lie in [0, 1], ids below 2^22): a top-k aggregate, not a sort.
    select
        o.movie_id,
        o.neighbor_id,
        o.similarity,
        row_number() over (
            partition by o.movie_id
            order by cast(round(o.similarity * 1e12) as bigint) * 4194304 - o.neighbor_id desc
        ) as rank
    from both_orders as o
    semi join _recsys_weight_movies as w on w.movie_id = o.movie_id
),
kept as (
    select r.movie_id, r.neighbor_id, r.similarity
    from ranked as r
    where r.rank <= $neighbors
)
select
    $model as model,
    k.movie_id,
    k.neighbor_id,
    case
        when $normalize
            then k.similarity / nullif(sum(k.similarity) over (partition by k.movie_id), 0)
        else k.similarity
    end as weight
from kept as k;
