-- raw_columns: no rows; the columns of _recsys_load_raw (the file's own, then where each
-- row came from), which the loader checks against the ones MovieLens uses.
select *
from _recsys_load_raw
limit 0;
