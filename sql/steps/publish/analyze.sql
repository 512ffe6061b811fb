-- publish/analyze: a step in PostgreSQL's dialect, run after the tables of the staging
-- schema (the search_path) were filled, so that the planner has statistics for BI
-- queries from the first query on. ANALYZE, unlike VACUUM, may run in a transaction.
do $$
declare
    rel regclass;
begin
    for rel in
        select c.oid::regclass
        from pg_class as c
        -- By name: a cast of the name to regnamespace would fold 'Recsys' to recsys.
        where c.relnamespace = (select n.oid from pg_namespace as n where n.nspname = current_schema())
            and c.relkind = 'r'
        order by c.relname
    loop
        execute format('analyze %s', rel);
    end loop;
end
$$;
