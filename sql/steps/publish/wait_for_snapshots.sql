-- publish/wait_for_snapshots: a step in PostgreSQL's dialect, run at the start of the swap
-- and of the drop of the retired schema. It waits, at most 2 s, until no client session
-- of this database holds a snapshot older than the transaction that last wrote the
-- catalog row of the schema named by the setting recsys_duck.wait_for_schema (the
-- transaction that filled <schema>__new, or the swap that renamed it).
--
-- PostgreSQL resolves table names in the current catalog but reads rows and catalog
-- views (information_schema) with the transaction's snapshot. A REPEATABLE READ
-- transaction whose snapshot predates the fill would find the new tables empty; one whose
-- snapshot predates the swap lists the old tables in information_schema, which must
-- still exist. Such transactions are short-lived in practice; past 2 s the publish goes
-- ahead (an unrelated long-running writer makes every snapshot look old).
do $$
declare
    written_by xid;
    patience timestamptz := clock_timestamp() + interval '2 seconds';
begin
    select n.xmin into written_by
    from pg_namespace as n
    where n.nspname = current_setting('recsys_duck.wait_for_schema');
    if written_by is null then
        return;
    end if;
    loop
        perform pg_stat_clear_snapshot();
        exit when clock_timestamp() > patience or not exists (
            select 1
            from pg_stat_activity as a
            where a.datname = current_database()
                and a.usesysid is not null  -- a client session (backend_type is hidden
                                            -- from the publisher for other roles' sessions)
                and a.pid <> pg_backend_pid()
                and age(a.backend_xmin) >= age(written_by)
        );
        perform pg_sleep(0.005);
    end loop;
end
$$;
