-- publish/readonly_role: a query in PostgreSQL's dialect, one row per role of the server,
-- with everything that would let the role do more than read the publication. A role
-- granted read-only access (publish --grant-readonly ROLE) must have every flag false:
-- superusers bypass all privileges; members of the publishing role inherit ownership of
-- the tables; CREATEROLE can grant itself pg_write_server_files; members of
-- pg_write_server_files or pg_execute_server_program can COPY ... TO a file or program,
-- and pg_write_all_data can write every table; CREATE on the database or on schema public
-- lets it create objects.
select
    r.rolname as role_name,
    r.rolsuper as is_superuser,
    pg_has_role(r.oid, current_user, 'MEMBER') as is_publisher,
    r.rolcreaterole as can_create_roles,
    coalesce(pg_has_role(r.oid, to_regrole('pg_write_server_files'), 'MEMBER'), false)
    or coalesce(pg_has_role(r.oid, to_regrole('pg_execute_server_program'), 'MEMBER'), false)
        as can_write_server_files,
    coalesce(pg_has_role(r.oid, to_regrole('pg_write_all_data'), 'MEMBER'), false)
        as can_write_all_data,
    has_database_privilege(r.oid, current_database(), 'CREATE') as can_create_schemas,
    coalesce((
        select has_schema_privilege(r.oid, n.oid, 'CREATE')
        from pg_namespace as n
        where n.nspname = 'public'
    ), false) as can_create_in_public
from pg_roles as r
