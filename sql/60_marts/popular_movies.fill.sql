-- popular_movies (fill): every rated movie of movie_popularity, in popularity order.
insert into popular_movies (movie_id, n_ratings, popularity_rank)
select p.movie_id, p.n_ratings, p.popularity_rank
from movie_popularity as p
order by p.popularity_rank, p.movie_id;
