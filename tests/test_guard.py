"""What hardened readers may run (recsys_duck.guard): every PRAGMA and table function of
the pinned DuckDB tried through ``Recommender(read_only=True).sql``, which must refuse
it or leave every setting as it was; the statement timeout, the row limit, and Ctrl-C,
through the ``sql`` verb."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from recsys_duck import ReadLimits, Recommender
from recsys_duck.errors import InvalidArgumentError, RecsysError
from recsys_duck.guard import REFUSED_TABLE_FUNCTIONS, QueryLimitError, RefusedError
from recsys_duck.params import BuildParams
from tests.conftest import TINY

PARAMS = BuildParams(k=3, n_similar_users=2, n_item_neighbors=2, n_recommendations=3)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("guard") / "tiny.duckdb"
    with Recommender(path) as rec:
        rec.build(TINY, PARAMS)
    return path


def _functions(kind: str) -> dict[str, list[str]]:
    """The functions of ``kind`` in the pinned DuckDB, each with the argument lists of its
    overloads (a made-up value of each parameter's type; ``''`` for no arguments)."""
    with duckdb.connect() as con:
        rows = con.execute(
            "select function_name, parameter_types from duckdb_functions() "
            "where function_type = ? order by all",
            [kind],
        ).fetchall()
    calls: dict[str, list[str]] = {}
    for name, types in rows:
        arguments = ", ".join(_VALUES.get(t, "null") for t in types)
        calls.setdefault(name, [""])
        if arguments and arguments not in calls[name]:
            calls[name].append(arguments)
    return calls


_VALUES = {"VARCHAR": "'x'", "ANY": "'x'", "BOOLEAN": "true", "DOUBLE": "1.0", "VARCHAR[]": "['x']"}
_VALUES.update({t: "1" for t in ("BIGINT", "INTEGER", "UBIGINT", "HUGEINT", "TIMESTAMP")})
PRAGMAS = _functions("pragma")
TABLE_FUNCTIONS = {**_functions("table"), **_functions("table_macro")}


def _state(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Every setting of the connection, read past the guard."""
    return dict(con.execute("select name, value from duckdb_settings()").fetchall())


def _try(rec: Recommender, query: str) -> str:
    """'refused', 'failed' (DuckDB's own error) or 'ran'; the settings must be unchanged."""
    before = _state(rec.con)
    try:
        rec.sql(query)
        outcome = "ran"
    except RefusedError:
        outcome = "refused"
    except (duckdb.Error, RecsysError):  # DuckDB's own refusal, or a bad made-up argument
        outcome = "failed"
    assert _state(rec.con) == before, query
    return outcome


#: The walk's limits: some functions, given a made-up argument, return rows without end
#: (summary(null)); the row limit stops them as it would stop a user's query.
WALK = ReadLimits(max_rows=1000)


def _runs_as_query(statement: str) -> bool:
    """Whether DuckDB turns the PRAGMA into a SELECT of its read-only table function."""
    with duckdb.connect() as con:
        try:
            return con.extract_statements(statement)[0].type.name == "SELECT"
        except duckdb.Error:
            return False


@pytest.mark.parametrize("name", sorted(PRAGMAS))
def test_every_pragma_is_refused_or_changes_nothing(db: Path, name: str) -> None:
    with Recommender(db, read_only=True, limits=WALK) as rec:
        for arguments in PRAGMAS[name]:
            statement = f"pragma {name}({arguments})" if arguments else f"pragma {name}"
            outcome = _try(rec, statement)
            if not _runs_as_query(statement):
                assert outcome in ("refused", "failed"), statement


@pytest.mark.parametrize("name", sorted(TABLE_FUNCTIONS))
def test_every_table_function_is_refused_or_changes_nothing(db: Path, name: str) -> None:
    with Recommender(db, read_only=True, limits=WALK) as rec:
        for arguments in TABLE_FUNCTIONS[name]:
            call = f"{name}({arguments})"
            for template in (
                "select * from CALL",
                "select * from system.main.CALL",
                "explain select * from CALL",
                "select 1 where exists (from CALL)",
            ):
                query = template.replace("CALL", call)
                outcome = _try(rec, query)
                assert (outcome == "refused") == (name in REFUSED_TABLE_FUNCTIONS), query


def test_the_refused_list_names_functions_of_the_pinned_duckdb() -> None:
    assert set(TABLE_FUNCTIONS) >= REFUSED_TABLE_FUNCTIONS


@pytest.mark.parametrize(
    "query",
    [
        "call enable_logging('QueryLog')",
        "select 1; call enable_logging('QueryLog')",
        "set threads = 1",
        "reset threads",
        "pragma enable_verification",
        "pragma disable_optimizer",
        "set variable x = 1",
        "create temp table t as select 1",
        "create temp macro m() as 1",
        "use memory",
        "checkpoint",
        "explain analyze call disable_profiling()",
    ],
)
def test_statements_that_change_state_are_refused(db: Path, query: str) -> None:
    with Recommender(db, read_only=True) as rec:
        assert _try(rec, query) == "refused"


def test_enable_logging_neither_aborts_nor_logs_through_the_cli(db: Path, tmp_path: Path) -> None:
    """It aborted the process (exit 134) with a file storage, and let a reader see every
    connection's SQL with the default one."""
    log = tmp_path / "log"
    for query in (
        f"CALL enable_logging('QueryLog', storage='file', storage_path='{log}'); select 1",
        "CALL enable_logging('QueryLog'); select * from duckdb_logs",
    ):
        done = _sql(db, query)
        assert done.returncode == 1, done.stderr
        assert done.stderr.strip().splitlines() == [
            "Error: refused: CALL statements change state; read-only connections run "
            "queries only (SELECT, FROM, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN, PRAGMA "
            "show_tables / table_info)"
        ]
    assert not log.exists()


def test_queries_analysts_write_still_run(db: Path) -> None:
    with Recommender(db, read_only=True) as rec:
        assert len(rec.sql("select * from recommend_item_based(1, n := 2, n_neighbors := 2)")) == 2
        assert len(rec.sql("from movies; select count(*) from ratings")) == 1
        assert "movies" in rec.sql("show tables")["name"].tolist()
        assert "movie_id" in rec.sql("describe movies")["column_name"].tolist()
        assert "movies" in rec.sql("pragma show_tables")["name"].tolist()
        assert len(rec.sql("summarize ratings")) == 4
        assert len(rec.sql("explain select * from movies")) == 1
        assert rec.sql("select $n::int as n", {"n": 3})["n"].tolist() == [3]


def _sql(db: Path, query: str, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "recsys_duck.cli", "--db", str(db), "sql", query, *options],
        capture_output=True,
        text=True,
        timeout=120,
    )


CROSS_JOIN = "select count(*) from range(100000000) as a, range(100000000) as b"


def test_a_query_past_its_timeout_is_stopped_with_one_line(db: Path) -> None:
    start = time.monotonic()
    done = _sql(db, CROSS_JOIN, "--timeout", "1")
    assert time.monotonic() - start < 60
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "Error: the query ran longer than 1 s and was stopped; narrow it, or raise the "
        "limit (--timeout, ReadLimits(timeout_seconds=...))"
    ]
    with Recommender(db, read_only=True, limits=ReadLimits(timeout_seconds=0.5)) as rec:
        with pytest.raises(QueryLimitError, match="longer than 0.5 s"):
            rec.sql(CROSS_JOIN)
        # The interrupted connection keeps working.
        assert rec.sql("select 42 as x")["x"].tolist() == [42]


def test_a_result_past_the_row_limit_is_refused(db: Path) -> None:
    with Recommender(db, read_only=True, limits=ReadLimits(max_rows=5000)) as rec:
        assert len(rec.sql("select * from range(5000)")) == 5000
        with pytest.raises(QueryLimitError, match="more than 5,000 rows"):
            rec.sql("select * from range(5001)")
    done = _sql(db, "select * from range(11)", "--max-rows", "10")
    assert done.returncode == 1
    assert "more than 10 rows" in done.stderr
    assert _sql(db, "select * from range(10)", "--max-rows", "10").returncode == 0


def test_the_memory_limit_is_the_readers(db: Path) -> None:
    with Recommender(db, read_only=True, limits=ReadLimits(memory_limit="1GB")) as rec:
        (limit,) = rec.con.execute("select current_setting('memory_limit')").fetchone() or ("",)
    assert limit == "953.6 MiB"  # 1GB, as DuckDB reads it back


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        ({"timeout_seconds": 0}, "timeout must be positive"),
        ({"max_rows": 0}, "row limit must be at least 1"),
    ],
)
def test_limits_are_checked(limits: dict[str, float], message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        ReadLimits(**limits)  # type: ignore[arg-type]


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_ends_a_query_with_one_line(db: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "recsys_duck.cli", "--db", str(db), "sql", CROSS_JOIN],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # A shell starts background jobs with Ctrl-C ignored, and children inherit that.
        preexec_fn=_default_sigint,  # noqa: PLW1509 - resets one signal, nothing else
    )
    try:
        time.sleep(3)  # the interpreter started and the query runs
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()  # a query that ignored the signal must not outlive the test
    assert process.returncode == 130, stderr
    assert stderr.strip().splitlines() == ["Error: interrupted; the database is as it was"]
