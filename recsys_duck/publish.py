"""Publishing the analyst-facing tables to PostgreSQL, the database every BI tool speaks.

    >>> from recsys_duck.publish import publish
    >>> publish("data/recsys.duckdb", "postgresql://publisher@127.0.0.1:5432/bi",
    ...         grant_readonly="analyst")                                 # doctest: +SKIP

What is published: the tables of ``sql/steps/publish/tables`` (one file per table, in
PostgreSQL's dialect: plain column types, primary key, lookup indexes, a comment giving
the grain), each filled from the DuckDB object of the same name (views are materialised)
by DuckDB's postgres extension, which copies rows with PostgreSQL's binary COPY.

How it stays atomic: the tables are created and filled in a staging schema
``<schema>__new`` in one PostgreSQL transaction (``prepare.sql``, the table files,
``analyze.sql``, ``grant_readonly.sql``), which commits before readers could ever see it.
A second, short transaction (``wait_for_snapshots.sql``, ``swap.sql``) locks the
published tables and renames ``<schema>`` to ``<schema>__old`` and ``<schema>__new`` to
``<schema>``; a third drops ``<schema>__old``. Readers see the previous publication or
the new one, never a mix, never a missing table (``swap.sql`` says why). If anything
fails before the swap commits, the published schema is untouched and the staging schema
is rolled back or dropped. Publishing the same database twice gives the same tables.
Publishes of one schema are serialised by a PostgreSQL advisory lock.

Caveats: each publish replaces the whole schema, so views built on its tables would be
dropped (the swap refuses and names them), and it refuses to replace a schema it did
not create. A REPEATABLE READ transaction whose snapshot is older than the publish and
still open 2 s after it may see the new tables empty or miss the old ones in
information_schema (PostgreSQL's catalog is not versioned by snapshot); READ COMMITTED,
PostgreSQL's default and BI tools', sees one publication or the other in every query.

The DuckDB file is attached read-only to an in-memory DuckDB session: it need not be
writable, other processes may read it meanwhile, and a rebuild that replaces the file
during a publish does not disturb it. The extension comes from the
``duckdb-extension-postgres-scanner`` wheel (``pip install 'recsys-duck[bi]'``), loaded
from its file, never downloaded. The connection URL's password is bound into a
temporary DuckDB secret and never appears in SQL text, logs or error messages; leaving
it out of the URL lets libpq read ``PGPASSWORD`` or ``~/.pgpass``.

The read-only role (``grant_readonly``) must already exist and must not be a superuser, a
member of the publishing role, able to create roles, a member of
``pg_write_server_files`` / ``pg_execute_server_program`` / ``pg_write_all_data``, or
allowed to CREATE in the database or in schema ``public``; the publish refuses such a
role and says why. It gets USAGE on the schema and SELECT on its tables, nothing else,
and keeps them across later publishes (every role with USAGE on the schema does).
"""

from __future__ import annotations

import logging
import os
import random
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

import duckdb

from recsys_duck.errors import InvalidArgumentError, NotBuiltError, RecsysError
from recsys_duck.progress import tracked
from recsys_duck.sql import (
    execute,
    quote_identifier,
    sql_dir,
    step_file,
    string_literal,
    transaction,
)

logger = logging.getLogger(__name__)

#: The aliases of the DuckDB file and of the PostgreSQL database in the DuckDB session.
SOURCE = "recsys_publish_source"
TARGET = "recsys_publish_target"
_SECRET = "recsys_publish_secret"

# PostgreSQL truncates identifiers at 63 bytes; the staging and retired names add 5.
_MAX_SCHEMA_BYTES = 63 - len("__new")
_RESERVED_SCHEMAS = frozenset({"public", "information_schema"})
_LIBPQ_KEYWORD = re.compile(r"^[a-z_]+$")
_LOCK_TIMEOUT = re.compile(r"lock timeout on table (\w+)")
_KEYS_MARKER = re.compile(r"^-- keys and indexes\b", re.MULTILINE)


class PublishError(RecsysError):
    """Publishing to PostgreSQL failed; the previously published schema is intact."""


@dataclass
class PublishReport:
    """What a publish did: rows per published table, seconds per step, swap attempts."""

    schema: str
    rows: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    swap_attempts: int = 0

    @property
    def total_seconds(self) -> float:
        return sum(self.seconds.values())


def published_tables() -> list[str]:
    """The names of the published tables: one file each in ``sql/steps/publish/tables``."""
    return [path.stem for path in _table_files()]


def publish(
    db_path: str | os.PathLike[str],
    postgres_url: str,
    schema: str = "recsys",
    grant_readonly: str | None = None,
    *,
    swap_timeout: float = 60.0,
) -> PublishReport:
    """Copy the analyst-facing tables of the DuckDB database ``db_path`` into the
    PostgreSQL schema ``schema``, replacing the previous publication atomically.

    ``postgres_url`` is a libpq URL, ``postgresql://user[:password]@host[:port]/dbname
    [?option=value...]``; the user needs CREATE on the database. ``grant_readonly`` names
    an existing role to get USAGE on the schema and SELECT on its tables. The swap waits
    up to ``swap_timeout`` seconds for readers holding the old tables, retrying in short
    attempts. Raises ``PublishError`` (the published schema then is as it was).
    """
    _check_schema(schema)
    if grant_readonly is not None and not grant_readonly.strip():
        raise InvalidArgumentError("the read-only role name is empty")
    options = libpq_options(postgres_url)
    safe_url = redact_url(postgres_url)
    path = Path(db_path)
    if not path.is_file():
        raise NotBuiltError(f"no database at {path}; build it first: recsys-duck build --db {path}")
    report = PublishReport(schema=schema)
    start = time.perf_counter()
    # An in-memory DuckDB of its own, with the file attached read-only: the file need not
    # be writable, other processes may read it meanwhile, and connections of this process
    # to it (with other settings, such as the hardened read-only ones) are no obstacle.
    con = duckdb.connect(":memory:", config={"autoinstall_known_extensions": False})
    try:
        execute(con, "set enable_progress_bar = false")
        execute(con, f"attach {string_literal(str(path))} as {SOURCE} (read_only)")
        execute(con, f"use {SOURCE}")
        _check_source(con, path)
        load_postgres_extension(con)
        logger.info("publish: connecting to %s", safe_url)
        _attach(con, options, safe_url)
        if grant_readonly is not None:
            _check_readonly_role(con, grant_readonly)
        report.seconds["connect"] = time.perf_counter() - start
        _guarded(options, lambda: _fill(con, schema, grant_readonly, report))
        _guarded(options, lambda: _swap(con, schema, report, swap_timeout))
        _drop_retired(con, schema, report)
    except BaseException:
        _drop_staging(con, schema)
        raise
    finally:
        con.close()
    logger.info(
        "publish: schema %s on %s now holds %d tables, %d rows, in %.1f s",
        schema,
        safe_url,
        len(report.rows),
        sum(report.rows.values()),
        report.total_seconds,
    )
    return report


# -- connecting -------------------------------------------------------------------------


def libpq_options(url: str) -> dict[str, str]:
    """The libpq connection keywords of a ``postgresql://`` URL (host, port, user,
    password, dbname, and any ``?key=value`` options), percent-decoded."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres"):
        raise InvalidArgumentError(
            f"not a PostgreSQL URL: {redact_url(url)!r}; use the libpq form "
            "postgresql://user@host:5432/dbname (password from PGPASSWORD or ~/.pgpass, "
            "or user:password@ in the URL)"
        )
    _, _, rest = url.partition("://")
    userinfo = rest.rpartition("@")[0]
    if any(c in userinfo for c in "/?#"):
        # urlsplit would cut the URL at that character and take part of the password
        # for the host or port; libpq, too, needs them percent-encoded.
        raise InvalidArgumentError(
            f"the user or password in {redact_url(url)!r} has a '/', '?' or '#': "
            "percent-encode them (%2F, %3F, %23), or leave the password out of the URL "
            "and set PGPASSWORD"
        )
    options: dict[str, str] = {}
    try:
        port = parts.port
    except ValueError as exc:
        raise InvalidArgumentError(f"bad port in {redact_url(url)!r}: {exc}") from None
    if parts.hostname:
        options["host"] = parts.hostname
    if port is not None:
        options["port"] = str(port)
    if parts.username:
        options["user"] = unquote(parts.username)
    if parts.password is not None:
        options["password"] = unquote(parts.password)
    dbname = unquote(parts.path.lstrip("/"))
    if dbname:
        options["dbname"] = dbname
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if not _LIBPQ_KEYWORD.match(key):
            raise InvalidArgumentError(f"bad connection option {key!r} in {redact_url(url)!r}")
        options[key] = value
    return options


def redact_url(url: str) -> str:
    """The URL with its password (in the user part or a ``password=`` option) as ``***``.

    The user part ends at the last ``@``, whatever comes before it: a password with an
    unencoded ``/``, ``?``, ``#`` or ``@`` is hidden whole."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return "***" if "@" in url else url
    userinfo, at, hostpart = rest.rpartition("@")
    if at and ":" in userinfo:
        userinfo = userinfo.split(":", 1)[0] + ":***"
    parts = urlsplit(f"{scheme}://{hostpart}")
    query = re.sub(r"(^|&)password=[^&]*", r"\1password=***", parts.query)
    netloc = f"{userinfo}@{parts.netloc}" if at else parts.netloc
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def load_postgres_extension(con: duckdb.DuckDBPyConnection) -> Path:
    """Load DuckDB's postgres extension from the ``duckdb-extension-postgres-scanner``
    wheel (built for exactly this DuckDB version); nothing is downloaded or installed."""
    path = postgres_extension_path()
    logger.debug("loading the postgres extension from %s", path)
    con.load_extension(str(path))
    return path


def postgres_extension_path() -> Path:
    """The postgres extension binary that the ``duckdb-extension-postgres-scanner`` wheel
    ships for this DuckDB version; a clear error says what to install when it is absent."""
    try:
        import duckdb_extension_postgres_scanner as wheel
    except ImportError:
        raise RecsysError(
            "publishing to PostgreSQL needs DuckDB's postgres extension, which is not "
            "installed; install it with: pip install 'recsys-duck[bi]' "
            f"(or duckdb-extension-postgres-scanner=={duckdb.__version__})"
        ) from None
    folder = Path(wheel.__file__).parent / "extensions"
    path = folder / f"v{duckdb.__version__}" / "postgres_scanner.duckdb_extension"
    if not path.is_file():
        found = sorted(p.name for p in folder.glob("v*")) if folder.is_dir() else []
        raise RecsysError(
            f"the installed postgres extension is built for DuckDB {found or 'no version'}, "
            f"not {duckdb.__version__}; install the matching one: "
            f"pip install duckdb-extension-postgres-scanner=={duckdb.__version__}"
        )
    return path


def _attach(con: duckdb.DuckDBPyConnection, options: dict[str, str], safe_url: str) -> None:
    # ATTACH takes no parameters, so the connection settings go into a temporary secret,
    # whose values are bound (the password never becomes SQL text); the keywords were
    # checked against _LIBPQ_KEYWORD and DuckDB rejects any it does not know.
    keys = list(options)
    statement = (
        f"create or replace temporary secret {_SECRET} (type postgres"
        + "".join(f", {key} ?" for key in keys)
        + ")"
    )
    logger.debug("SQL %s | params=%r", statement, [_redact_value(k, options[k]) for k in keys])
    try:
        con.execute(statement, [options[key] for key in keys])
        # READ COMMITTED lets the swap see other publishers' commits after waiting for
        # them (REPEATABLE READ, the extension's default, would keep its first snapshot).
        execute(
            con,
            f"attach '' as {TARGET} (type postgres, secret {_SECRET}, "
            "isolation_level 'read committed')",
        )
    except duckdb.Error as exc:
        message = _pg_message(exc, options)
        if "Unknown parameter" in message:
            raise InvalidArgumentError(
                f"unsupported connection option in {safe_url}: {message}"
            ) from None
        raise PublishError(f"cannot connect to PostgreSQL at {safe_url}: {message}") from None


def _redact_value(key: str, value: str) -> str:
    return "***" if key == "password" else value


# -- checks -----------------------------------------------------------------------------


def _check_schema(schema: str) -> None:
    if not schema or len(schema.encode()) > _MAX_SCHEMA_BYTES:
        raise InvalidArgumentError(
            f"the schema name must be 1 to {_MAX_SCHEMA_BYTES} bytes long, got {schema!r}"
        )
    if schema in _RESERVED_SCHEMAS or schema.startswith("pg_"):
        raise InvalidArgumentError(
            f"cannot publish into schema {schema!r}: each publish replaces the whole schema; "
            "pick a schema of its own, e.g. --schema recsys"
        )


def _check_source(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    present = {
        row[0]
        for row in execute(
            con,
            "select table_name from information_schema.tables "
            "where table_catalog = ? and table_schema = 'main'",
            [SOURCE],
        ).fetchall()
    }
    missing = [name for name in published_tables() if name not in present]
    if missing:
        raise NotBuiltError(
            f"the database {path} lacks {', '.join(missing)}; "
            f"build it first: recsys-duck build --db {path}"
        )


_ROLE_PROBLEMS = {
    "is_superuser": "it is a superuser (superusers bypass every privilege)",
    "is_publisher": "it is, or is a member of, the publishing role that owns the tables",
    "can_create_roles": "it has CREATEROLE (it could grant itself any role)",
    "can_write_server_files": "it may COPY to server files or programs "
    "(member of pg_write_server_files or pg_execute_server_program)",
    "can_write_all_data": "it is a member of pg_write_all_data",
    "can_create_schemas": "it has CREATE on the database",
    "can_create_in_public": "it has CREATE on schema public",
}


def _check_readonly_role(con: duckdb.DuckDBPyConnection, role: str) -> None:
    query = _step("readonly_role").read_text(encoding="utf-8")
    try:
        found = execute(
            con,
            "select * from postgres_query($target, $query) where role_name = $role",
            {"target": TARGET, "query": query, "role": role},
        ).fetchdf()
    except duckdb.Error as exc:
        raise PublishError(f"cannot read the roles of the server: {_pg_message(exc)}") from None
    if found.empty:
        raise PublishError(
            f"role {role!r} does not exist on the PostgreSQL server; create it first, e.g. "
            f"CREATE ROLE {quote_identifier(role)} LOGIN PASSWORD '...'; "
            "(not a superuser: it must only read)"
        )
    row = found.iloc[0]
    problems = [text for flag, text in _ROLE_PROBLEMS.items() if bool(row[flag])]
    if bool(row["is_superuser"]):
        problems = problems[:1]  # the rest follows from it
    if problems:
        raise PublishError(
            f"role {role!r} cannot be a read-only role: {'; '.join(problems)}. Use a plain "
            f"role: CREATE ROLE analyst LOGIN PASSWORD '...' (and on PostgreSQL 14 or older: "
            "REVOKE CREATE ON SCHEMA public FROM PUBLIC)"
        )


# -- the three transactions -------------------------------------------------------------


def _fill(
    con: duckdb.DuckDBPyConnection,
    schema: str,
    grant_readonly: str | None,
    report: PublishReport,
) -> None:
    """Transaction 1: create and fill ``<schema>__new``, with keys, statistics and grants."""
    start = time.perf_counter()
    staging = schema + "__new"
    with transaction(con):
        _set(con, "recsys_duck.schema", schema)
        _set(con, "recsys_duck.readonly_role", grant_readonly or "")
        _run_pg_file(con, _step("prepare"))
        files = _table_files()
        with tracked("publish", len(files), "tables") as advance:
            for path in files:
                report.rows[path.stem] = _load_table(con, path, staging)
                advance(1)
        _run_pg_file(con, _step("analyze"))
        _run_pg_file(con, _step("grant_readonly"))
    report.seconds["fill"] = time.perf_counter() - start
    logger.info(
        "publish: filled schema %s (%d tables, %d rows) in %.2f s",
        staging,
        len(report.rows),
        sum(report.rows.values()),
        report.seconds["fill"],
    )


def _load_table(con: duckdb.DuckDBPyConnection, path: Path, staging: str) -> int:
    """Create one table from its file, copy the DuckDB object of the same name into it
    (columns match by name, so a column the file lacks is an error), then run the rest
    of the file, its keys and indexes."""
    create, keys = split_table_file(path.read_text(encoding="utf-8"))
    _run_pg(con, create, path)
    target = ".".join(quote_identifier(part) for part in (TARGET, staging, path.stem))
    source = quote_identifier(path.stem)
    # Identifiers only, through the quoting helper; there are no values to bind.
    insert = f"insert into {target} by name select * from {source}"  # noqa: S608
    row = execute(con, insert).fetchone()
    if keys:
        _run_pg(con, keys, path)
    n = int(row[0]) if row else 0
    logger.info("publish: %s: %d rows", path.stem, n)
    return n


def split_table_file(text: str) -> tuple[str, str]:
    """A table file's statements before its ``-- keys and indexes`` line (run before the
    rows are copied in) and from it on (run after). Without the line, all run before."""
    found = _KEYS_MARKER.search(text)
    if found is None:
        return text, ""
    return text[: found.start()], text[found.start() :]


def _swap(
    con: duckdb.DuckDBPyConnection, schema: str, report: PublishReport, timeout: float
) -> None:
    """Transaction 2: swap ``<schema>__new`` in for ``<schema>``, retried while readers
    hold the old tables. An attempt gives up after swap.sql's 100 ms lock_timeout on a
    table; the next attempt locks that table first."""
    start = time.perf_counter()
    deadline = start + timeout
    lock_first: list[str] = []
    while True:
        report.swap_attempts += 1
        try:
            with transaction(con):
                _set(con, "recsys_duck.schema", schema)
                _set(con, "recsys_duck.lock_first", ",".join(lock_first))
                if report.swap_attempts == 1:  # later attempts come later still
                    _set(con, "recsys_duck.wait_for_schema", schema + "__new")
                    _run_pg_file(con, _step("wait_for_snapshots"))
                _run_pg_file(con, _step("swap"))
            break
        except duckdb.Error as exc:
            contended = _LOCK_TIMEOUT.search(str(exc))
            if contended is None:
                raise
            if time.perf_counter() > deadline:
                raise PublishError(
                    f"could not swap in schema {schema}__new within {timeout:g} s "
                    f"({report.swap_attempts} attempts): readers kept the tables of schema "
                    f"{schema} locked (last: {contended.group(1)}; a long-running transaction?)"
                ) from None
            table = contended.group(1)
            lock_first = [table] + [t for t in lock_first if t != table]
            logger.debug(
                "publish: swap attempt %d timed out waiting for %s; retrying",
                report.swap_attempts,
                table,
            )
            time.sleep(min(0.5, 0.01 * report.swap_attempts) * (0.5 + random.random()))
    report.seconds["swap"] = time.perf_counter() - start
    logger.info(
        "publish: swapped in schema %s (%d attempt%s, %.2f s)",
        schema,
        report.swap_attempts,
        "" if report.swap_attempts == 1 else "s",
        report.seconds["swap"],
    )


def _drop_retired(con: duckdb.DuckDBPyConnection, schema: str, report: PublishReport) -> None:
    """Transaction 3: drop ``<schema>__old`` once no snapshot predates the swap. The
    publish has succeeded by now, so a failure here only leaves the schema to the next
    publish."""
    start = time.perf_counter()
    try:
        with transaction(con):
            _set(con, "recsys_duck.schema", schema)
            _set(con, "recsys_duck.wait_for_schema", schema)
            _run_pg_file(con, _step("wait_for_snapshots"))
            _run_pg_file(con, _step("drop_retired"))
    except duckdb.Error as exc:
        logger.warning(
            "publish: could not drop the previous publication %s__old yet (the next publish "
            "will): %s",
            schema,
            _pg_message(exc),
        )
    report.seconds["drop old"] = time.perf_counter() - start


def _drop_staging(con: duckdb.DuckDBPyConnection, schema: str) -> None:
    """After a failure: drop ``<schema>__new`` if a committed one is left (best effort)."""
    try:
        attached = execute(
            con, "select count(*) from duckdb_databases() where database_name = ?", [TARGET]
        ).fetchone()
        if not attached or attached[0] == 0:
            return
        with transaction(con):
            _set(con, "recsys_duck.schema", schema)
            _run_pg_file(con, _step("drop_staging"))
    except duckdb.Error as exc:
        logger.warning(
            "publish: could not drop the staging schema %s__new (the next publish will): %s",
            schema,
            _pg_message(exc),
        )


# -- helpers ----------------------------------------------------------------------------


def _set(con: duckdb.DuckDBPyConnection, setting: str, value: str) -> None:
    """``SET LOCAL`` a custom setting in the PostgreSQL transaction, for the step files to
    read with current_setting(). The value is an identifier, so it is quoted as one."""
    quoted = quote_identifier(value) if value else "''"
    statement = f"set local {setting} = {quoted}"
    execute(con, "call postgres_execute(?, ?)", [TARGET, statement])


def _run_pg_file(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Run a file of PostgreSQL statements as one batch, in the current transaction."""
    _run_pg(con, path.read_text(encoding="utf-8"), path)


def _run_pg(con: duckdb.DuckDBPyConnection, statements: str, path: Path) -> None:
    logger.debug("publish: running %s", path.relative_to(sql_dir()))
    execute(con, "call postgres_execute(?, ?)", [TARGET, statements])


def _guarded(options: dict[str, str], fn: Any) -> None:
    """Run a step, turning PostgreSQL's errors into one-line ``PublishError``s."""
    try:
        fn()
    except duckdb.Error as exc:
        raise PublishError(
            f"publishing failed, the published schema is unchanged: {_pg_message(exc, options)}"
        ) from None


def _pg_message(exc: BaseException, options: dict[str, str] | None = None) -> str:
    """The server's message in an error from the extension (which also quotes the whole
    query), on one line, without the password."""
    text = str(exc)
    found = re.search(r"ERROR:\s+(.*)", text) or re.search(r"Unable to connect .*?: (.*)", text)
    message = found.group(1).strip() if found else text.strip().splitlines()[0]
    for extra in ("HINT:", "DETAIL:"):
        more = re.search(extra + r"\s+(.*)", text)
        if more:
            message += f" ({more.group(1).strip()})"
    password = (options or {}).get("password")
    if password:
        message = message.replace(password, "***")
    return message


def _step(name: str) -> Path:
    return step_file("publish/" + name)


def _table_files() -> list[Path]:
    return sorted((sql_dir() / "steps" / "publish" / "tables").glob("*.sql"))
