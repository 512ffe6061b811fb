"""What a hardened reader may run, and for how long.

The read-only entry points (the ``sql`` verb, ``Recommender(path, read_only=True).sql``)
run SQL that people type. :mod:`recsys_duck.storage` locks their configuration, but
DuckDB 1.5.5 lets some statements past that lock: ``CALL enable_logging(...)`` turns on
a log that shows every connection's SQL (or, with a file storage, aborts the process),
and PRAGMAs such as ``enable_verification`` or ``disable_optimizer`` change how the
connection runs. So before a statement runs, :func:`check_query` parses it (DuckDB's own
parser, on a private in-memory connection) and lets through only queries: ``SELECT``
and what DuckDB turns into one (``FROM``, ``DESCRIBE``, ``SHOW``, ``SUMMARIZE``,
read-only PRAGMAs such as ``show_tables``), whose table functions are none of
:data:`REFUSED_TABLE_FUNCTIONS`. While it runs, :class:`ReadLimits` bound it: a
statement timeout, a row limit and a memory limit.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, TypeVar, cast

import duckdb
import pandas as pd

from recsys_duck.errors import InvalidArgumentError, RecsysError
from recsys_duck.sql import execute
from recsys_duck.storage import readonly_connect_args

if TYPE_CHECKING:
    import sqlalchemy

#: Table functions that do more than read: they change the connection's or the
#: database's state (logging, profiling, checkpoints), run SQL given as text (which
#: the check could not see), read other connections' SQL (the logs), or reach Python
#: objects and secrets. Every other table function of DuckDB 1.5.5 only reads, and
#: external access (files, network) is disabled on a hardened connection anyway;
#: tests/test_guard.py calls every one to keep this list complete.
REFUSED_TABLE_FUNCTIONS: Final[frozenset[str]] = frozenset(
    {
        "enable_logging",
        "disable_logging",
        "truncate_duckdb_logs",
        "enable_profiling",
        "disable_profiling",
        "checkpoint",
        "force_checkpoint",
        "query",
        "query_table",
        "json_execute_serialized_sql",
        "duckdb_logs",
        "duckdb_logs_parsed",
        "duckdb_log_contexts",
        "duckdb_secrets",
        "which_secret",
        "python_map_function",
        "pandas_scan",
        "arrow_scan",
        "arrow_scan_dumb",
    }
)

#: What a refusal says a reader may run instead.
_QUERIES_ONLY = (
    "read-only connections run queries only (SELECT, FROM, DESCRIBE, SHOW, SUMMARIZE, "
    "EXPLAIN, PRAGMA show_tables / table_info)"
)

_PRAGMA = re.compile(r"^\s*pragma\s+([a-z_]+)", re.IGNORECASE)
_EXPLAIN = re.compile(r"^\s*explain\s+(analy[sz]e\s+)?", re.IGNORECASE)

T = TypeVar("T")

_parser = duckdb.connect()
_parser_lock = threading.Lock()


class RefusedError(RecsysError):
    """A statement that a hardened read-only connection does not run."""


class QueryLimitError(RecsysError):
    """A read-only query that went past its time or row limit."""


def check_query(query: str) -> None:
    """Raise :class:`RefusedError` unless every statement of ``query`` is a query that
    names none of :data:`REFUSED_TABLE_FUNCTIONS`. Syntax errors are left to DuckDB."""
    with _parser_lock:
        check_query_unlocked(query)


def check_query_unlocked(query: str) -> None:
    """:func:`check_query` for a caller that holds the parser's lock."""
    try:
        statements = _parser.extract_statements(query)
    except duckdb.ParserException:
        return  # DuckDB reports it, with its position, when the query runs
    for statement in statements:
        _check_statement(statement)


def _check_statement(statement: Any) -> None:
    text = statement.query.strip()
    kind = statement.type.name
    if kind == "EXPLAIN":
        check_query_unlocked(_EXPLAIN.sub("", text, count=1))
        return
    if kind != "SELECT":
        first = text.split()[0].upper() if text else kind
        raise RefusedError(f"refused: {first} statements change state; {_QUERIES_ONLY}")
    (tree,) = _parser.execute("select json_serialize_sql(?)", [text]).fetchone() or ("{}",)
    parsed = json.loads(tree)
    if parsed.get("error"):
        # DuckDB turns the read-only PRAGMAs into SELECTs of their table functions, and
        # its serializer takes only what was written as a SELECT.
        if _PRAGMA.match(text):
            return
        raise RefusedError(
            f"refused: cannot check this statement ({parsed.get('error_message')}); "
            + _QUERIES_ONLY
        )
    refused = sorted(_function_names(parsed) & REFUSED_TABLE_FUNCTIONS)
    if refused:
        raise RefusedError(
            f"refused: {refused[0]}() changes state, runs SQL text or reads other "
            f"connections' SQL; {_QUERIES_ONLY}"
        )


def _function_names(node: Any) -> set[str]:
    """Every function name in a serialized parse tree (scalar and table functions)."""
    found: set[str] = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            name = item.get("function_name")
            if isinstance(name, str):
                found.add(name.lower())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def default_memory_limit() -> str:
    """A reader's memory limit: 4GB, or half of the machine's memory when that is less."""
    physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return "4GB" if physical >= 8 * 10**9 else f"{physical // 2 // 10**6}MB"


@dataclass(frozen=True)
class ReadLimits:
    """Bounds on one read-only query: seconds before it is interrupted, rows it may
    return, and the connection's memory limit (a DuckDB size such as ``'4GB'``, by
    default :func:`default_memory_limit`; None leaves DuckDB's default, 80% of RAM).
    None for seconds or rows means no limit."""

    timeout_seconds: float | None = 300.0
    max_rows: int | None = 1_000_000
    memory_limit: str | None = field(default_factory=default_memory_limit)

    def __post_init__(self) -> None:
        if self.timeout_seconds is not None and not self.timeout_seconds > 0:
            raise InvalidArgumentError(
                f"the query timeout must be positive, not {self.timeout_seconds}"
            )
        if self.max_rows is not None and self.max_rows < 1:
            raise InvalidArgumentError(f"the row limit must be at least 1, not {self.max_rows}")


def _interruptible(
    con: duckdb.DuckDBPyConnection, work: Callable[[], T], seconds: float | None
) -> T:
    """``work()`` (which runs on ``con``) in a thread of its own, interrupted when it runs
    past ``seconds`` or on Ctrl-C. DuckDB's Python client does not see Ctrl-C while a query
    runs, as the signal waits for the main thread, so the main thread waits here instead,
    where Python raises KeyboardInterrupt, and interrupts the query itself."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = work()
        except BaseException as error:  # handed to the caller's thread below
            outcome["error"] = error

    thread = threading.Thread(target=run, name="recsys-duck-query", daemon=True)
    start = time.monotonic()
    timed_out = False
    thread.start()
    try:
        while thread.is_alive():
            thread.join(_POLL_SECONDS)
            if seconds is not None and not timed_out and time.monotonic() - start >= seconds:
                timed_out = True
                con.interrupt()
    except KeyboardInterrupt:
        con.interrupt()
        thread.join()
        raise
    error = outcome.get("error")
    if timed_out and isinstance(error, duckdb.InterruptException):
        raise QueryLimitError(
            f"the query ran longer than {seconds:g} s and was stopped; narrow it, "
            "or raise the limit (--timeout, ReadLimits(timeout_seconds=...))"
        ) from None
    if error is not None:
        raise error
    return cast(T, outcome["value"])


#: How often the waiting thread looks at the clock.
_POLL_SECONDS = 0.05

#: Rows fetched per chunk while counting against the row limit (DuckDB vectors).
_VECTORS_PER_CHUNK = 64


def run_limited(
    con: duckdb.DuckDBPyConnection,
    query: str,
    params: Sequence[Any] | Mapping[str, Any] | None,
    limits: ReadLimits,
) -> pd.DataFrame:
    """Check ``query`` (:func:`check_query`), run it on ``con`` within ``limits``, and
    return its rows as a DataFrame."""
    check_query(query)
    max_rows = limits.max_rows

    def fetch() -> pd.DataFrame:
        cursor = execute(con, query, params)
        if max_rows is None:
            return cursor.df()
        chunks = [cursor.fetch_df_chunk(_VECTORS_PER_CHUNK)]
        rows = len(chunks[0])
        while len(chunks[-1]) and rows <= max_rows:
            chunks.append(cursor.fetch_df_chunk(_VECTORS_PER_CHUNK))
            rows += len(chunks[-1])
        if rows > max_rows:
            raise QueryLimitError(
                f"the query returns more than {max_rows:,} rows; add a LIMIT or an "
                "aggregate, or raise the limit (--max-rows, ReadLimits(max_rows=...))"
            )
        filled = [chunk for chunk in chunks if len(chunk)]
        return pd.concat(filled, ignore_index=True) if len(filled) > 1 else chunks[0]

    return _interruptible(con, fetch, limits.timeout_seconds)


def readonly_engine(path: str | os.PathLike[str], **kwargs: Any) -> sqlalchemy.Engine:
    """A SQLAlchemy engine (duckdb-sqlalchemy, the ``bi`` extra) on the database file for
    a BI tool: read-only and hardened (:func:`recsys_duck.readonly_connect_args`), a
    ``NullPool`` (a pooled connection would keep reading an old snapshot), and every
    statement checked by :func:`check_query` before it runs, which the connection's
    settings alone cannot do. ``kwargs`` go to ``sqlalchemy.create_engine``."""
    import sqlalchemy
    from sqlalchemy.pool import NullPool

    engine = sqlalchemy.create_engine(
        f"duckdb:///{os.fspath(path)}",
        connect_args=readonly_connect_args(),
        poolclass=NullPool,
        **kwargs,
    )
    sqlalchemy.event.listen(engine, "before_cursor_execute", _check_cursor_statement)
    return engine


def _check_cursor_statement(
    conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
) -> None:
    check_query(statement)
