"""Adding ratings to a built database without rebuilding it: ``recsys-duck add-ratings``.

The new ratings are checked like a MovieLens ratings.csv (and must rate pairs not rated
yet), then the plan runs in its ``increment`` scope (:mod:`recsys_duck.pipeline`), in
one transaction:

1. ``load``: the new ratings are inserted;
2. ``25_baseline``: the baseline biases, an alternating least squares fit over all
   ratings, are fitted again;
3. ``pair_sums``: each side's ``<side>_pair_sums.increment.sql`` adds what the new
   ratings contribute to the pair sums, computed only from the pairs of ratings in
   which one rating is new (work in proportion to the change, not to the data), and
   lists the movies (users) whose similarities change: those with a new rating and
   everything paired with them, as a norm changes with every rating;
4. ``item_neighbors`` / ``user_neighbors``: those rows are ranked again by the same
   ``<table>.refresh.sql`` that ranks every row at a build;
5. ``60_marts`` and ``recommendations``: the marts are rebuilt (every user's top-N reads
   the refreshed neighbours).

Only the sides the build computed (``recsys_params.build_item_neighbors``,
``build_user_neighbors``) are maintained; the others stay empty. The result equals a
full rebuild: half-star products add up exactly in any order, so the pair sums,
similarities and neighbour tables are bit-identical (tests/test_increment.py). Views
(statistics, similarities, k-NN predictors) read the new ratings at once. Stored
evaluation results are kept: they describe the models trained before the change.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from recsys_duck import pipeline
from recsys_duck.errors import RecsysError
from recsys_duck.params import read_params
from recsys_duck.spark import run_folders
from recsys_duck.sql import run_file, step_file, transaction

logger = logging.getLogger(__name__)


@dataclass
class IncrementReport:
    """What ``add_ratings`` did: rows added, rows refreshed, and seconds per step."""

    n_ratings: int = 0
    affected_movies: int = 0
    affected_users: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def total_seconds(self) -> float:
        return sum(self.seconds.values())


def add_ratings(con: duckdb.DuckDBPyConnection, path: str | os.PathLike[str]) -> IncrementReport:
    """Add the ratings of ``path`` and bring every stored table up to date, in one
    transaction (all or nothing)."""
    folders = run_folders(con)
    if folders:
        raise RecsysError(
            f"this database was built on Spark and its pair sums are Parquet files in "
            f"{folders[0]}; add the new ratings to the data and build again with "
            "--engine spark"
        )
    neighbors = frozenset(read_params(con).neighbors)
    scope = pipeline.Scope("increment", neighbors=neighbors, new_ratings=Path(path))
    try:
        with transaction(con):
            run = pipeline.run(con, scope)
    finally:
        run_file(con, step_file("add_ratings/cleanup"))
    report = IncrementReport(
        n_ratings=run.rows["ratings"],
        affected_movies=run.refreshed.get("item_neighbors", 0),
        affected_users=run.refreshed.get("user_neighbors", 0),
        seconds=run.seconds,
    )
    logger.info(
        "add-ratings: %d ratings, neighbours of %d movies and %d users refreshed in %.2f s",
        report.n_ratings,
        report.affected_movies,
        report.affected_users,
        report.total_seconds,
    )
    return report
