-- movie_tag_terms: one row per (movie_id, term) with a non-zero TF-IDF weight in the
-- movie's tag vector: all tags of tags.csv for the movie joined by spaces, one document
-- per movie (empty for untagged movies), scikit-learn's
-- TfidfVectorizer(stop_words='english', max_features=recsys_params.tag_max_features),
-- rows L2-normalised.
create table if not exists movie_tag_terms (
    movie_id integer not null,
    term varchar not null,
    weight double not null,
    primary key (movie_id, term)
);
