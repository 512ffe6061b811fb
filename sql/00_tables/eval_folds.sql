-- eval_folds: one row per evaluated (split, fold): n_train_users and n_train_ratings
-- count the distinct users and the ratings of the fold's train part, n_test its
-- held-out ratings. Novelty divides by n_train_users.
create table if not exists eval_folds (
    split varchar not null,
    fold integer not null,
    n_train_users integer not null,
    n_train_ratings integer not null,
    n_test integer not null,
    primary key (split, fold)
);
