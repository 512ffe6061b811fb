-- rating_matrix_stats: one row describing the sparse user x movie rating matrix.
-- n_movies counts movies with at least one rating (not all of movies.csv);
-- density = n_ratings / (n_users * n_movies); sparsity = 1 - density;
-- mean_rating = mu, the mean of all ratings (the global mean of the baseline predictor).
create or replace view rating_matrix_stats as
with counts as (
    select
        count(distinct user_id) as n_users,
        count(distinct movie_id) as n_movies,
        count(*) as n_ratings,
        avg(rating) as mean_rating
    from ratings
)
select
    n_users,
    n_movies,
    n_ratings,
    n_ratings / nullif(cast(n_users as double) * n_movies, 0) as density,
    1 - n_ratings / nullif(cast(n_users as double) * n_movies, 0) as sparsity,
    mean_rating
from counts;
