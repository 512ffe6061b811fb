-- recommendations_already_rated: recommended movies the user has already rated (want: none).
select rec.method, rec.user_id, rec.movie_id
from recommendations as rec
inner join ratings as r on r.user_id = rec.user_id and r.movie_id = rec.movie_id;
