"""Evaluation metrics for Python users, computed by the project's own SQL.

Each function loads its arguments into a private in-memory DuckDB database that has
the metric views of ``sql/70_evaluation`` and reads the answer from them, so a number
from here and a number an analyst queries from ``eval_rating_metrics`` or
``eval_ranking_metrics`` come from one definition:

* ``rmse = sqrt(mean((predicted - actual)^2))``, ``mae = mean(|predicted - actual|)``
* ``precision_at_k = |top-k & relevant| / k`` (a list shorter than k is not rewarded)
* ``recall_at_k = |top-k & relevant| / |relevant|``
* ``ndcg_at_k = DCG@k / IDCG@k`` with ``DCG@k = sum over hits of 1 / log2(rank + 1)``
  and ``IDCG@k`` the DCG of min(|relevant|, k) hits at the top.

Edge cases: empty or mismatched rating inputs raise ``ValueError``; an empty relevant
set raises ``ValueError`` (the ranking metrics are undefined for it); an empty
recommendation list scores 0; duplicated recommendations raise ``ValueError``.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from recsys_duck.sql import apply_layers, execute

_SPLIT = "python"
_METHOD = "python"


def _metrics_db() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    apply_layers(con, ["00_tables", "70_evaluation"])
    return con


def _rating_metric(actual: Sequence[float], predicted: Sequence[float], column: str) -> float:
    a = np.asarray(actual, dtype="float64")
    p = np.asarray(predicted, dtype="float64")
    if a.shape != p.shape or a.ndim != 1:
        raise ValueError(
            f"actual and predicted must be 1-d and of equal length: {a.shape} vs {p.shape}"
        )
    if len(a) == 0:
        raise ValueError("no ratings given: rmse and mae are undefined for an empty input")
    if not (np.isfinite(a).all() and np.isfinite(p).all()):
        raise ValueError("actual and predicted must be finite numbers")
    rows = pd.DataFrame(
        {
            "split": _SPLIT,
            "method": _METHOD,
            "user_id": np.arange(len(a), dtype="int32"),
            "movie_id": np.zeros(len(a), dtype="int32"),
            "rating": a,
            "predicted_rating": p,
        }
    )
    with _metrics_db() as con:
        con.register("rows_in", rows)
        execute(con, "insert into eval_predictions select * from rows_in")
        row = execute(con, "select rmse, mae from eval_rating_metrics").fetchone()
    assert row is not None
    return float(row[0] if column == "rmse" else row[1])


def rmse(actual: Sequence[float], predicted: Sequence[float]) -> float:
    """Root mean squared error: sqrt(mean((predicted - actual)^2))."""
    return _rating_metric(actual, predicted, "rmse")


def mae(actual: Sequence[float], predicted: Sequence[float]) -> float:
    """Mean absolute error: mean(|predicted - actual|)."""
    return _rating_metric(actual, predicted, "mae")


def _ranking_metric(
    recommended: Sequence[Any], relevant: Collection[Any], k: int, column: str
) -> float:
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    if len(relevant) == 0:
        raise ValueError("no relevant items: precision, recall and NDCG are undefined")
    if len(set(recommended)) != len(recommended):
        raise ValueError("the recommended list holds an item twice")
    # Items are mapped to integer ids so that any hashable item type works.
    ids = {item: i for i, item in enumerate(dict.fromkeys([*recommended, *relevant]))}
    recs = pd.DataFrame(
        {
            "split": _SPLIT,
            "method": _METHOD,
            "user_id": 0,
            "rank": np.arange(1, len(recommended) + 1, dtype="int32"),
            "movie_id": np.array([ids[i] for i in recommended], dtype="int32"),
        }
    )
    truth = pd.DataFrame(
        {
            "split": _SPLIT,
            "user_id": 0,
            "movie_id": np.array([ids[i] for i in set(relevant)], dtype="int32"),
            "rating": 5.0,
            "is_relevant": True,
        }
    )
    with _metrics_db() as con:
        execute(con, "update recsys_params set n_recommendations = ?", [k])
        con.register("recs_in", recs)
        con.register("truth_in", truth)
        execute(con, "insert into eval_recommendations select * from recs_in")
        execute(con, "insert into eval_test_ratings select * from truth_in")
        if len(recs) == 0:
            # With no recommendation there is no method row to score: every metric is 0.
            return 0.0
        row = execute(
            con,
            "select precision_at_k, recall_at_k, ndcg_at_k from eval_user_ranking_metrics "
            "where k = ?",
            [k],
        ).fetchone()
    assert row is not None
    return float({"precision": row[0], "recall": row[1], "ndcg": row[2]}[column])


def precision_at_k(recommended: Sequence[Any], relevant: Collection[Any], k: int = 10) -> float:
    """|recommended[:k] & relevant| / k."""
    return _ranking_metric(recommended, relevant, k, "precision")


def recall_at_k(recommended: Sequence[Any], relevant: Collection[Any], k: int = 10) -> float:
    """|recommended[:k] & relevant| / |relevant|."""
    return _ranking_metric(recommended, relevant, k, "recall")


def ndcg_at_k(recommended: Sequence[Any], relevant: Collection[Any], k: int = 10) -> float:
    """DCG@k / IDCG@k with binary gains and a log2(rank + 1) discount."""
    return _ranking_metric(recommended, relevant, k, "ndcg")
