"""Finding and running the project's ``.sql`` files.

The files under ``sql/`` are the source of truth: every table, view and macro an
analyst can query is created by one file named after it, ``<layer>/<object>.sql``, run
in the order of the plan (:mod:`recsys_duck.pipeline`): layers in folder order
(``00_tables`` first, ``80_macros`` last) and, within a folder, by name. A table that is
filled in parts keeps those parts beside it, ``<layer>/<object>.<part>.sql`` (``batch``,
``work``, ``prepare``, ``finish``, ``cleanup``, ``refresh``, ``scope``, ``increment``);
a layer does not run them, the plan does.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

logger = logging.getLogger(__name__)

_PACKAGED = Path(__file__).parent / "sql"
_SOURCE = Path(__file__).parent.parent / "sql"


def sql_dir() -> Path:
    """The folder holding the SQL layers (inside the wheel, or the source checkout)."""
    return _PACKAGED if _PACKAGED.is_dir() else _SOURCE


def layer_files(layer: str) -> list[Path]:
    """The ``.sql`` files of one layer folder, in the order they must run.

    Files run in name order, except that a file whose code (comments aside) names an
    object created by another file of the same layer runs after that file. The parts of
    a table (``<object>.<part>.sql``) are not the layer's: see :func:`part_file`.
    """
    folder = sql_dir() / layer
    if not folder.is_dir():
        raise FileNotFoundError(f"no SQL layer {layer!r} in {sql_dir()}")
    files = sorted(f for f in folder.glob("*.sql") if "." not in f.stem)
    code = {f.stem: _strip_comments(f.read_text(encoding="utf-8")) for f in files}
    depends = {
        f.stem: {
            other.stem
            for other in files
            if other.stem != f.stem and re.search(rf"\b{re.escape(other.stem)}\b", code[f.stem])
        }
        for f in files
    }
    ordered: list[Path] = []
    done: set[str] = set()
    while len(ordered) < len(files):
        ready = [f for f in files if f.stem not in done and depends[f.stem] <= done]
        if not ready:
            cycle = sorted(set(code) - done)
            raise RuntimeError(
                f"SQL files of layer {layer} depend on each other in a cycle: {cycle}"
            )
        ordered.append(ready[0])
        done.add(ready[0].stem)
    return ordered


def _strip_comments(text: str) -> str:
    return "\n".join(line.split("--", 1)[0] for line in text.splitlines())


def layers() -> list[str]:
    """Every layer folder, in order (``audits`` is not a layer: it creates nothing)."""
    return sorted(p.name for p in sql_dir().iterdir() if p.is_dir() and p.name[:2].isdigit())


def split_statements(text: str) -> list[str]:
    """The statements of SQL text, split by DuckDB's own parser (so a semicolon or ``--``
    inside a string literal or a quoted identifier never cuts a statement); each keeps
    the comments before it."""
    return [statement.query for statement in duckdb.extract_statements(text)]


def execute(
    con: duckdb.DuckDBPyConnection,
    statement: str,
    params: Sequence[Any] | Mapping[str, Any] | None = None,
) -> duckdb.DuckDBPyConnection:
    """Run one statement with bound parameters, logging it at DEBUG level."""
    logger.debug("SQL %s | params=%r", statement, params)
    if params is None:
        return con.execute(statement)
    return con.execute(statement, params)


def run_file(
    con: duckdb.DuckDBPyConnection, path: Path, params: Mapping[str, Any] | None = None
) -> None:
    """Run every statement of one ``.sql`` file.

    ``params`` binds named parameters (``$name``); each statement gets the ones it uses.
    """
    logger.debug("running %s", path.name)
    for statement in duckdb.extract_statements(path.read_text(encoding="utf-8")):
        execute(con, statement.query, _used_params(statement, params))


def query_file(
    con: duckdb.DuckDBPyConnection, path: Path, params: Mapping[str, Any] | None = None
) -> duckdb.DuckDBPyConnection:
    """Run the one query of a ``.sql`` file (``params`` as in :func:`run_file`); fetch
    its rows from the result."""
    statements = duckdb.extract_statements(path.read_text(encoding="utf-8"))
    if len(statements) != 1:  # pragma: no cover - guards against editing mistakes
        raise RuntimeError(f"{path} must hold exactly one query, found {len(statements)}")
    return execute(con, statements[0].query, _used_params(statements[0], params))


def _used_params(
    statement: duckdb.Statement, params: Mapping[str, Any] | None
) -> dict[str, Any] | None:
    """The parameters of ``params`` that ``statement`` names, or None."""
    given = params or {}
    used = {name: given[name] for name in statement.named_parameters if name in given}
    return used or None


def audit_files() -> list[Path]:
    """The audit queries of ``sql/audits``: each returns the rows that break a rule."""
    return sorted((sql_dir() / "audits").glob("*.sql"))


def object_file(name: str) -> Path:
    """The file ``<layer>/<name>.sql`` that creates the object ``name``."""
    found = sorted(sql_dir().glob(f"[0-9]*/{name}.sql"))
    if len(found) != 1:
        raise FileNotFoundError(f"no SQL file {name}.sql in the layers of {sql_dir()}")
    return found[0]


def part_file(name: str, part: str) -> Path:
    """The file ``<layer>/<name>.<part>.sql`` that fills (part of) the object ``name``."""
    found = sorted(sql_dir().glob(f"[0-9]*/{name}.{part}.sql"))
    if len(found) != 1:
        raise FileNotFoundError(f"no SQL part {name}.{part}.sql in the layers of {sql_dir()}")
    return found[0]


def has_part(name: str, part: str) -> bool:
    """Whether the object ``name`` has a file ``<name>.<part>.sql`` beside it."""
    return any(sql_dir().glob(f"[0-9]*/{name}.{part}.sql"))


def step_file(name: str) -> Path:
    """A step file of ``sql/steps``: statements the Python layer runs with parameters."""
    path = sql_dir() / "steps" / f"{name}.sql"
    if not path.is_file():
        raise FileNotFoundError(f"no SQL step {name!r} in {path.parent}")
    return path


def batches(
    con: duckdb.DuckDBPyConnection,
    work_file: Path,
    work: float | None,
    params: Mapping[str, Any] | None = None,
    *,
    count: int | None = None,
) -> list[tuple[int, int]]:
    """Ranges ``[lo, hi)`` of consecutive positions holding about ``work`` work each, or,
    with ``count``, at most ``count`` ranges of about equal work.

    The file ``work_file`` (a table's ``<name>.work.sql``, with ``params``) fills the
    temporary table ``_recsys_batch_work(position, work)``;
    ``sql/steps/pipeline/batches.sql`` cuts it by running sums; the table is then
    dropped, even on error.
    """
    if (work is None) == (count is None):
        raise ValueError("give batches() either the work per batch or the count")
    with cleaned_up(lambda: execute(con, "drop table if exists _recsys_batch_work")):
        run_file(con, work_file, params)
        if count is not None:
            (total,) = execute(con, "select sum(work) from _recsys_batch_work").fetchone() or (0,)
            # Cumulative work before a position is below the total, so floor(before /
            # (total / count)) takes at most count values.
            work = float(total or 0) / count or 1.0
        rows = query_file(con, step_file("pipeline/batches"), {"work": work}).fetchall()
    return [(int(lo), int(hi)) for lo, hi in rows]


def apply_layers(
    con: duckdb.DuckDBPyConnection,
    names: Iterable[str] | None = None,
    *,
    skip: frozenset[str] = frozenset(),
) -> None:
    """Run the files of the given layers (all of them by default), skipping objects in ``skip``.

    Unqualified names resolve in the connection's current schema, so the same files
    build the evaluation's training copy in its own schema. A file may name any setting
    of ``recsys_params`` as a parameter (``$neighbors_k``): a constant the optimiser can
    use, where a subquery on ``recsys_params`` would be opaque to it.
    """
    values: dict[str, Any] | None = None
    for layer in layers() if names is None else names:
        for path in layer_files(layer):
            if path.stem in skip:
                continue
            if values is None and "$" in path.read_text(encoding="utf-8"):
                values = settings(con)
            run_file(con, path, values)


def settings(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The one row of ``recsys_params`` as a mapping of setting to value."""
    cursor = execute(con, "select * from recsys_params")
    row = cursor.fetchone()
    if row is None:
        raise RuntimeError("recsys_params is empty: the build inserts the settings first")
    return {column[0]: value for column, value in zip(cursor.description, row, strict=True)}


@contextmanager
def cleaned_up(cleanup: Callable[[], object]) -> Iterator[None]:
    """Run ``cleanup`` after the block, even when the block raises. Then the cleanup's own
    DuckDB errors are suppressed: a failed statement aborts the transaction, and a
    cleanup run in it would raise "transaction is aborted" over the error that matters
    (the rollback undoes what the cleanup would drop)."""
    try:
        yield
    except BaseException:
        with contextlib.suppress(duckdb.Error):
            cleanup()
        raise
    cleanup()


@contextmanager
def duckdb_setting(con: duckdb.DuckDBPyConnection, name: str, value: int | None) -> Iterator[None]:
    """Set a DuckDB setting for the block (None: leave it) and restore its old value
    after it. Only on a DuckDB connection: settings tune DuckDB's engine, not the SQL, so
    another engine's connection (:mod:`recsys_duck.spark`) runs the block as it is."""
    if value is None or not isinstance(con, duckdb.DuckDBPyConnection):
        yield
        return
    (old,) = execute(con, "select current_setting(?)", [name]).fetchone() or (None,)
    execute(con, f"set {name} = {int(value)}")
    try:
        yield
    finally:
        with contextlib.suppress(duckdb.Error):
            execute(con, f"set {name} = {string_literal(str(old))}")


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """Run the block in one transaction: commit when it ends, roll back if it raises."""
    execute(con, "begin transaction")
    try:
        yield con
    except BaseException:
        try:
            execute(con, "rollback")
        except duckdb.Error:  # the failure may already have ended the transaction
            logger.debug("rollback after failure: no transaction was open")
        raise
    execute(con, "commit")


def string_literal(value: str) -> str:
    """Quote a value as an SQL string literal, for statements that bind no parameters
    (``ATTACH`` a file path, ``SET memory_limit``).

    DuckDB's plain string literals have no backslash escapes: a quote is doubled.
    """
    return "'" + value.replace("'", "''") + "'"


def quote_identifier(name: str) -> str:
    """Quote an SQL identifier (schema, table, column) for DuckDB and PostgreSQL."""
    return '"' + name.replace('"', '""') + '"'
