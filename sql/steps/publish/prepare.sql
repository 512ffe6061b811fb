-- publish/prepare: a step, not a layer, in PostgreSQL's dialect. recsys_duck.publish runs
-- it first in the transaction that fills the staging schema, with the setting
-- recsys_duck.schema naming the published schema (say recsys). It serialises publishes
-- of that schema, drops the staging schema recsys__new and the retired one recsys__old
-- that an interrupted publish may have left, creates recsys__new afresh (marked by its comment as a recsys-duck publication) and makes
-- it the transaction's search_path, so the files of publish/tables create their tables
-- there. Nothing is visible to readers before the swap (publish/swap.sql).
do $$
declare
    published text := current_setting('recsys_duck.schema');
    staging text := published || '__new';
begin
    perform pg_advisory_xact_lock(hashtext('recsys_duck.publish'), hashtext(published));
    execute format('drop schema if exists %I cascade', staging);
    execute format('drop schema if exists %I cascade', published || '__old');
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
