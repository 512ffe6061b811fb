-- _recsys_load_problems for a file of new ratings: one row per record rating a (user,
-- movie) pair the ratings table already holds. add-ratings adds ratings; it does not
-- replace them (a changed rating is a different update: rebuild from the full files).
create or replace temp table _recsys_load_problems as
select s.record_no, 5 as priority, 'userId,movieId' as column_name, 'already_rated' as kind,
    s.user_id_text || ',' || s.movie_id_text as value, null::bigint as other_record_no
from _recsys_load_ratings as s
semi join ratings as r on r.user_id = s.user_id and r.movie_id = s.movie_id;
