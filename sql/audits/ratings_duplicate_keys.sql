-- ratings_duplicate_keys: (user_id, movie_id) pairs rated more than once (want: none).
select r.user_id, r.movie_id, count(*) as n_ratings
from ratings as r
group by r.user_id, r.movie_id
having count(*) > 1;
