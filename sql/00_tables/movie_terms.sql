-- movie_terms: one row per (movie_id, term) with a non-zero TF-IDF weight in the
-- movie's genre vector. Written by the build from scikit-learn's
-- TfidfVectorizer(stop_words='english') over genres with '|' replaced by spaces:
-- weight = tf * (ln((1 + n_docs) / (1 + df)) + 1), each movie's vector L2-normalised.
create table if not exists movie_terms (
    movie_id integer not null,
    term varchar not null,
    weight double not null,
    primary key (movie_id, term)
);
