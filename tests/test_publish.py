"""Publishing to PostgreSQL, tested against a real server (tests/postgres_server.py starts
a throwaway cluster on 127.0.0.1 with password authentication).

The clients are the ones BI tools use: ``psql`` and psycopg 3, as the read-only role
``analyst`` where a BI user would be. When PostgreSQL is not installed the tests skip,
except under CI=true, where they fail (.ci/run installs it).
"""

from __future__ import annotations

import math
import os
import re
import secrets
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pytest
from psycopg import sql

from recsys_duck import Recommender
from recsys_duck.errors import RecsysError
from recsys_duck.params import BuildParams
from recsys_duck.publish import (
    PublishError,
    libpq_options,
    publish,
    published_tables,
    redact_url,
)
from tests.conftest import TINY
from tests.postgres_server import PostgresServer, ServerUnavailable

TABLES = published_tables()
PLAIN_TYPES = {
    "integer",
    "bigint",
    "double precision",
    "text",
    "timestamp without time zone",
    "boolean",
}
# Build settings of the two publications the tests tell apart: lists of 3 and 2 movies,
# 3 and 2 neighbours stored.
PARAMS_A = BuildParams(k=3, n_similar_users=2, n_item_neighbors=2, n_recommendations=3)
PARAMS_B = BuildParams(k=2, n_similar_users=2, n_item_neighbors=2, n_recommendations=2)


# -- fixtures ---------------------------------------------------------------------------


@dataclass
class Postgres:
    server: PostgresServer
    admin: str  # the superuser
    publisher: str  # owner of database bi, not a superuser
    analyst: str  # the read-only role, granted by the first publish

    def connect(self, url: str | None = None, **kwargs: Any) -> psycopg.Connection[Any]:
        return psycopg.connect(url or self.analyst, **kwargs)


def _unavailable(message: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(message + " (CI must provide PostgreSQL: .ci/run installs it)")
    pytest.skip(message)


@pytest.fixture(scope="module")
def pg() -> Iterator[Postgres]:
    if shutil.which("psql") is None:
        _unavailable("psql (PostgreSQL's client) is not installed")
    try:
        server = PostgresServer.start()
    except ServerUnavailable as exc:
        _unavailable(f"cannot start a PostgreSQL server: {exc}")
        raise
    try:
        publisher_pw, analyst_pw = secrets.token_urlsafe(12), secrets.token_urlsafe(12)
        with psycopg.connect(server.url(), autocommit=True) as con:
            con.execute(
                sql.SQL("create role publisher login password {}").format(sql.Literal(publisher_pw))
            )
            con.execute("create database bi owner publisher")
            con.execute(
                sql.SQL("create role analyst login password {}").format(sql.Literal(analyst_pw))
            )
        yield Postgres(
            server,
            admin=server.url(dbname="bi"),
            publisher=server.url("publisher", publisher_pw, "bi"),
            analyst=server.url("analyst", analyst_pw, "bi"),
        )
    finally:
        server.stop()


def _build(path: Path, params: BuildParams) -> Path:
    with Recommender(path) as rec:
        rec.build(TINY, params)
        rec.evaluate("temporal", test_fraction=0.5)
    return path


@pytest.fixture(scope="module")
def source_a(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _build(tmp_path_factory.mktemp("publish") / "a.duckdb", PARAMS_A)


@pytest.fixture(scope="module")
def source_b(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _build(tmp_path_factory.mktemp("publish") / "b.duckdb", PARAMS_B)


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "recsys_duck.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture(scope="module")
def published(pg: Postgres, source_a: Path) -> subprocess.CompletedProcess[str]:
    """source_a published to schema recsys by the command line, granting analyst."""
    done = run_cli(
        "--db",
        str(source_a),
        "publish",
        "--postgres",
        pg.publisher,
        "--grant-readonly",
        "analyst",
    )
    assert done.returncode == 0, done.stderr
    return done


# -- helpers ----------------------------------------------------------------------------


def duckdb_rows(db: Path, table: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return sorted_rows(con.execute(f"select * from {table}").fetchall())  # noqa: S608


def pg_rows(con: psycopg.Connection[Any], schema: str, table: str) -> list[tuple[Any, ...]]:
    query = sql.SQL("select * from {}.{}").format(sql.Identifier(schema), sql.Identifier(table))
    return sorted_rows(con.execute(query).fetchall())


def sorted_rows(rows: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
    return sorted((tuple(r) for r in rows), key=lambda r: [(v is None, str(v)) for v in r])


def assert_same_rows(got: list[tuple[Any, ...]], want: list[tuple[Any, ...]], what: str) -> None:
    assert len(got) == len(want), f"{what}: {len(got)} rows in PostgreSQL, {len(want)} in DuckDB"
    for g, w in zip(got, want, strict=True):
        assert len(g) == len(w), what
        for a, b in zip(g, w, strict=True):
            if isinstance(b, float) and a is not None:
                assert math.isclose(a, b, rel_tol=0, abs_tol=1e-12), f"{what}: {g} != {w}"
            else:
                assert a == b, f"{what}: {g} != {w}"


def schema_contents(url: str, schema: str) -> dict[str, list[tuple[Any, ...]]]:
    with psycopg.connect(url) as con:
        return {table: pg_rows(con, schema, table) for table in TABLES}


def schemas(url: str) -> set[str]:
    with psycopg.connect(url) as con:
        return {r[0] for r in con.execute("select nspname from pg_namespace").fetchall()}


def psql(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["psql", url, "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


# -- the command line and what a BI tool sees --------------------------------------------


def test_cli_publishes_every_table(published: subprocess.CompletedProcess[str]) -> None:
    lines = published.stdout.split("\n")
    assert lines[0].split() == ["table", "rows"]
    shown = {line.split()[0]: int(line.split()[1]) for line in lines[1:] if line.strip()}
    assert set(shown) == set(TABLES)
    # three methods that predict ratings, plus baseline_only and the default k-NN model
    assert shown["recommendations"] > 0 and shown["eval_rating_metrics"] == 5
    assert "swapped in schema recsys" in published.stderr  # progress on stderr


def test_password_never_printed(pg: Postgres, source_a: Path) -> None:
    password = libpq_options(pg.publisher)["password"]
    done = run_cli("--db", str(source_a), "--debug", "publish", "--postgres", pg.publisher)
    assert done.returncode == 0, done.stderr
    assert "SQL " in done.stderr  # --debug logs every statement...
    assert password not in done.stdout + done.stderr  # ...but never the password
    wrong = pg.publisher.replace(password, password + "x")
    done = run_cli("--db", str(source_a), "--debug", "publish", "--postgres", wrong)
    assert done.returncode == 1
    assert "password authentication failed" in done.stderr
    assert password not in done.stdout + done.stderr
    assert redact_url(wrong) == wrong.replace(password + "x", "***")


def test_password_from_pgpassword(pg: Postgres, source_a: Path) -> None:
    password = libpq_options(pg.publisher)["password"]
    url = pg.publisher.replace(":" + password + "@", "@")
    done = run_cli(
        "--db", str(source_a), "-q", "publish", "--postgres", url, "--schema", "recsys_env",
        env={"PGPASSWORD": password},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "recsys_env" in schemas(pg.admin)


def test_psql_lists_and_reads_like_a_bi_tool(
    pg: Postgres, source_a: Path, published: subprocess.CompletedProcess[str]
) -> None:
    # information_schema, as JDBC/ODBC drivers and most BI tools list tables
    done = psql(
        pg.analyst,
        "-c",
        "select table_name from information_schema.tables "
        "where table_schema = 'recsys' and table_type = 'BASE TABLE' order by table_name",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == sorted(TABLES)
    # pg_catalog, as pgJDBC's getTables and psql's \dt do, with the tables' comments
    done = psql(
        pg.analyst,
        "-F",
        "|",
        "-c",
        "select c.relname, obj_description(c.oid, 'pg_class') from pg_catalog.pg_class as c "
        "join pg_catalog.pg_namespace as n on n.oid = c.relnamespace "
        "where n.nspname = 'recsys' and c.relkind = 'r' order by c.relname",
    )
    assert done.returncode == 0, done.stderr
    described = dict(line.split("|", 1) for line in done.stdout.splitlines())
    assert sorted(described) == sorted(TABLES)
    assert described["recommendations"].startswith("one row per (method, user_id, rank)")
    done = psql(pg.analyst, "-c", r"\dt recsys.*")
    assert done.returncode == 0 and done.stdout.count("|table|") == len(TABLES), done.stdout
    # and reads a user's recommendations
    done = psql(
        pg.analyst,
        "-F",
        ",",
        "-c",
        "select method, rank, movie_id, title, score from recsys.recommendations "
        "where user_id = 1 order by method, rank",
    )
    assert done.returncode == 0, done.stderr
    with duckdb.connect(str(source_a), read_only=True) as con:
        want = con.execute(
            "select method, rank, movie_id, title, score from recommendations "
            "where user_id = 1 order by method, rank"
        ).fetchall()
    got = [line.split(",") for line in done.stdout.splitlines()]
    assert [(m, int(r), int(i), t) for m, r, i, t, _ in got] == [w[:4] for w in want]
    assert [float(s) for *_, s in got] == pytest.approx([w[4] for w in want], abs=1e-12)


def readme_query() -> str:
    """The example query the README gives for every BI tool, as written there."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    match = re.search(r"```sql\n(select rank, title.*?;)\n```", readme, re.S)
    assert match, "the README lost its BI example query"
    return match.group(1)


def test_readme_query_runs_in_psql_and_duckdb(
    pg: Postgres, source_a: Path, published: subprocess.CompletedProcess[str]
) -> None:
    query = readme_query()
    done = psql(pg.analyst, "-A", "-t", "-F", "\t", "-c", query)  # genres hold '|'
    assert done.returncode == 0, done.stderr
    got = [line.split("\t") for line in done.stdout.splitlines()]
    with duckdb.connect(str(source_a), read_only=True) as con:
        want = con.execute(query.replace("recsys.", "")).fetchall()
    assert want, "user 1 has no item-based recommendations: the test would prove nothing"
    assert [(int(r), t, g, float(sc)) for r, t, g, sc in got] == [
        (r, t, g, float(sc)) for r, t, g, sc in want
    ]


def test_every_table_equals_the_duckdb_source(
    pg: Postgres, source_a: Path, published: subprocess.CompletedProcess[str]
) -> None:
    with pg.connect() as con:
        for table in TABLES:
            want = duckdb_rows(source_a, table)
            assert want, f"{table} is empty in the source; the test would prove nothing"
            assert_same_rows(pg_rows(con, "recsys", table), want, table)


def test_parameterised_queries(
    pg: Postgres, source_a: Path, published: subprocess.CompletedProcess[str]
) -> None:
    """A lookup on every table, with psycopg's %s parameters, returns the source's rows."""
    lookups: dict[str, tuple[str, list[tuple[Any, ...]]]] = {
        "recommendations": ("user_id = %s and method = %s", [(1, "item_based"), (2, "user_based")]),
        "item_neighbors": ("movie_id = %s", [(1,), (3,)]),
        "content_neighbors": ("neighbor_id = %s", [(2,)]),
        "user_neighbors": ("user_id = %s", [(1,), (3,)]),
        "user_stats": ("user_id = %s", [(2,)]),
        "movie_stats": ("movie_id = %s", [(4,)]),
        "movies": ("title = %s", [("Beta, The (2001)",)]),
        "movie_genres": ("genre = %s", [("Comedy",)]),
        "eval_rating_metrics": ("split = %s and method = %s", [("temporal", "item_based")]),
        "eval_ranking_metrics": ("k = %s", [(2,)]),
        "eval_predictions": ("user_id = %s", [(1,)]),
        "rating_matrix_stats": ("n_users = %s", [(3,)]),
        "recsys_params": ("n_recommendations = %s", [(3,)]),
        "eval_summary": ("metric = %s and method = %s", [("rmse", "baseline_only")]),
        "knn_models": ("algorithm = %s", [("knn_baseline",)]),
    }
    assert set(lookups) == set(TABLES)
    with pg.connect() as pcon, duckdb.connect(str(source_a), read_only=True) as dcon:
        for table, (where, values) in lookups.items():
            for params in values:
                query = sql.SQL("select * from recsys.{} where " + where).format(  # noqa: S608
                    sql.Identifier(table)
                )
                got = pcon.execute(query, params).fetchall()
                duck_where = where.replace("%s", "?")
                want = dcon.execute(f"select * from {table} where {duck_where}", params).fetchall()  # noqa: S608
                assert want, f"{table} where {where} {params}: no rows in the source"
                assert_same_rows(sorted_rows(got), sorted_rows(want), f"{table} {params}")


def test_column_types_are_plain(pg: Postgres, published: subprocess.CompletedProcess[str]) -> None:
    with pg.connect() as con:
        rows = con.execute(
            "select table_name, column_name, data_type from information_schema.columns "
            "where table_schema = %s",
            ["recsys"],
        ).fetchall()
    assert {r[0] for r in rows} == set(TABLES)
    odd = [r for r in rows if r[2] not in PLAIN_TYPES]
    assert not odd, f"columns of types BI tools may not browse: {odd}"
    types = {(t, c): d for t, c, d in rows}
    assert types[("recommendations", "score")] == "double precision"
    assert types[("user_stats", "first_rated_at")] == "timestamp without time zone"
    assert types[("movies", "title")] == "text"


def test_keys_indexes_and_comments(
    pg: Postgres, published: subprocess.CompletedProcess[str]
) -> None:
    with pg.connect() as con:
        keys = con.execute(
            """
            select c.conrelid::regclass::text, c.contype,
                array_to_string(array(
                    select a.attname from unnest(c.conkey) with ordinality as k(attnum, i)
                    join pg_attribute as a on a.attrelid = c.conrelid and a.attnum = k.attnum
                    order by k.i), ',')
            from pg_constraint as c
            where c.connamespace = 'recsys'::regnamespace and c.contype in ('p', 'u')
            """
        ).fetchall()
        indexes = con.execute(
            "select tablename, indexdef from pg_indexes where schemaname = %s", ["recsys"]
        ).fetchall()
        comments = con.execute(
            "select c.relname, obj_description(c.oid, 'pg_class') from pg_class as c "
            "where c.relnamespace = 'recsys'::regnamespace and c.relkind = 'r'"
        ).fetchall()
    primary = {t.removeprefix("recsys."): cols for t, kind, cols in keys if kind == "p"}
    assert primary == {
        "movies": "movie_id",
        "movie_genres": "movie_id,genre",
        "user_stats": "user_id",
        "movie_stats": "movie_id",
        "item_neighbors": "movie_id,rank",
        "content_neighbors": "movie_id,rank",
        "user_neighbors": "user_id,rank",
        "recommendations": "method,user_id,rank",
        "eval_rating_metrics": "split,fold,method",
        "eval_ranking_metrics": "split,fold,method,k",
        "eval_predictions": "split,fold,method,user_id,movie_id",
        "knn_models": "model",
    }  # none on the one-row rating_matrix_stats and recsys_params; eval_summary has a
    # unique index instead (its k is NULL for the rating metrics)
    unique = {(t.removeprefix("recsys."), cols) for t, kind, cols in keys if kind == "u"}
    assert ("item_neighbors", "movie_id,neighbor_id") in unique
    lookup = {(t, d.split("USING btree ")[1]) for t, d in indexes}
    for want in [
        ("recommendations", "(user_id)"),
        ("recommendations", "(movie_id)"),
        ("item_neighbors", "(neighbor_id)"),
        ("content_neighbors", "(neighbor_id)"),
        ("user_neighbors", "(neighbor_id)"),
        ("movies", "(title)"),
        ("movie_genres", "(genre)"),
    ]:
        assert want in lookup, f"no index on {want}: {sorted(lookup)}"
    assert all(text and text.startswith("one row") for _, text in comments), comments


# -- atomic and idempotent ----------------------------------------------------------------


def test_publishing_twice_gives_the_same_result(pg: Postgres, source_a: Path) -> None:
    first = publish(source_a, pg.publisher, schema="recsys_twice", grant_readonly="analyst")
    before = schema_contents(pg.analyst, "recsys_twice")
    second = publish(source_a, pg.publisher, schema="recsys_twice")  # no grant this time
    after = schema_contents(pg.analyst, "recsys_twice")  # analyst kept its access
    assert first.rows == second.rows
    assert before == after
    assert {"recsys_twice__new", "recsys_twice__old"}.isdisjoint(schemas(pg.admin))


@pytest.mark.parametrize("schema", ["Recsys", "my schema"])
def test_schema_names_that_need_quotes_publish_and_republish(
    pg: Postgres, source_a: Path, schema: str
) -> None:
    """Issue 19 (11): ANALYZE found the staging schema by re-parsing its unquoted name."""
    first = publish(source_a, pg.publisher, schema=schema)
    second = publish(source_a, pg.publisher, schema=schema)
    assert first.rows == second.rows
    publish(source_a, pg.publisher, schema="recsys_unquoted")
    assert schema_contents(pg.publisher, schema) == schema_contents(pg.publisher, "recsys_unquoted")
    assert {f"{schema}__new", f"{schema}__old"}.isdisjoint(schemas(pg.admin))


def test_failure_while_filling_keeps_the_publication(
    pg: Postgres, source_a: Path, source_b: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from recsys_duck import publish as module

    publish(source_a, pg.publisher, schema="recsys_fail", grant_readonly="analyst")
    before = schema_contents(pg.analyst, "recsys_fail")
    real = module._load_table

    def failing(con: duckdb.DuckDBPyConnection, path: Path, staging: str) -> int:
        if path.stem == "recommendations":  # half the tables are in recsys_fail__new
            raise RuntimeError("injected failure half-way through the copy")
        return real(con, path, staging)

    monkeypatch.setattr(module, "_load_table", failing)
    with pytest.raises(RuntimeError, match="injected"):
        publish(source_b, pg.publisher, schema="recsys_fail")
    monkeypatch.undo()
    assert schema_contents(pg.analyst, "recsys_fail") == before
    assert "recsys_fail__new" not in schemas(pg.admin)


def test_failure_at_the_swap_keeps_the_publication(
    pg: Postgres, source_a: Path, source_b: Path
) -> None:
    publish(source_a, pg.publisher, schema="recsys_swap", grant_readonly="analyst")
    before = schema_contents(pg.analyst, "recsys_swap")
    with psycopg.connect(pg.publisher, autocommit=True) as con:
        # a view built on a published table would be dropped by the swap: refused
        con.execute("create view public.my_titles as select title from recsys_swap.movies")
        with pytest.raises(PublishError, match="view public.my_titles") as caught:
            publish(source_b, pg.publisher, schema="recsys_swap")
        assert "unchanged" in str(caught.value)
        assert schema_contents(pg.analyst, "recsys_swap") == before
        assert "recsys_swap__new" not in schemas(pg.admin)  # committed, then dropped
        con.execute("drop view public.my_titles")
        # a staging schema left by a publish killed after its first transaction: made
        # and marked (by its comment) in that transaction, as publish/prepare.sql does
        con.execute("create schema recsys_swap__new")
        con.execute("comment on schema recsys_swap__new is 'recsys-duck publication, killed'")
        con.execute("create table recsys_swap__new.junk (i integer)")
    publish(source_b, pg.publisher, schema="recsys_swap")
    assert schema_contents(pg.analyst, "recsys_swap") == {
        table: duckdb_rows(source_b, table) for table in TABLES
    }
    assert "recsys_swap__new" not in schemas(pg.admin)


def test_bad_readonly_role_is_refused_before_anything_changes(
    pg: Postgres, source_b: Path, published: subprocess.CompletedProcess[str]
) -> None:
    before = schema_contents(pg.analyst, "recsys")
    done = run_cli(
        "--db", str(source_b), "publish", "--postgres", pg.publisher, "--grant-readonly", "nobody"
    )
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if line.startswith("Error:")]
    assert errors == [
        "Error: role 'nobody' does not exist on the PostgreSQL server; create it first, e.g. "
        "CREATE ROLE \"nobody\" LOGIN PASSWORD '...'; (not a superuser: it must only read)"
    ], done.stderr
    assert "Traceback" not in done.stderr
    for role, reason in [("postgres", "it is a superuser"), ("publisher", "publishing role")]:
        with pytest.raises(PublishError, match=reason):
            publish(source_b, pg.publisher, grant_readonly=role)
    assert schema_contents(pg.analyst, "recsys") == before
    assert "recsys__new" not in schemas(pg.admin)


def test_schema_not_made_by_publish_is_never_replaced(pg: Postgres, source_a: Path) -> None:
    with psycopg.connect(pg.publisher, autocommit=True) as con:
        con.execute("create schema mine")
        con.execute("create table mine.precious (i integer)")
    with pytest.raises(PublishError, match="not created by recsys-duck"):
        publish(source_a, pg.publisher, schema="mine")
    with pytest.raises(ValueError, match="replaces the whole schema"):
        publish(source_a, pg.publisher, schema="public")
    assert {"mine"} <= schemas(pg.admin) and "mine__new" not in schemas(pg.admin)


@pytest.mark.parametrize("suffix", ["__old", "__new"])
def test_a_users_schema_named_like_a_leftover_is_refused_not_dropped(
    pg: Postgres, source_a: Path, suffix: str
) -> None:
    """Issue 19 (4): publish --schema reports dropped a user's reports__old with CASCADE."""
    schema = f"reports{suffix.replace('_', '')}"  # a schema name of this test's own
    with psycopg.connect(pg.publisher, autocommit=True) as con:
        con.execute(f"create schema {schema}{suffix}")
        con.execute(f"create table {schema}{suffix}.important (i integer)")
        con.execute(f"insert into {schema}{suffix}.important values (42)")  # noqa: S608
    done = run_cli("--db", str(source_a), "publish", "--postgres", pg.publisher, "--schema", schema)
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert f"schema {schema}{suffix} exists and was not created by recsys-duck" in last, last
    with psycopg.connect(pg.publisher) as con:
        row = con.execute(f"select i from {schema}{suffix}.important").fetchone()  # noqa: S608
    assert row == (42,)
    assert schema not in schemas(pg.admin)


def test_file_held_open_by_this_process(pg: Postgres, source_a: Path) -> None:
    """A Recommender of the same process (hardened, other settings) has the file open."""
    with Recommender(source_a, read_only=True) as rec:
        report = publish(source_a, pg.publisher, schema="recsys_open")
        assert report.rows["recommendations"] == len(rec.recommendations())


def test_urls_parse_and_redact() -> None:
    url = "postgresql://us%40er:p%40ss%2Fw@db.example:5433/b%20i?sslmode=require&password=two"
    assert libpq_options(url) == {
        "host": "db.example",
        "port": "5433",
        "user": "us@er",
        "password": "two",  # a password= option wins, as in libpq
        "dbname": "b i",
        "sslmode": "require",
    }
    assert redact_url(url) == (
        "postgresql://us%40er:***@db.example:5433/b%20i?sslmode=require&password=***"
    )
    assert libpq_options("postgres://127.0.0.1") == {"host": "127.0.0.1"}
    for bad, message in [
        ("mysql://u:secret@h/db", "not a PostgreSQL URL: 'mysql://u:***@h/db'"),
        ("postgresql://u:secret@h:99999/db", "bad port"),
        ("postgresql://h/db?Bad-Key=1", "bad connection option"),
    ]:
        with pytest.raises(ValueError, match=re.escape(message)) as caught:
            libpq_options(bad)
        assert "secret" not in str(caught.value)


@pytest.mark.parametrize("secret", ["Sec#ret99", "Sec/ret99", "Sec?ret99", "Se@c:r#e/t?"])
def test_no_error_quotes_the_password_whatever_its_characters(secret: str) -> None:
    """Issue 19 (3): an unencoded '#' made urlsplit take the password for the port, and
    'bad port in ...' quoted it."""
    url = f"postgresql://publisher:{secret}@127.0.0.1:5432/analytics"
    with pytest.raises(ValueError, match="percent-encode") as caught:
        libpq_options(url)
    message = str(caught.value)
    assert "publisher:***@127.0.0.1:5432/analytics" in message
    for piece in {secret, *re.split(r"[#/?@:]", secret)}:
        if len(piece) > 1:
            assert piece not in message
    assert redact_url(url) == "postgresql://publisher:***@127.0.0.1:5432/analytics"


def test_missing_extension_says_how_to_install(
    source_a: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "duckdb_extension_postgres_scanner", None)
    with pytest.raises(RecsysError, match=r"pip install 'recsys-duck\[bi\]'"):
        publish(source_a, "postgresql://nobody@127.0.0.1:1/bi")


# -- the read-only role ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "insert into recsys.movies values (99, 'X (2000)', 'Drama', 2000)",
        "update recsys.recommendations set score = 0",
        "delete from recsys.movies",
        "truncate recsys.recommendations",
        "drop table recsys.movies",
        "alter table recsys.movies add column x integer",
        "create table recsys.x (i integer)",
        "create table public.x (i integer)",
        "create view public.v as select 1 as one",
        "create schema analyst_own",
        "copy recsys.movies to '/tmp/recsys_duck_stolen.csv'",
        "copy (select 1) to program 'true'",
        "create index on recsys.movies (year)",
    ],
)
def test_readonly_role_is_refused_every_write(
    pg: Postgres, statement: str, published: subprocess.CompletedProcess[str]
) -> None:
    with pg.connect() as con:
        assert con.execute("select count(*) from recsys.movies").fetchone() == (5,)
        with pytest.raises(psycopg.Error) as caught:
            con.execute(statement)
    assert caught.value.sqlstate == "42501", caught.value  # insufficient_privilege
    assert not Path("/tmp/recsys_duck_stolen.csv").exists()


# -- concurrent readers ----------------------------------------------------------------------


def expected_state(db: Path) -> tuple[Any, ...]:
    """What a reader sees of one publication: list length, k, and every table's count."""
    with duckdb.connect(str(db), read_only=True) as con:
        params = con.execute("select n_recommendations, neighbors_k from recsys_params").fetchone()
        assert params is not None
        counts = [
            con.execute(f"select count(*) from {t}").fetchone()[0]  # type: ignore[index]  # noqa: S608
            for t in TABLES
        ]
    return (*params, *counts, len(TABLES))


ISOLATION = {1: psycopg.IsolationLevel.READ_COMMITTED, 2: psycopg.IsolationLevel.REPEATABLE_READ}


@dataclass
class ReaderStats:
    queries: int = 0
    transactions: int = 0
    errors: list[str] | None = None
    seen: Counter[str] | None = None


def test_readers_never_see_a_half_published_schema(
    pg: Postgres, source_a: Path, source_b: Path
) -> None:
    schema = "recsys_live"
    states = {"A": expected_state(source_a), "B": expected_state(source_b)}
    assert states["A"] != states["B"]
    publish(source_a, pg.publisher, schema=schema, grant_readonly="analyst")
    ident = sql.Identifier(schema)
    count = sql.SQL("select count(*) from {}.{}")
    counts = [sql.SQL("({})").format(count.format(ident, sql.Identifier(t))) for t in TABLES]
    # the same observation in one statement, so one snapshot
    single = sql.SQL(
        "select (select n_recommendations from {s}.recsys_params), "
        "(select neighbors_k from {s}.recsys_params), {counts}, "
        "(select count(*) from information_schema.tables where table_schema = %s)"
    ).format(s=ident, counts=sql.SQL(", ").join(counts))
    stop = threading.Event()
    n_readers = 8
    stats = [ReaderStats(errors=[], seen=Counter()) for _ in range(n_readers)]

    def observe(con: psycopg.Connection[Any], i: int, st: ReaderStats) -> tuple[Any, ...]:
        if i % 3 == 0:  # autocommit: one statement
            row = con.execute(single, [schema]).fetchone()
            st.queries += 1
            assert row is not None
            return tuple(row)
        # a transaction of several statements, READ COMMITTED or REPEATABLE READ
        con.isolation_level = ISOLATION[i % 3]
        with con.transaction():
            seen: list[Any] = list(
                con.execute(
                    sql.SQL("select n_recommendations, neighbors_k from {}.recsys_params").format(
                        ident
                    )
                ).fetchone()
                or ()
            )
            for t in TABLES:
                seen.append(con.execute(count.format(ident, sql.Identifier(t))).fetchone()[0])  # type: ignore[index]
            seen.append(
                con.execute(
                    "select count(*) from information_schema.tables where table_schema = %s",
                    [schema],
                ).fetchone()[0]  # type: ignore[index]
            )
            user_list = con.execute(
                sql.SQL(
                    "select count(*) from {}.recommendations where user_id = %s and method = %s"
                ).format(ident),
                [1 + i % 3, "item_based"],
            ).fetchone()
            st.queries += len(TABLES) + 3
        st.transactions += 1
        assert user_list is not None and user_list[0] <= seen[0]
        return tuple(seen)

    def reader(st: ReaderStats) -> None:
        assert st.errors is not None and st.seen is not None
        try:
            con = pg.connect(autocommit=True)
        except psycopg.Error as exc:
            st.errors.append(f"connect: {exc}")
            return
        with con:
            i = 0
            while not stop.is_set():
                i += 1
                try:
                    state = observe(con, i, st)
                except Exception as exc:  # noqa: BLE001 - every failure is counted
                    st.errors.append(f"{type(exc).__name__}: {exc}".strip())
                    continue
                names = [name for name, want in states.items() if want == state]
                st.seen[names[0] if names else f"half-published {state}"] += 1

    threads = [threading.Thread(target=reader, args=(st,)) for st in stats]
    for thread in threads:
        thread.start()
    publishes: list[tuple[str, float, int]] = []
    try:
        time.sleep(0.3)
        for n in range(6):
            name, db = ("B", source_b) if n % 2 == 0 else ("A", source_a)
            report = publish(db, pg.publisher, schema=schema)
            publishes.append((name, report.total_seconds, report.swap_attempts))
            time.sleep(0.15)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    errors = [e for st in stats for e in st.errors or []]
    seen: Counter[str] = sum((st.seen or Counter() for st in stats), Counter())
    figures = (
        f"{n_readers} reader clients, {sum(st.queries for st in stats)} queries "
        f"({sum(st.transactions for st in stats)} multi-statement transactions), "
        f"{len(errors)} errors, states seen {dict(seen)}; publishes (state, s, swap attempts) "
        f"{[(n, round(s, 2), a) for n, s, a in publishes]}"
    )
    print("\nconcurrency:", figures)
    assert not errors, f"{figures}; first errors: {errors[:3]}"
    assert set(seen) == {"A", "B"}, figures
    assert all(st.queries > 0 for st in stats), figures
    with pg.connect() as con:  # the last publish (A) is what stays
        assert pg_rows(con, schema, "recommendations") == duckdb_rows(source_a, "recommendations")


# -- real data ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_ml_latest_small_parity(pg: Postgres, small: Recommender) -> None:
    """ml-latest-small, about 1.1 million rows: every count and every column sum agrees.
    The session's Recommender keeps the file open meanwhile."""
    copy = Path(small.path)
    report = publish(copy, pg.publisher, schema="recsys_small")
    print(f"\nml-latest-small: {sum(report.rows.values())} rows in {report.total_seconds:.1f} s")
    with pg.connect(pg.publisher) as pcon, duckdb.connect(str(copy), read_only=True) as dcon:
        for table in TABLES:
            columns = [
                (name, kind)
                for name, kind in dcon.execute(
                    "select column_name, data_type from information_schema.columns "
                    "where table_name = ? order by ordinal_position",
                    [table],
                ).fetchall()
            ]
            numeric = [name for name, kind in columns if kind in ("INTEGER", "BIGINT", "DOUBLE")]
            aggregates = ", ".join(["count(*)"] + [f"sum({c})" for c in numeric])
            want = dcon.execute(f"select {aggregates} from {table}").fetchone()  # noqa: S608
            got = pcon.execute(f"select {aggregates} from recsys_small.{table}").fetchone()  # noqa: S608
            assert want is not None and got is not None
            assert report.rows[table] == want[0] == got[0], table
            for name, g, w in zip(numeric, got[1:], want[1:], strict=True):
                if w is None:
                    assert g is None, (table, name)
                else:
                    assert float(g) == pytest.approx(float(w), rel=1e-9), (table, name)
        assert isinstance(
            pcon.execute("select max(last_rated_at) from recsys_small.user_stats").fetchone()[0],  # type: ignore[index]
            datetime,
        )
