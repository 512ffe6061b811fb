"""Shared fixtures: the tiny hand-made dataset and the real ml-latest-small.

Tests that need the real data read it from ../shared/data/ml-latest-small beside the
checkout. When CI=true and it is missing they fail loudly; elsewhere they skip.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from recsys_duck import Recommender
from recsys_duck.loader import FilesInput
from recsys_duck.params import BuildParams
from recsys_duck.sql import apply_layers

TESTS = Path(__file__).resolve().parent
TINY = TESTS / "data" / "tiny"
ML_SMALL = TESTS.parents[1] / "shared" / "data" / "ml-latest-small"


def require_ml_small() -> Path:
    """The real ml-latest-small folder; fails under CI=true when it is missing."""
    if (ML_SMALL / "ratings.csv").is_file():
        return ML_SMALL
    message = f"MovieLens ml-latest-small not found at {ML_SMALL}"
    if os.environ.get("CI") == "true":
        pytest.fail(message + " (CI must provide ../shared/data/ml-latest-small)")
    pytest.skip(message)


#: The settings of the ``tiny`` fixture's build.
TINY_PARAMS = BuildParams(k=3, n_similar_users=2, n_item_neighbors=2, n_recommendations=3)


@pytest.fixture
def tiny() -> Iterator[Recommender]:
    """An in-memory database with every SQL file applied to the tiny dataset."""
    with Recommender(":memory:") as rec:
        rec.build(TINY, TINY_PARAMS)
        yield rec


@pytest.fixture(scope="session")
def ml_small_dir() -> Path:
    return require_ml_small()


@pytest.fixture(scope="session")
def small(ml_small_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Recommender]:
    """ml-latest-small built once into a database file with the default settings."""
    path = tmp_path_factory.mktemp("db") / "recsys.duckdb"
    with Recommender(path) as rec:
        rec.build(ml_small_dir)
        yield rec


def metrics_db() -> duckdb.DuckDBPyConnection:
    """A private database with the eval_* tables and the metric views, no data."""
    con = duckdb.connect(":memory:")
    apply_layers(con, ["00_tables", "70_evaluation"])
    return con


def insert_rows(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict[str, Any]]) -> None:
    if rows:
        con.register("rows_in", pd.DataFrame(rows))
        con.execute(f"insert into {table} by name select * from rows_in")  # noqa: S608
        con.unregister("rows_in")


def parquet_copy(folder: Path, target: Path) -> FilesInput:
    """A MovieLens folder's movies, ratings and tags as Parquet, typed as a data lake holds
    them (integer ids and seconds, double ratings): ratings as a folder of two files
    (users with odd ids first), the others one file each."""
    target.mkdir(parents=True)
    (target / "ratings").mkdir()
    con = duckdb.connect()
    for name in ("movies", "tags"):
        con.execute(
            f"copy (select * from read_csv(?)) to '{target / name}.parquet'",  # noqa: S608
            [str(folder / f"{name}.csv")],
        )
    for part, odd in (("part-0", 1), ("part-1", 0)):
        con.execute(
            "copy (select * from read_csv(?, types = {'rating': 'DOUBLE'}) "  # noqa: S608
            f"where userId % 2 = {odd}) to '{target / 'ratings' / part}.parquet'",
            [str(folder / "ratings.csv")],
        )
    con.close()
    return FilesInput(
        str(target / "ratings"), str(target / "movies.parquet"), str(target / "tags.parquet")
    )
