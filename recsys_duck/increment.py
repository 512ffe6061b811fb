"""Adding ratings to a built database without rebuilding it: ``recsys-duck add-ratings``.

The new ratings are checked like a MovieLens ratings.csv (and must rate pairs not rated
yet), then, in one transaction (SQL in ``sql/steps/increment``):

1. ``item_pair_deltas`` / ``user_pair_deltas``: what they add to the co-rating sums,
   computed only from the pairs of ratings of the users (item side) and movies (user
   side) that have a new rating, one of the two ratings new: work in proportion to the
   change, not to the data;
2. ``insert_ratings``, then ``apply_<side>_pair_deltas``: the deltas are added to
   ``item_pair_sums`` and ``user_pair_sums``; the movies and users whose neighbours can
   change are found (those with a new rating and everything paired with them: a norm
   changes with every rating);
3. ``refresh_item_neighbors`` / ``refresh_user_neighbors``: those rows of the neighbour
   tables are ranked again, by the same rank key as the build;
4. the rating-derived tables that are global by nature are rebuilt from the layers: the
   baseline biases (an alternating least squares fit over all ratings) and the
   ``popular_movies`` and ``recommendations`` marts (every user's top-N reads the
   refreshed neighbours; :mod:`recsys_duck.marts` fills it in batches of users).

Only the sides the build computed (``recsys_params.build_item_neighbors``,
``build_user_neighbors``) are maintained; the others stay empty. The result equals a
full rebuild: half-star products add up exactly in any order, so the
pair sums, similarities and neighbour tables are bit-identical (tests/test_increment.py).
Views (statistics, similarities, k-NN predictors) read the new ratings at once. Stored
evaluation results are kept: they describe the models trained before the change.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field

import duckdb

from recsys_duck import marts
from recsys_duck.loader import load_new_ratings
from recsys_duck.pairs import SIDES
from recsys_duck.sql import apply_layers, execute, run_file, settings, step_file

logger = logging.getLogger(__name__)

#: Layers whose tables are rebuilt whole after the neighbour tables are refreshed.
REBUILT_LAYERS = ("25_baseline", "60_marts")


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
    """Add the ratings of ``path`` and bring every stored table up to date (runs in the
    caller's transaction, which makes it all or nothing)."""
    report = IncrementReport()

    def timed(step: str, fn: object) -> None:
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        report.seconds[step] = time.perf_counter() - start
        logger.info("add-ratings: %s in %.2f s", step, report.seconds[step])

    try:
        start = time.perf_counter()
        report.n_ratings = load_new_ratings(con, path)
        report.seconds["check"] = time.perf_counter() - start
        values = settings(con)
        sides = [side for side in SIDES if values[f"build_{side}_neighbors"]]
        for side in sides:
            timed(
                f"{side} pair deltas",
                lambda side=side: run_file(con, step_file(f"increment/{side}_pair_deltas")),
            )
        timed("insert ratings", lambda: run_file(con, step_file("increment/insert_ratings")))
        for side in sides:
            timed(
                f"{side} pair sums",
                lambda side=side: run_file(con, step_file(f"increment/apply_{side}_pair_deltas")),
            )
            timed(
                f"{side} neighbours",
                lambda side=side: run_file(
                    con, step_file(f"increment/refresh_{side}_neighbors"), values
                ),
            )
        if "item" in sides:
            (report.affected_movies,) = execute(
                con, "select count(*) from _recsys_affected_movies"
            ).fetchone() or (0,)
        if "user" in sides:
            (report.affected_users,) = execute(
                con, "select count(*) from _recsys_affected_users"
            ).fetchone() or (0,)
        for layer in REBUILT_LAYERS:
            timed(layer, lambda layer=layer: apply_layers(con, [layer]))
        timed("recommendations", lambda: marts.fill_recommendations(con))
    finally:
        run_file(con, step_file("increment/cleanup"))
    logger.info(
        "add-ratings: %d ratings, neighbours of %d movies and %d users refreshed in %.2f s",
        report.n_ratings,
        report.affected_movies,
        report.affected_users,
        report.total_seconds,
    )
    return report
