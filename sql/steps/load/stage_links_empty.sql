-- _recsys_load_links, empty: no rows, the columns replace_tables reads. Run instead of
-- read_raw and stage_links when the folder has no links.csv (the links table stays
-- empty).
create or replace temp table _recsys_load_links as
select null::integer as movie_id, null::varchar as imdb_id, null::integer as tmdb_id,
    null::bigint as record_no
where false;
