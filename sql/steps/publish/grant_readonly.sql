-- publish/grant_readonly: a step in PostgreSQL's dialect, run before the swap in the
-- transaction that fills the staging schema <schema>__new. Grants USAGE on it and SELECT
-- on every one of its tables, and nothing else, to the role named by the setting
-- recsys_duck.readonly_role (when not empty) and to every role that holds USAGE on the
-- schema being replaced (recsys_duck.schema), so that republishing keeps the analysts'
-- access exactly as it was.
do $$
declare
    published text := current_setting('recsys_duck.schema');
    staging text := published || '__new';
    named_role text := current_setting('recsys_duck.readonly_role');
    grantee text;
begin
    for grantee in
        select quote_ident(named_role)
        where named_role <> ''
        union
        select case when a.grantee = 0 then 'public' else quote_ident(r.rolname) end
        from pg_namespace as n
        cross join lateral aclexplode(n.nspacl) as a
        left join pg_roles as r on r.oid = a.grantee
        where n.nspname = published
            and a.privilege_type = 'USAGE'
            and a.grantee <> n.nspowner
    loop
        execute format('grant usage on schema %I to %s', staging, grantee);
        execute format('grant select on all tables in schema %I to %s', staging, grantee);
    end loop;
end
$$;
