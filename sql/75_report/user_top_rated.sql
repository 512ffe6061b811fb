-- user_top_rated: one row per rating, ranked within its user from the highest rating:
-- rank 1 is the user's highest rating, equal ratings the most recent (rated_at desc)
-- first, then the smaller movie_id. Filter rank <= 10 for what a user rated highly.
create or replace view user_top_rated as
select
    r.user_id,
    row_number() over (
        partition by r.user_id
        order by r.rating desc, r.rated_at desc, r.movie_id asc
    ) as rank,
    r.movie_id,
    m.title,
    m.genres,
    r.rating,
    r.rated_at
from ratings as r
inner join movies as m on m.movie_id = r.movie_id;
