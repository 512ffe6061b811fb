-- movie_stats: one row per movie with at least one rating.
-- rating_norm = sqrt(sum of the movie's squared ratings), the L2 norm of the movie's
-- zero-filled rating vector (the denominator of item-item cosine similarity).
create or replace view movie_stats as
select
    movie_id,
    count(*) as n_ratings,
    avg(rating) as mean_rating,
    stddev_samp(rating) as stddev_rating,
    sqrt(sum(rating * rating)) as rating_norm
from ratings
group by movie_id;
