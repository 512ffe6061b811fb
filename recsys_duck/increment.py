"""Adding ratings to a built database without rebuilding it: ``recsys-duck add-ratings``,
and bringing the deferred tables up to date: ``recsys-duck refresh``.

The new ratings are checked like a MovieLens ratings.csv (and must rate pairs not rated
yet), then the plan runs in its ``increment`` scope (:mod:`recsys_duck.pipeline`), all
or nothing: on a copy of the file that replaces it at the end, or with ``defer_weights``
(a small change next to the file) in one transaction on the file itself:

1. ``load``: the new ratings are inserted;
2. ``pair_sums``: each side's ``<side>_pair_sums.increment.sql`` adds what the new
   ratings contribute to the pair sums, computed only from the pairs of ratings in
   which one rating is new (work in proportion to the change, not to the data), and
   lists the movies (users) whose similarities change: those with a new rating and
   everything paired with them, as a norm changes with every rating;
3. ``item_neighbors`` / ``user_neighbors``: those rows are ranked again by the same
   ``<table>.refresh.sql`` that ranks every row at a build; ``item_weights``: the rows
   of every ranking model that the new ratings can change (``item_weights.increment.sql``
   says which), unless ``defer_weights`` leaves them to refresh;
4. ``freshness``: the tables whose computation is global (the baseline biases, an
   alternating least squares fit over all ratings, and the marts popular_movies and
   recommendations: :data:`recsys_duck.pipeline.DEFERRED`), and item_weights when
   deferred, are marked stale, with the number of ratings added since they were computed.

The ``refresh`` scope recomputes the deferred tables (item_weights only when stale) and
marks them fresh, on a copy of the file; ``add-ratings --refresh`` runs both. Once
item_weights is stale, add-ratings leaves it stale (patching the rows of a second batch
of ratings would not make it exact) until a refresh. Only the sides the build computed
(``recsys_params.build_item_neighbors``, ``build_user_neighbors``) are maintained; the
others stay empty. After a refresh the database equals a full rebuild: half-star
products add up exactly in any order, so the pair sums, similarities and neighbour
tables are bit-identical (tests/test_increment.py). Views (statistics, similarities,
k-NN predictors) and the ``recommend_*`` macros read the new ratings and neighbours at
once. Stored evaluation results are kept: they describe the models trained before the
change.
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
from recsys_duck.sql import run_file, step_file
from recsys_duck.storage import all_or_nothing

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


def add_ratings(
    con: duckdb.DuckDBPyConnection,
    path: str | os.PathLike[str],
    *,
    refresh: bool = False,
    defer_weights: bool = False,
    autocommit: bool = False,
) -> IncrementReport:
    """Add the ratings of ``path``, keep the pair sums, neighbour tables and (unless
    ``defer_weights``) the ranking weights exact and mark the deferred tables stale, all
    or nothing; with ``refresh``, recompute those too in the same run. All or nothing:
    one transaction, unless ``autocommit`` (``con`` is then a copy that replaces the file
    only if this succeeds, :func:`recsys_duck.storage.writer`)."""
    folders = run_folders(con)
    if folders:
        raise RecsysError(
            f"this database was built on Spark and its pair sums are Parquet files in "
            f"{folders[0]}; add the new ratings to the data and build again with "
            "--engine spark"
        )
    neighbors = frozenset(read_params(con).neighbors)
    scope = pipeline.Scope(
        "increment", neighbors=neighbors, new_ratings=Path(path), defer_weights=defer_weights
    )
    try:
        with all_or_nothing(con, autocommit):
            run = pipeline.run(con, scope)
            if refresh:
                refreshed = pipeline.run(con, pipeline.Scope("refresh", neighbors=neighbors))
                run.seconds.update({f"refresh: {k}": v for k, v in refreshed.seconds.items()})
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


def refresh(con: duckdb.DuckDBPyConnection, *, autocommit: bool = False) -> dict[str, float]:
    """Recompute the tables add-ratings deferred (``freshness``) from every rating, in one
    transaction (unless ``autocommit``, as for :func:`add_ratings`); the database then
    equals a full rebuild. Returns seconds per step."""
    neighbors = frozenset(read_params(con).neighbors)
    with all_or_nothing(con, autocommit):
        run = pipeline.run(con, pipeline.Scope("refresh", neighbors=neighbors))
    tables = [*pipeline.DEFERRED, *([pipeline.WEIGHTS] if run.weights_computed else [])]
    logger.info("refresh: %s recomputed in %.2f s", ", ".join(tables), run.total_seconds)
    return run.seconds
