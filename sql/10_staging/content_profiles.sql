-- content_profiles: one row per movie with content features (content_features), naming
-- its content profile: the movies whose stacked content vectors are equal (the same
-- features with the same values) share one profile, named by profile_id, the smallest
-- movie_id among them. member_rank is the movie's place among its profile's movies by
-- movie_id (1 = the profile's own movie), n_members their count.
-- Movies of one profile have the same similarity to every movie, so content similarity
-- is computed between profiles (content_profile_similarity) and expanded to movies:
-- ml-latest-small's 9,742 movies have 1,381 profiles, the ~47M movie pairs that share a
-- feature are ~1M profile pairs. Created empty here; content_profiles.fill.sql fills it.
create or replace table content_profiles (
    movie_id integer not null,
    profile_id integer not null,
    member_rank bigint not null,
    n_members bigint not null
);
