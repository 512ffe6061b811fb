-- clear_given_ratings: a step of recsys_duck.loader, run before the files of a split given
-- as files are staged into eval_given_ratings: the previous given split is forgotten.
delete from eval_given_ratings;
