"""The database file as an analyst opens it: the real DuckDB command-line client, no
Python involved, read-only. The macros and views are persisted in the file."""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from recsys_duck import Recommender
from recsys_duck.params import BuildParams
from tests.conftest import TINY


def duckdb_cli() -> str:
    beside = Path(sys.executable).parent / "duckdb"
    found = str(beside) if beside.exists() else shutil.which("duckdb")
    if found is None:
        pytest.fail("the DuckDB CLI is missing: pip install duckdb-cli (a test dependency)")
    return found


@pytest.fixture(scope="module")
def db_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("analyst") / "tiny.duckdb"
    with Recommender(path) as rec:
        rec.build(TINY, BuildParams(k=3, n_similar_users=2, n_item_neighbors=2))
    return path


def query(db: Path, sql: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [duckdb_cli(), "-readonly", "-csv", str(db), "-c", sql],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_macros_run_in_the_plain_cli(db_file: Path) -> None:
    done = query(
        db_file,
        "select movie_id, round(score, 6) as s from recommend_item_based(1, n_neighbors := 2)",
    )
    assert done.returncode == 0, done.stderr
    # hand-worked in test_sql_tiny: movie 3 scores 5 * 8 / sqrt(41 * 29), movie 4 3 / sqrt(10)
    header, *rows = done.stdout.split()
    assert header == "movie_id,s"
    got = [(int(m), float(v)) for m, v in (row.split(",") for row in rows)]
    assert got == [(3, round(40 / math.sqrt(41 * 29), 6)), (4, round(3 / math.sqrt(10), 6))]


def test_views_and_tables_are_queryable(db_file: Path) -> None:
    done = query(db_file, "select n_users, n_movies, n_ratings from rating_matrix_stats")
    assert done.stdout.split() == ["n_users,n_movies,n_ratings", "3,4,7"]
    done = query(db_file, "select count(*) as n from recommendations where method = 'user_based'")
    assert done.returncode == 0 and done.stdout.split()[1].isdigit()


def test_unknown_title_error_reaches_the_cli(db_file: Path) -> None:
    done = query(db_file, "select * from similar_movies('Alpha', n := 2)")
    assert done.returncode != 0
    assert "did you mean 'Alpha (1999)' (movie_id 1)" in done.stderr + done.stdout


def test_read_only_refuses_writes(db_file: Path) -> None:
    done = query(db_file, "delete from ratings")
    assert done.returncode != 0
    assert "read-only" in (done.stderr + done.stdout).lower()
