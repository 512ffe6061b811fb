-- eval_given_ratings: the split an evaluation was given as files (evaluate --train FILE
-- --test FILE, one pair per fold): one row per rating of fold's train file (is_test
-- false) or test file (is_test true). The 'given' split of the eval_* tables scores
-- these folds; the rows are kept so that the split an evaluation used can be queried.
create table if not exists eval_given_ratings (
    fold integer not null,
    user_id integer not null,
    movie_id integer not null,
    rating double not null,
    rated_at timestamp not null,
    is_test boolean not null,
    primary key (fold, is_test, user_id, movie_id)
);
