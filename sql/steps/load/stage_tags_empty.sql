-- _recsys_load_tags, empty: no rows, the columns replace_tables reads. Run instead of
-- read_raw and stage_tags when the folder has no tags.csv (the tags table stays empty).
create or replace temp table _recsys_load_tags as
select null::integer as user_id, null::integer as movie_id, null::varchar as tag,
    null::bigint as epoch_seconds, null::bigint as record_no
where false;
