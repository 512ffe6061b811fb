-- inferred_scale: the rating scale the staged ratings show when none is given: their
-- lowest and highest value, and a step of 1 when every rating is whole, 0.5 when every
-- one is a half, else 0 (any value between). Values that are not finite numbers are
-- left to check_ratings to report.
select
    min(rating) as rating_min,
    max(rating) as rating_max,
    case
        when bool_and(rating = round(rating)) then 1.0
        when bool_and(rating * 2 = round(rating * 2)) then 0.5
        else 0.0
    end as rating_step
from _recsys_load_ratings
where isfinite(rating);
