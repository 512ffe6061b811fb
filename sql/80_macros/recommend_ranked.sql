-- recommend_ranked(user_id, model := NULL, n := 10): the user's top n unrated movies by
-- a ranking method of ranking_models (item_knn, rp3beta, item_ridge, ...; NULL: the one
-- of best validation NDCG@10, see ranking_model_of), one row per movie, ordered by score
-- (to 10 decimal places) then movie_id. With w the model's item_weights:
--   score(u, j) = sum over the movies i that u rated of v(u, i) * w(i, j)
-- v(u, i) = r_ui for a model with rating_values, else 1 (item_weight_scores, whose
-- numbers the recommendations mart stores for every user).
-- Example: select * from recommend_ranked(1, model := 'item_ridge', n := 5);
create or replace macro recommend_ranked(target_user_id, model := NULL, n := 10) as table
with checked as (
    -- Raises for an unknown user or model; the model's name is a constant for the join.
    select user_id_of(target_user_id) as checked_user_id, ranking_model_of(model) as name
),
scores as (
    select
        w.neighbor_id as movie_id,
        sum(case when m.rating_values then r.rating else 1.0 end * w.weight) as score
    from checked as k
    inner join ranking_models as m on m.model = k.name
    inner join item_weights as w on w.model = m.model
    inner join ratings as r on r.movie_id = w.movie_id and r.user_id = target_user_id
    left join ratings as seen
        on seen.user_id = target_user_id and seen.movie_id = w.neighbor_id
    where k.checked_user_id is not null and seen.movie_id is null
    group by w.neighbor_id
),
top_n as (
    select s.movie_id, s.score
    from scores as s
    order by round(s.score, 10) desc, s.movie_id asc
    limit n
)
select
    t.movie_id,
    m.title,
    m.genres,
    t.score
from top_n as t
inner join movies as m on m.movie_id = t.movie_id
order by round(t.score, 10) desc, t.movie_id asc;
