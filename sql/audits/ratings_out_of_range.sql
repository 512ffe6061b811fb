-- ratings_out_of_range: ratings off MovieLens' half-star scale 0.5 .. 5.0 (want: none).
select r.user_id, r.movie_id, r.rating
from ratings as r
where r.rating < 0.5 or r.rating > 5.0 or r.rating * 2 <> round(r.rating * 2);
