-- publish/drop_retired: a step in PostgreSQL's dialect, its own transaction after the swap
-- committed (after publish/wait_for_snapshots): drops <schema>__old, the previous
-- publication (recsys_duck.schema names the published schema). Nobody can reach those
-- tables by their published names any more; if a lock still cannot be had within 1 s,
-- the publish leaves the schema to the next publish, which drops it first.
do $$
declare
    retired text := current_setting('recsys_duck.schema') || '__old';
begin
    perform set_config('lock_timeout', '1s', true);
    -- Only a schema marked as a publication (the swap renamed ours to this name).
    if coalesce(obj_description(to_regnamespace(quote_ident(retired)), 'pg_namespace'), '')
        like 'recsys-duck publication%' then
        execute format('drop schema if exists %I cascade', retired);
    end if;
end
$$;
