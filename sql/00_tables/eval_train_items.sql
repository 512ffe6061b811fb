-- eval_train_items: one row per (split, fold, movie_id) rated in that fold's train part;
-- n_ratings = how many train ratings the movie had there. It is the popularity that
-- novelty uses, and its movies are the catalogue that catalogue coverage divides by.
create table if not exists eval_train_items (
    split varchar not null,
    fold integer not null,
    movie_id integer not null,
    n_ratings integer not null,
    primary key (split, fold, movie_id)
);
