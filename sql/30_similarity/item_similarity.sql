-- item_similarity: one row per ordered pair of distinct co-rated movies.
-- Cosine similarity of the movies' zero-filled rating vectors (what scikit-learn's
-- cosine_similarity gives on a user x movie matrix with missing ratings as 0):
--   sim(i, j) = sum_{u rated both} r_ui * r_uj
--               / ( sqrt(sum_{u rated i} r_ui^2) * sqrt(sum_{u rated j} r_uj^2) )
-- Pairs with no common user have similarity 0 and no row. Ratings are positive, so
-- every stored similarity lies in (0, 1].
create or replace view item_similarity as
select
    p.movie_id,
    p.neighbor_id,
    p.n_common,
    p.dot_product / nullif(a.rating_norm * b.rating_norm, 0) as similarity
from item_co_ratings as p
inner join movie_stats as a on a.movie_id = p.movie_id
inner join movie_stats as b on b.movie_id = p.neighbor_id;
