-- content_features: one row per (movie_id, feature), the stacked content vector of a
-- movie: its genre TF-IDF block scaled by content_genre_weight (0.6) next to its tag
-- TF-IDF block scaled by content_tag_weight (0.4). Feature names are prefixed with
-- their block so a word that is both a genre and a tag stays two coordinates.
create or replace view content_features as
with params as (
    select content_genre_weight, content_tag_weight from recsys_params
),
genre_block as (
    select t.movie_id, 'genre:' || t.term as feature, p.content_genre_weight * t.weight as value
    from movie_terms as t
    cross join params as p
),
tag_block as (
    select t.movie_id, 'tag:' || t.term as feature, p.content_tag_weight * t.weight as value
    from movie_tag_terms as t
    cross join params as p
)
select movie_id, feature, value from genre_block
union all
select movie_id, feature, value from tag_block;
