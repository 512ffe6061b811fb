-- store_scale: a step of the build, run after the load (or the copy of the previous
-- file's ratings): the rating scale the ratings were checked against, $rating_min ..
-- $rating_max on steps of $rating_step (0 for any value), which predictions are then
-- clipped to.
update recsys_params
set rating_min = $rating_min, rating_max = $rating_max, rating_step = $rating_step;
