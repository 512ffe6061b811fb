-- item_weights (scope of add-ratings): run after item_pair_sums.increment.sql has added
-- the new ratings of _recsys_new_ratings to the pair sums and listed in
-- _recsys_changed_movies the movies with a new rating (R) and every movie paired with
-- one. Those are the movies whose rows can change, in _recsys_weight_movies: recomputing
-- their rows, and only theirs, gives every model's weights of all ratings exactly,
-- because each row reads only the pair sums and the counts of movies and users that a
-- movie outside this list never meets:
-- * item_knn, row i: sim(i, j) for every j, from dot(i, j), |x_i| and |x_j|; one of
--   them changes only if i or j is in R, and then i is in R or paired with j in R;
-- * rp3beta, row i: W(i, j) from n_i, n_j (as for item_knn) and the n_u of the users who
--   rated i and j; n_u changes only with a new rating of some m in R, and then i, which
--   that user rated too, is paired with m;
-- * item_ridge, target j: N(j) by the 0/1 cosines of j, and the co-rating counts among
--   N(j) and j; a count changes only on a pair with a movie of R, and the movies of N(j)
--   are all paired with j.
delete from item_weights
where model not in (select m.model from ranking_models as m);

create or replace temp table _recsys_weight_movies as
select c.movie_id
from _recsys_changed_movies as c;
