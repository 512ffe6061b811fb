"""Evaluation metrics for Python users, computed by the project's own SQL.

Each function loads its arguments into a private in-memory DuckDB database that has
the tables of ``sql/00_tables`` and the metric views of ``sql/70_evaluation`` (as one
split, one fold and one method) and reads the answer from those views, so a number
from here and a number an analyst queries from ``eval_rating_metrics``,
``eval_user_ranking_metrics`` or ``eval_ranking_metrics`` come from one definition.

Rating predictions (``eval_rating_metrics``):

* ``rmse = sqrt(mean((predicted - actual)^2))``, ``mae = mean(|predicted - actual|)``

One recommended list against one user's relevant items R (``eval_user_ranking_metrics``;
H_k = the ranks i <= k whose item is relevant):

* ``precision_at_k = |H_k| / k`` (a list shorter than k is not rewarded)
* ``recall_at_k = |H_k| / |R|``
* ``ndcg_at_k = DCG@k / IDCG@k`` with ``DCG@k = sum over i in H_k of 1 / log2(i + 1)``
  and ``IDCG@k`` the DCG of min(|R|, k) hits at the top
* ``map_at_k = sum over i in H_k of precision@i / min(|R|, k)`` (average precision;
  its mean over users is MAP)
* ``hit_rate_at_k = 1 if H_k is not empty else 0``
* ``mrr_at_k = 1 / min(H_k)``, the reciprocal rank of the first hit, 0 without one

Many users' lists (``eval_ranking_metrics``):

* ``catalog_coverage = |union of the users' top-k| / |catalog|``
* ``novelty = mean over the recommended (user, item) pairs with rank <= k of
  -log2(count(item) / n_users)``, an item without a count taken as count 1

Edge cases: empty or mismatched rating inputs raise ``ValueError``; an empty relevant
set raises ``ValueError`` (the ranking metrics are undefined for it); an empty
recommendation list scores 0; a list that holds an item twice, or ``k < 1``, raises
``ValueError``. Coverage of no recommendation is 0; novelty of no recommendation is
undefined and raises ``ValueError``.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from recsys_duck.errors import InvalidArgumentError
from recsys_duck.sql import apply_layers, execute, quote_identifier

_SPLIT = "python"
_FOLD = 1
_METHOD = "python"


_DATABASE: duckdb.DuckDBPyConnection | None = None
_DATABASE_LOCK = threading.Lock()


@contextmanager
def _metrics_db(k: int | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """The process's private database with the tables and the metric views, made once
    (applying the layers takes 0.1 s) and lent to one call at a time inside a
    transaction that is rolled back, so each call starts from empty tables; cutoffs
    reach ``k``."""
    global _DATABASE
    with _DATABASE_LOCK:
        if _DATABASE is None:
            _DATABASE = duckdb.connect(":memory:")
            apply_layers(_DATABASE, ["00_tables", "70_evaluation"])
        con = _DATABASE
        execute(con, "begin transaction")
        try:
            if k is not None:
                execute(con, "update recsys_params set n_recommendations = ?", [k])
            # the one method of this database ranks (an empty list then scores 0)
            execute(
                con, "insert into eval_ranked_methods values (?, ?, ?)", [_SPLIT, _FOLD, _METHOD]
            )
            yield con
        finally:
            execute(con, "rollback")


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: pd.DataFrame) -> None:
    """Insert a frame into one of the fixed eval_* tables, matching columns by name."""
    con.register("rows_in", rows)
    try:
        target = quote_identifier(table)
        execute(con, f"insert into {target} by name select * from rows_in")  # noqa: S608
    finally:
        con.unregister("rows_in")


def _check_k(k: int) -> None:
    if k < 1:
        raise InvalidArgumentError(f"k must be at least 1, got {k}")


def _rating_metric(actual: Sequence[float], predicted: Sequence[float], column: str) -> float:
    a = np.asarray(actual, dtype="float64")
    p = np.asarray(predicted, dtype="float64")
    if a.shape != p.shape or a.ndim != 1:
        raise InvalidArgumentError(
            f"actual and predicted must be 1-d and of equal length: {a.shape} vs {p.shape}"
        )
    if len(a) == 0:
        raise InvalidArgumentError(
            "no ratings given: rmse and mae are undefined for an empty input"
        )
    if not (np.isfinite(a).all() and np.isfinite(p).all()):
        raise InvalidArgumentError("actual and predicted must be finite numbers")
    rows = pd.DataFrame(
        {
            "split": _SPLIT,
            "fold": _FOLD,
            "method": _METHOD,
            "user_id": np.arange(len(a), dtype="int32"),
            "movie_id": np.zeros(len(a), dtype="int32"),
            "rating": a,
            "predicted_rating": p,
        }
    )
    with _metrics_db() as con:
        _insert(con, "eval_predictions", rows)
        row = execute(con, "select rmse, mae from eval_rating_metrics").fetchone()
    assert row is not None
    return float(row[0] if column == "rmse" else row[1])


def rmse(actual: Sequence[float], predicted: Sequence[float]) -> float:
    """Root mean squared error: sqrt(mean((predicted - actual)^2))."""
    return _rating_metric(actual, predicted, "rmse")


def mae(actual: Sequence[float], predicted: Sequence[float]) -> float:
    """Mean absolute error: mean(|predicted - actual|)."""
    return _rating_metric(actual, predicted, "mae")


def _recommendation_rows(
    recommendations: Mapping[Any, Sequence[Any]], item_ids: Mapping[Any, int]
) -> pd.DataFrame:
    """eval_recommendations rows: user i of the mapping becomes user_id i, rank from 1."""
    user_ids: list[int] = []
    ranks: list[int] = []
    movie_ids: list[int] = []
    for user_id, (user, items) in enumerate(recommendations.items()):
        if len(set(items)) != len(items):
            raise InvalidArgumentError(f"the recommended list of user {user!r} holds an item twice")
        user_ids += [user_id] * len(items)
        ranks += range(1, len(items) + 1)
        movie_ids += [item_ids[item] for item in items]
    return pd.DataFrame(
        {
            "split": _SPLIT,
            "fold": _FOLD,
            "method": _METHOD,
            "user_id": np.array(user_ids, dtype="int32"),
            "rank": np.array(ranks, dtype="int32"),
            "movie_id": np.array(movie_ids, dtype="int32"),
        }
    )


def _ids(*groups: Collection[Any]) -> dict[Any, int]:
    """Integer ids for the items of the groups, so that any hashable item type works."""
    found: dict[Any, None] = {}
    for group in groups:
        found.update(dict.fromkeys(group))
    return {item: i for i, item in enumerate(found)}


def _ranking_metric(
    recommended: Sequence[Any], relevant: Collection[Any], k: int, column: str
) -> float:
    _check_k(k)
    if len(relevant) == 0:
        raise InvalidArgumentError("no relevant items: the ranking metrics are undefined")
    if len(set(recommended)) != len(recommended):
        raise InvalidArgumentError("the recommended list holds an item twice")
    if len(recommended) == 0:
        # With no recommendation there is no method row to score: every metric is 0.
        return 0.0
    ids = _ids(recommended, relevant)
    truth = pd.DataFrame(
        {
            "split": _SPLIT,
            "fold": _FOLD,
            "user_id": 0,
            "movie_id": np.array([ids[i] for i in set(relevant)], dtype="int32"),
            "rating": 5.0,
            "is_relevant": True,
        }
    )
    with _metrics_db(k) as con:
        _insert(con, "eval_recommendations", _recommendation_rows({0: recommended}, ids))
        _insert(con, "eval_test_ratings", truth)
        row = execute(
            con,
            f"select {quote_identifier(column)} from eval_user_ranking_metrics where k = ?",  # noqa: S608
            [k],
        ).fetchone()
    assert row is not None
    return float(row[0])


def precision_at_k(recommended: Sequence[Any], relevant: Collection[Any], k: int = 10) -> float:
    """|recommended[:k] & relevant| / k."""
    return _ranking_metric(recommended, relevant, k, "precision_at_k")


def recall_at_k(recommended: Sequence[Any], relevant: Collection[Any], k: int = 10) -> float:
    """|recommended[:k] & relevant| / |relevant|."""
    return _ranking_metric(recommended, relevant, k, "recall_at_k")


def ndcg_at_k(recommended: Sequence[Any], relevant: Collection[Any], k: int = 10) -> float:
    """DCG@k / IDCG@k with binary gains and a log2(rank + 1) discount."""
    return _ranking_metric(recommended, relevant, k, "ndcg_at_k")


def map_at_k(recommended: Sequence[Any], relevant: Collection[Any], k: int = 10) -> float:
    """Average precision at k of one list (MAP@k is its mean over users):

    ``sum over the hit ranks i <= k of precision@i / min(|relevant|, k)``, where
    ``precision@i = |recommended[:i] & relevant| / i``. 0 without a hit in the top k; 1
    when the top min(|relevant|, k) are all relevant.
    """
    return _ranking_metric(recommended, relevant, k, "average_precision_at_k")


def hit_rate_at_k(recommended: Sequence[Any], relevant: Collection[Any], k: int = 10) -> float:
    """Hit at k of one list (the hit rate is its mean over users): 1.0 if any of
    ``recommended[:k]`` is relevant, else 0.0."""
    return _ranking_metric(recommended, relevant, k, "hit_at_k")


def mrr_at_k(recommended: Sequence[Any], relevant: Collection[Any], k: int = 10) -> float:
    """Reciprocal rank at k of one list (MRR@k is its mean over users): ``1 / rank`` of
    the first relevant item of ``recommended[:k]`` (ranks from 1), 0.0 if there is none."""
    return _ranking_metric(recommended, relevant, k, "reciprocal_rank_at_k")


#: The per-user ranking metrics of :func:`ranking_metrics_by_user`, as the SQL names them.
USER_RANKING_METRICS = (
    "precision_at_k",
    "recall_at_k",
    "ndcg_at_k",
    "average_precision_at_k",
    "hit_at_k",
    "reciprocal_rank_at_k",
)


def ranking_metrics_by_user(
    recommendations: Mapping[Any, Sequence[Any]],
    relevant: Mapping[Any, Collection[Any]],
    k: int = 10,
) -> pd.DataFrame:
    """Every per-list ranking metric of many users at once, in one query: one row per
    user of ``relevant`` with at least one relevant item (the metrics are undefined for
    the others), in the order of ``relevant``, with columns ``user``, ``n_relevant``,
    ``n_hits`` and :data:`USER_RANKING_METRICS` (the definitions above; a user without a
    list scores 0). Their means over the rows are precision@k, recall@k, NDCG@k, MAP@k,
    hit rate@k and MRR@k. A list holding an item twice, or ``k < 1``, raises
    ``ValueError``; so does a user with a list but no entry in ``relevant``."""
    _check_k(k)
    unknown = [user for user in recommendations if user not in relevant]
    if unknown:
        raise InvalidArgumentError(
            f"{len(unknown)} user(s) have a list but no relevant set, e.g. {unknown[0]!r}"
        )
    users = [user for user, items in relevant.items() if len(items) > 0]
    number = {user: i for i, user in enumerate(users)}
    ids = _ids(*(relevant[u] for u in users), *recommendations.values())
    # Keyed by user in the order of ``number``: _recommendation_rows numbers them so.
    lists = {u: recommendations.get(u, ()) for u in users}
    truth_users = [number[u] for u in users for _ in set(relevant[u])]
    truth = pd.DataFrame(
        {
            "split": _SPLIT,
            "fold": _FOLD,
            "user_id": np.array(truth_users, dtype="int32"),
            "movie_id": np.array([ids[i] for u in users for i in set(relevant[u])], dtype="int32"),
            "rating": 5.0,
            "is_relevant": True,
        }
    )
    columns = ", ".join(
        quote_identifier(c) for c in ("n_relevant", "n_hits", *USER_RANKING_METRICS)
    )
    with _metrics_db(k) as con:
        _insert(con, "eval_recommendations", _recommendation_rows(lists, ids))
        _insert(con, "eval_test_ratings", truth)
        found = execute(
            con,
            f"select user_id, {columns} from eval_user_ranking_metrics "  # noqa: S608
            "where k = ? order by user_id",
            [k],
        ).df()
    found.insert(0, "user", [users[i] for i in found.pop("user_id")])
    return found.reset_index(drop=True)


def _list_metric(
    con: duckdb.DuckDBPyConnection,
    recommendations: Mapping[Any, Sequence[Any]],
    ids: Mapping[Any, int],
    k: int,
    column: str,
) -> float | None:
    _insert(con, "eval_recommendations", _recommendation_rows(recommendations, ids))
    row = execute(
        con,
        f"select {quote_identifier(column)} from eval_ranking_metrics where k = ?",  # noqa: S608
        [k],
    ).fetchone()
    assert row is not None
    return None if row[0] is None else float(row[0])


def catalog_coverage(
    recommendations: Mapping[Any, Sequence[Any]], catalog: Collection[Any], k: int = 10
) -> float:
    """Catalogue coverage at k: the share of the catalogue recommended to anyone,

    ``|union over users u of recommendations[u][:k]| / |set(catalog)|``.

    ``recommendations`` maps each user to a ranked list. No recommendation at all
    gives 0.0. An empty catalogue, a recommended item outside the catalogue, a list
    holding an item twice, or ``k < 1`` raise ``ValueError``.
    """
    _check_k(k)
    items = set(catalog)
    if not items:
        raise InvalidArgumentError("the catalog is empty: coverage is undefined")
    outside = {item for items_of in recommendations.values() for item in items_of} - items
    if outside:
        raise InvalidArgumentError(
            f"{len(outside)} recommended item(s) are not in the catalog, e.g. "
            f"{next(iter(outside))!r}"
        )
    ids = _ids(items)
    if not any(recommendations.values()):
        # With no recommendation there is no method row to score: nothing is covered.
        return 0.0
    train_items = pd.DataFrame(
        {
            "split": _SPLIT,
            "fold": _FOLD,
            "movie_id": np.array(list(ids.values()), dtype="int32"),
            "n_ratings": 1,  # coverage reads only which items are in the catalogue
        }
    )
    with _metrics_db(k) as con:
        _insert(con, "eval_train_items", train_items)
        value = _list_metric(con, recommendations, ids, k, "catalog_coverage_at_k")
    assert value is not None
    return value


def novelty(
    recommendations: Mapping[Any, Sequence[Any]],
    item_counts: Mapping[Any, int],
    n_users: int,
    k: int = 10,
) -> float:
    """Mean self-information of the recommended items, in bits:

    ``mean over every (user u, item i) with i in recommendations[u][:k] of
    -log2(item_counts[i] / n_users)``,

    where ``item_counts[i]`` is how many of the ``n_users`` training users rated item
    ``i``. An item missing from ``item_counts`` (or counted 0) is taken as count 1, the
    rarest possible, worth log2(n_users) bits. Every pair counts, so a user with a longer
    list weighs more. ``n_users < 1``, a count outside 0..n_users, no recommended item
    at all (novelty is undefined), a list holding an item twice, or ``k < 1`` raise
    ``ValueError``.
    """
    _check_k(k)
    if n_users < 1:
        raise InvalidArgumentError(f"n_users must be at least 1, got {n_users}")
    bad = {item: n for item, n in item_counts.items() if not 0 <= n <= n_users}
    if bad:
        item, n = next(iter(bad.items()))
        raise InvalidArgumentError(
            f"item counts must be between 0 and n_users={n_users}: item {item!r} has {n}"
        )
    if not any(recommendations.values()):
        raise InvalidArgumentError("no recommended item: novelty is undefined")
    ids = _ids(item_counts, [i for items in recommendations.values() for i in items])
    train_items = pd.DataFrame(
        {
            "split": _SPLIT,
            "fold": _FOLD,
            "movie_id": np.array([ids[i] for i in item_counts], dtype="int32"),
            "n_ratings": np.array(list(item_counts.values()), dtype="int32"),
        }
    )
    folds = pd.DataFrame(
        {
            "split": [_SPLIT],
            "fold": [_FOLD],
            "n_train_users": [n_users],
            "n_train_ratings": [int(sum(item_counts.values()))],
            "n_test": [0],
        }
    )
    with _metrics_db(k) as con:
        _insert(con, "eval_train_items", train_items)
        _insert(con, "eval_folds", folds)
        value = _list_metric(con, recommendations, ids, k, "novelty_at_k")
    assert value is not None
    return value
