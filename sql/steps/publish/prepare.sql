-- publish/prepare: a step, not a layer, in PostgreSQL's dialect. recsys_duck.publish runs
-- it first in the transaction that fills the staging schema, with the setting
-- recsys_duck.schema naming the published schema (say recsys). It serialises publishes
-- of that schema, drops the staging schema recsys__new and the retired one recsys__old
-- that an interrupted publish may have left (only when their comment marks them as a
-- recsys-duck publication: a user's schema of that name is refused, never dropped),
-- creates recsys__new afresh (marked by its comment) and makes
-- it the transaction's search_path, so the files of publish/tables create their tables
-- there. Nothing is visible to readers before the swap (publish/swap.sql).
do $$
declare
    published text := current_setting('recsys_duck.schema');
    staging text := published || '__new';
    leftover text;
begin
    perform pg_advisory_xact_lock(hashtext('recsys_duck.publish'), hashtext(published));
    foreach leftover in array array[staging, published || '__old'] loop
        if to_regnamespace(quote_ident(leftover)) is not null
            and coalesce(
                obj_description(to_regnamespace(quote_ident(leftover)), 'pg_namespace'), ''
            ) not like 'recsys-duck publication%' then
            raise exception 'schema % exists and was not created by recsys-duck publish; '
                'refusing to drop it', leftover
                using hint = 'Rename it, or publish to another schema (--schema).';
        end if;
        execute format('drop schema if exists %I cascade', leftover);
    end loop;
    execute format('create schema %I', staging);
    execute format(
        'comment on schema %I is %L',
        staging,
        'recsys-duck publication, replaced as a whole by each publish (published '
        || to_char(now() at time zone 'utc', 'YYYY-MM-DD HH24:MI:SS')
        || ' UTC). Tables only; do not add objects here or build views on them elsewhere.'
    );
    perform set_config('search_path', quote_ident(staging), true);
end
$$;
