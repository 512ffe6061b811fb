-- ratings_orphan_movies: ratings of a movie_id missing from movies (want: none).
select r.user_id, r.movie_id
from ratings as r
left join movies as m on m.movie_id = r.movie_id
where m.movie_id is null;
