-- publish/drop_staging: a step in PostgreSQL's dialect, the clean-up after a publish
-- failed once the staging schema <schema>__new (recsys_duck.schema names the published
-- schema) had been committed. The published schema itself is never touched here.
do $$
declare
    staging text := current_setting('recsys_duck.schema') || '__new';
begin
    -- Only a schema marked as a publication: prepare.sql refused any other of this name.
    if coalesce(obj_description(to_regnamespace(quote_ident(staging)), 'pg_namespace'), '')
        like 'recsys-duck publication%' then
        execute format('drop schema if exists %I cascade', staging);
    end if;
end
$$;
