"""The recsys-duck command line, run as a real subprocess on the tiny dataset."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from click.testing import CliRunner

from recsys_duck import Recommender
from recsys_duck.cli import cli
from recsys_duck.params import BuildParams
from tests.conftest import TINY


def run(*args: str, db: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "recsys_duck.cli", "--db", str(db), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "tiny.duckdb"
    done = run("build", "--data", str(TINY), "--k", "10", db=path)
    assert done.returncode == 0, done.stderr
    assert "build:" in done.stderr  # progress goes to stderr
    return path


def test_stats_json(db: Path) -> None:
    done = run("stats", "--json", db=db)
    assert done.returncode == 0, done.stderr
    (row,) = json.loads(done.stdout)
    assert (row["n_users"], row["n_movies"], row["n_ratings"]) == (3, 4, 7)


def test_similar_csv(db: Path) -> None:
    done = run("similar", "Gamma", "-n", "2", "--csv", db=db)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines[0] == "movie_id,title,genres,similarity_score"
    assert len(lines) == 3


def test_recommend_table(db: Path) -> None:
    done = run("recommend", "1", "--method", "item", "-n", "2", db=db)
    assert done.returncode == 0, done.stderr
    assert "movie_id" in done.stdout.splitlines()[0]
    assert "Gamma" in done.stdout


def test_sql_verb_calls_macros(db: Path) -> None:
    done = run("sql", "select movie_id from recommend_user_based(1, n := 1)", "--csv", db=db)
    assert done.returncode == 0, done.stderr
    # m3, by the sum of its neighbours' ratings (test_sql_tiny's user-based test)
    assert done.stdout.split() == ["movie_id", "3"]


def test_unknown_user_is_one_line_and_exit_1(db: Path) -> None:
    done = run("recommend", "99", db=db)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "Error: unknown user_id 99: no ratings by that user; SELECT min(user_id), "
        "max(user_id) FROM ratings gives the range of ids with ratings, SELECT user_id "
        "FROM user_stats lists them."
    ]
    assert "Traceback" not in done.stderr


def test_unknown_title_suggests(db: Path) -> None:
    done = run("similar", "Beta", "-n", "2", db=db)
    assert done.returncode == 1
    assert "did you mean 'Beta, The (2001)' (movie_id 2)" in done.stderr


def test_evaluate_prints_metrics(db: Path) -> None:
    done = run("evaluate", "--split", "temporal", db=db)
    assert done.returncode == 1  # 2 or 3 ratings per user: 20% holds out none
    assert "holds out no rating: a user needs at least 5 ratings" in done.stderr
    done = run("evaluate", "--split", "temporal", "--test-fraction", "0.5", "--json", db=db)
    assert done.returncode == 0, done.stderr
    methods = {row["method"] for row in json.loads(done.stdout)}
    assert methods == {
        "user_based",
        "item_based",
        "content_based",
        "popularity",
        "baseline_only",
        "knn_baseline_item_pearson_baseline",
        "item_knn",
        "rp3beta",
        "item_ridge",
    }
    written = db.with_name(f"{db.name}.temporal.evaluation.csv")
    summary = pd.read_csv(written)
    assert set(summary["method"]) == methods and {"rmse", "ndcg_at_k"} <= set(summary["metric"])


def test_failed_build_leaves_database_unchanged(db: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    shutil.copytree(TINY, bad)
    with open(bad / "ratings.csv", "a", encoding="utf-8") as f:
        f.write("1,3,7.0,1100\n")  # line 9: rating out of range
    copy = tmp_path / "copy.duckdb"
    shutil.copy(db, copy)
    before = run("sql", "select count(*) as n from ratings", "--csv", db=copy).stdout
    done = run("build", "--data", str(bad), "--k", "10", db=copy)
    assert done.returncode == 1
    (message,) = done.stderr.strip().splitlines()[-1:]
    assert "ratings.csv" in message and "line 9" in message
    assert run("sql", "select count(*) as n from ratings", "--csv", db=copy).stdout == before


def test_missing_database_says_how_to_build(tmp_path: Path) -> None:
    done = run("stats", db=tmp_path / "absent.duckdb")
    assert done.returncode == 1
    assert "recsys-duck build" in done.stderr


def test_every_verb_has_an_example() -> None:
    from click.testing import CliRunner

    from recsys_duck.cli import cli

    for verb in ("build", "stats", "similar", "recommend", "evaluate", "sql", "tour", "report"):
        result = CliRunner().invoke(cli, [verb, "--help"])
        assert result.exit_code == 0
        assert "Example:" in result.output, verb


def test_predict_writes_flagged_predictions_as_csv_or_parquet(tmp_path: Path) -> None:
    """The predict verb gives Recommender.predict's rows (the same SQL), with the users
    and movies that have no rating flagged, to stdout or a file of either format."""
    db = tmp_path / "tiny.duckdb"
    with Recommender(db) as rec:
        rec.build(TINY, BuildParams(k=3, n_similar_users=2, n_item_neighbors=2))
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("userId,movieId,rating\n1,3,4.0\n99,3,1.0\n1,999,2.0\n1,3,4.0\n")
    with Recommender(db, read_only=True) as rec:
        want = rec.predict([(1, 3), (99, 3), (1, 999)])
    assert want[["user_id", "unknown_user", "unknown_movie"]].values.tolist() == [
        [1, False, False],
        [1, False, True],
        [99, True, False],
    ]
    runner = CliRunner()
    for out in ("p.csv", "p.parquet"):
        done = runner.invoke(
            cli,
            ["-q", "--db", str(db), "predict", "--pairs", str(pairs), "--out", str(tmp_path / out)],
        )
        assert done.exit_code == 0, done.stderr
        with duckdb.connect() as con:
            reader = "read_" + out.split(".")[1]  # read_csv or read_parquet
            got = con.execute(f"select * from {reader}(?)", [str(tmp_path / out)]).df()  # noqa: S608
        pd.testing.assert_frame_equal(got, want, check_dtype=False)
    printed = runner.invoke(cli, ["-q", "--db", str(db), "predict", "--pairs", str(pairs), "--csv"])
    assert printed.exit_code == 0
    pd.testing.assert_frame_equal(pd.read_csv(io.StringIO(printed.stdout)), want, check_dtype=False)
