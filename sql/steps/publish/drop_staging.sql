-- publish/drop_staging: a step in PostgreSQL's dialect, the clean-up after a publish
-- failed once the staging schema <schema>__new (recsys_duck.schema names the published
-- schema) had been committed. The published schema itself is never touched here.
do $$
begin
    execute format('drop schema if exists %I cascade', current_setting('recsys_duck.schema') || '__new');
end
$$;
