-- recommendations (one batch): run once per range [$lo, $hi) of user_ids cut by
-- recommendations.work.sql. Adds the top $n_recommendations (recsys_params) movies of
-- each user in the range by each method (recommendations.sql lists the scores).
-- Equal scores (to 10 decimal places, so that floating-point noise cannot reorder
-- mathematically equal scores) are ordered by the smaller movie_id, both packed in one
-- key, rank_key = round(score * 1e10) * 2^22 - movie_id (a DECIMAL(38), as scores reach
-- 10^5), which DuckDB sorts faster than two keys. The user range is a partition key of
-- the ranking and a grouping key of every score, so DuckDB applies it to the ratings
-- each method scores from; rank <= $n_recommendations (a constant) lets it rank with a
-- top-n aggregate instead of a sort.
insert into recommendations (method, user_id, rank, movie_id, title, genres, score)
with scored as (
    select 'user_based' as method, user_id, movie_id, score
    from user_based_predictions
    union all
    select 'item_based' as method, user_id, movie_id, score
    from item_based_scores
    union all
    select 'content_based' as method, user_id, movie_id, score
    from content_based_scores
    union all
    select 'popularity' as method, user_id, movie_id, score
    from popularity_scores
    union all
    select method, user_id, movie_id, score
    from item_weight_scores
),
keyed as (
    select
        s.method,
        s.user_id,
        s.movie_id,
        s.score,
        cast(round(s.score * 1e10) as decimal(38, 0)) * 4194304 - s.movie_id as rank_key
    from scored as s
    where s.user_id >= $lo and s.user_id < $hi
),
ranked as (
    select
        k.method,
        k.user_id,
        k.movie_id,
        k.score,
        row_number() over (partition by k.method, k.user_id order by k.rank_key desc) as rank
    from keyed as k
)
select
    r.method,
    r.user_id,
    r.rank,
    r.movie_id,
    m.title,
    m.genres,
    r.score
from ranked as r
inner join movies as m on m.movie_id = r.movie_id
where r.rank <= $n_recommendations
order by r.method, r.user_id, r.rank;
