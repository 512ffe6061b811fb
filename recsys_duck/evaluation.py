"""Offline evaluation: split, retrain on the train part, predict and rank, score.

The split, the models and the metrics are all SQL. This module only runs the steps in
order (``sql/steps/prepare_evaluation.sql``, the rating layers re-applied in schema
``eval_train``, ``sql/steps/record_evaluation.sql``) and reads the metric views
``eval_rating_metrics`` and ``eval_ranking_metrics`` (``sql/70_evaluation``), whose SQL
comments give the formulas.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import duckdb
import pandas as pd

from recsys_duck.errors import RecsysError
from recsys_duck.sql import (
    CONTENT_OBJECTS,
    RATING_LAYERS,
    apply_layers,
    execute,
    run_file,
    step_file,
)

logger = logging.getLogger(__name__)

SPLITS = ("holdout", "temporal")


@dataclass
class EvaluationResult:
    """Metrics of one split: ``rating`` has one row per method (rmse, mae, coverage);
    ``ranking`` one row per (method, k) with precision_at_k, recall_at_k, ndcg_at_k."""

    split: str
    rating: pd.DataFrame
    ranking: pd.DataFrame

    def at(self, k: int = 10) -> pd.DataFrame:
        """Rating and ranking metrics side by side at cutoff ``k``, one row per method."""
        ranking = self.ranking[self.ranking["k"] == k].drop(columns=["split"])
        return self.rating.drop(columns=["split"]).merge(ranking, on="method", how="outer")


def run(con: duckdb.DuckDBPyConnection, split: str) -> None:
    """Evaluate every method on ``split`` and store the results (caller owns the transaction)."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; use one of {list(SPLITS)}")
    logger.info("evaluate: %s split, training the models on the train part", split)
    run_file(con, step_file("prepare_evaluation"), {"split": split})
    n_test, min_ratings = execute(
        con,
        "select count(*) filter (where is_test), "
        "ceil(1 / (select test_fraction from recsys_params)) from eval_split",
    ).fetchone() or (0, 0)
    if n_test == 0:
        raise RecsysError(
            f"the {split} split holds out no rating: a user needs at least {int(min_ratings)} "
            "ratings to have one held out; raise test_fraction (e.g. --test-fraction 0.5)"
        )
    execute(con, "set schema = 'eval_train'")
    try:
        apply_layers(con, RATING_LAYERS, skip=CONTENT_OBJECTS)
    finally:
        execute(con, "set schema = 'main'")
    logger.info("evaluate: scoring predictions and recommendations")
    run_file(con, step_file("record_evaluation"), {"split": split})


def cleanup(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the training copy; run after the evaluation's transaction has committed."""
    run_file(con, step_file("cleanup_evaluation"))


def results(con: duckdb.DuckDBPyConnection, split: str) -> EvaluationResult:
    """Read the stored metrics of ``split`` from the metric views."""
    rating = execute(
        con, "select * from eval_rating_metrics where split = ? order by method", [split]
    ).df()
    ranking = execute(
        con,
        "select * from eval_ranking_metrics where split = ? order by method, k",
        [split],
    ).df()
    return EvaluationResult(split=split, rating=rating, ranking=ranking)
