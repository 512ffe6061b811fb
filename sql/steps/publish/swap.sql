-- publish/swap: a step in PostgreSQL's dialect, the whole of its own short transaction,
-- run after the transaction that filled <schema>__new committed (recsys_duck.schema names
-- the published schema). It takes ACCESS EXCLUSIVE locks on every table of the
-- published schema, waiting for the readers that hold them to finish, and renames the
-- schema to <schema>__old and <schema>__new to <schema>.
--
-- Readers see the old tables or the new ones, never a mix and never a missing table: a
-- transaction that read an old table holds its lock to the end, so the swap waits for it
-- (and so a REPEATABLE READ transaction reads one publication throughout); a query that
-- arrives during the swap waits for the commit, then resolves the names to the new
-- tables. While the swap waits for a table, later readers of that table queue behind it.
--
-- A reader that holds table X and wants table T, which the swap holds while it waits for
-- X, would deadlock with it. lock_timeout (100 ms, below PostgreSQL's default 1 s
-- deadlock_timeout) makes the swap, never the reader, give up: its locks are released,
-- the error names the table it waited for, and recsys_duck.publish retries with that
-- table locked first (recsys_duck.lock_first lists such tables, most recent first), which
-- converges on the order in which the readers take them.
--
-- publish/wait_for_snapshots runs first in the same transaction, so that a REPEATABLE
-- READ transaction blocked by the swap has a snapshot that sees the filled tables. The
-- retired schema is dropped by publish/drop_retired.sql, in a later transaction.
--
-- The swap refuses to replace a schema that recsys-duck did not create, or one whose
-- tables other objects depend on (a CASCADE would silently drop those objects).
do $$
declare
    published text := current_setting('recsys_duck.schema');
    staging text := published || '__new';
    retired text := published || '__old';
    lock_first text[] := string_to_array(current_setting('recsys_duck.lock_first', true), ',');
    old_oid oid;
    marker text;
    table_name text;
    waiting_for text;
    dependents text;
begin
    perform pg_advisory_xact_lock(hashtext('recsys_duck.publish'), hashtext(published));
    if to_regnamespace(quote_ident(staging)) is null then
        raise exception 'schema % does not exist, so there is nothing to swap in', staging
            using hint = 'Another publish of schema ' || published || ' ran at the same time; '
                || 'publish again.';
    end if;
    old_oid := to_regnamespace(quote_ident(published));
    if old_oid is not null then
        marker := obj_description(old_oid, 'pg_namespace');
        if marker is null or marker not like 'recsys-duck publication%' then
            raise exception 'schema % exists and was not created by recsys-duck publish; '
                'refusing to replace it', published
                using hint = 'Publish to another schema (--schema), or drop this one first.';
        end if;
        perform set_config('lock_timeout', '100ms', true);
        begin
            for table_name in
                select c.relname
                from pg_class as c
                where c.relnamespace = old_oid
                    and c.relkind in ('r', 'p', 'v', 'm')
                order by array_position(lock_first, c.relname::text) nulls last, c.relname
            loop
                waiting_for := table_name;
                execute format('lock table %I.%I in access exclusive mode', published, table_name);
            end loop;
        exception when lock_not_available then
            raise exception 'lock timeout on table %', waiting_for
                using errcode = 'lock_not_available';
        end;
        perform set_config('lock_timeout', '0', true);
        select string_agg(distinct coalesce(
            (
                select format('view %I.%I', vn.nspname, v.relname)
                from pg_rewrite as w
                inner join pg_class as v on v.oid = w.ev_class
                inner join pg_namespace as vn on vn.oid = v.relnamespace
                where d.classid = 'pg_rewrite'::regclass and w.oid = d.objid
            ),
            pg_describe_object(d.classid, d.objid, d.objsubid)
        ), ', ')
        into dependents
        from pg_depend as d
        inner join pg_class as t
            on d.refclassid = 'pg_class'::regclass and t.oid = d.refobjid
        where t.relnamespace = old_oid
            and d.deptype = 'n'
            and not (d.classid = 'pg_class'::regclass and exists (
                select 1 from pg_class as o where o.oid = d.objid and o.relnamespace = old_oid
            ));
        if dependents is not null then
            raise exception 'objects depend on the published tables of schema % and would be '
                'dropped with them: %', published, dependents
                using hint = 'Views bind to the tables they read, which each publish replaces; '
                    || 'drop those objects (recreate them after publishing) or query the tables.';
        end if;
        execute format('drop schema if exists %I cascade', retired);
        execute format('alter schema %I rename to %I', published, retired);
    end if;
    execute format('alter schema %I rename to %I', staging, published);
end
$$;
