"""The metrics of sql/70_evaluation (the splits: tests/test_splits.py).

The Python metric wrappers (hand-worked values, edge cases, properties, parity with
scikit-learn and with numpy) run the SQL of sql/70_evaluation, so these tests check it
too; the metric views are also checked directly on several folds and methods."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import mean_absolute_error, mean_squared_error

from recsys_duck import (
    catalog_coverage,
    hit_rate_at_k,
    mae,
    map_at_k,
    mrr_at_k,
    ndcg_at_k,
    novelty,
    precision_at_k,
    ranking_metrics_by_user,
    recall_at_k,
    rmse,
)
from tests.conftest import insert_rows, metrics_db


def test_rating_metrics_hand_worked() -> None:
    assert rmse([1, 2, 3], [1, 2, 5]) == pytest.approx(math.sqrt(4 / 3))
    assert mae([1, 2, 3], [1, 2, 5]) == pytest.approx(2 / 3)
    assert rmse([4.5], [4.5]) == 0.0


def test_rating_metrics_reject_bad_input() -> None:
    with pytest.raises(ValueError, match="empty"):
        rmse([], [])
    with pytest.raises(ValueError, match="equal length"):
        mae([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="finite"):
        rmse([1.0], [float("nan")])


def test_ranking_metrics_hand_worked() -> None:
    recommended = ["a", "b", "c"]
    relevant = {"a", "c", "z"}
    assert precision_at_k(recommended, relevant, k=2) == pytest.approx(1 / 2)
    assert recall_at_k(recommended, relevant, k=2) == pytest.approx(1 / 3)
    # DCG@2 = 1 / log2(2); IDCG@2 = 1 / log2(2) + 1 / log2(3)
    assert ndcg_at_k(recommended, relevant, k=2) == pytest.approx(1 / (1 + 1 / math.log2(3)))
    # at k = 3 the hit at rank 3 adds 1 / log2(4) = 0.5
    assert ndcg_at_k(recommended, relevant, k=3) == pytest.approx(
        1.5 / (1 + 1 / math.log2(3) + 0.5)
    )


def test_fewer_recommendations_than_k() -> None:
    assert precision_at_k([7], {7}, k=5) == pytest.approx(1 / 5)  # a short list is not rewarded
    assert recall_at_k([7], {7}, k=5) == 1.0
    assert ndcg_at_k([7], {7}, k=5) == 1.0  # IDCG over min(|relevant|, k) = 1 position


def test_empty_recommendations_score_zero() -> None:
    assert precision_at_k([], {1}, k=3) == 0.0
    assert recall_at_k([], {1}, k=3) == 0.0
    assert ndcg_at_k([], {1}, k=3) == 0.0


def test_no_relevant_items_is_undefined() -> None:
    for metric in (precision_at_k, recall_at_k, ndcg_at_k):
        with pytest.raises(ValueError, match="no relevant items"):
            metric([1, 2], set(), k=2)


def test_duplicate_recommendation_and_bad_k() -> None:
    with pytest.raises(ValueError, match="twice"):
        precision_at_k([1, 1], {1}, k=2)
    with pytest.raises(ValueError, match="k must be"):
        recall_at_k([1], {1}, k=0)


ratings = st.lists(st.sampled_from([x / 2 for x in range(1, 11)]), min_size=1, max_size=30)


@settings(max_examples=40, deadline=None)
@given(ratings, st.integers(min_value=0, max_value=2**31 - 1))
def test_rating_metrics_equal_sklearn(actual: list[float], seed: int) -> None:
    predicted = np.random.default_rng(seed).uniform(0.5, 5.0, size=len(actual))
    assert rmse(actual, predicted) == pytest.approx(
        math.sqrt(mean_squared_error(actual, predicted)), abs=1e-9
    )
    assert mae(actual, predicted) == pytest.approx(mean_absolute_error(actual, predicted), abs=1e-9)


items = st.integers(min_value=0, max_value=25)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(items, unique=True, max_size=15),
    st.sets(items, min_size=1, max_size=10),
    st.integers(min_value=1, max_value=12),
)
def test_ranking_metric_properties(recommended: list[int], relevant: set[int], k: int) -> None:
    p = precision_at_k(recommended, relevant, k)
    r = recall_at_k(recommended, relevant, k)
    n = ndcg_at_k(recommended, relevant, k)
    hits = len(set(recommended[:k]) & relevant)
    assert p == pytest.approx(hits / k)
    assert r == pytest.approx(hits / len(relevant))
    for value in (p, r, n):
        assert 0.0 <= value <= 1.0 + 1e-12
    assert (n == 0.0) == (hits == 0)


@settings(max_examples=25, deadline=None)
@given(st.sets(items, min_size=1, max_size=10), st.integers(min_value=1, max_value=12))
def test_perfect_list_scores_one(relevant: set[int], k: int) -> None:
    perfect = sorted(relevant)
    assert ndcg_at_k(perfect, relevant, k) == pytest.approx(1.0)
    assert recall_at_k(perfect, relevant, k) == pytest.approx(min(len(relevant), k) / len(relevant))
    if len(relevant) >= k:
        assert precision_at_k(perfect, relevant, k) == pytest.approx(1.0)


# --- average precision, hit rate, reciprocal rank -------------------------------------


def test_map_hit_mrr_hand_worked() -> None:
    recommended = ["a", "b", "c", "d"]
    relevant = {"b", "d", "z"}  # hits at ranks 2 and 4; "z" is never recommended
    # AP@4 = (precision@2 + precision@4) / min(3, 4) = (1/2 + 2/4) / 3 = 1/3
    assert map_at_k(recommended, relevant, k=4) == pytest.approx(1 / 3)
    # AP@2 = precision@2 / min(3, 2) = (1/2) / 2 = 1/4
    assert map_at_k(recommended, relevant, k=2) == pytest.approx(1 / 4)
    # AP@1: no hit in the top 1 -> 0
    assert map_at_k(recommended, relevant, k=1) == 0.0
    # hit@1 = 0 (rank 1 is "a"), hit@2 = 1
    assert hit_rate_at_k(recommended, relevant, k=1) == 0.0
    assert hit_rate_at_k(recommended, relevant, k=2) == 1.0
    # RR: the first hit is at rank 2 -> 1/2 for every k >= 2, 0 at k = 1
    assert mrr_at_k(recommended, relevant, k=1) == 0.0
    assert mrr_at_k(recommended, relevant, k=2) == pytest.approx(1 / 2)
    assert mrr_at_k(recommended, relevant, k=4) == pytest.approx(1 / 2)


def test_map_divides_by_min_of_relevant_and_k() -> None:
    # one relevant item at rank 1: AP@3 = precision@1 / min(1, 3) = 1 (not 1/3)
    assert map_at_k([5, 6, 7], {5}, k=3) == 1.0
    # three relevant, a perfect list of 2 at k = 2: (1/1 + 2/2) / min(3, 2) = 1
    assert map_at_k([5, 6], {5, 6, 7}, k=2) == 1.0
    # the same list at k = 5 (shorter than k): (1/1 + 2/2) / min(3, 5) = 2/3
    assert map_at_k([5, 6], {5, 6, 7}, k=5) == pytest.approx(2 / 3)


def test_new_ranking_metrics_edge_cases() -> None:
    for metric in (map_at_k, hit_rate_at_k, mrr_at_k):
        assert metric([], {1}, k=3) == 0.0  # an empty list scores 0
        with pytest.raises(ValueError, match="no relevant items"):
            metric([1, 2], set(), k=2)
        with pytest.raises(ValueError, match="twice"):
            metric([1, 1], {1}, k=2)
        with pytest.raises(ValueError, match="k must be"):
            metric([1], {1}, k=0)


# --- catalogue coverage and novelty ----------------------------------------------------


def test_catalog_coverage_hand_worked() -> None:
    lists = {"u": ["a", "b", "c"], "v": ["b", "d"], "w": []}
    catalog = ["a", "b", "c", "d", "e", "f", "g", "h"]  # 8 items
    # top-1: {a, b} -> 2/8; top-2: {a, b, d} -> 3/8; top-3: {a, b, c, d} -> 4/8
    assert catalog_coverage(lists, catalog, k=1) == pytest.approx(2 / 8)
    assert catalog_coverage(lists, catalog, k=2) == pytest.approx(3 / 8)
    assert catalog_coverage(lists, catalog, k=3) == pytest.approx(4 / 8)
    assert catalog_coverage(lists, catalog, k=10) == pytest.approx(4 / 8)


def test_catalog_coverage_edge_cases() -> None:
    assert catalog_coverage({"u": []}, [1, 2], k=3) == 0.0
    assert catalog_coverage({}, [1, 2], k=3) == 0.0
    assert catalog_coverage({"u": [1, 2]}, [1, 1, 2], k=3) == 1.0  # the catalogue is a set
    with pytest.raises(ValueError, match="catalog is empty"):
        catalog_coverage({"u": [1]}, [], k=1)
    with pytest.raises(ValueError, match="not in the catalog"):
        catalog_coverage({"u": [1, 9]}, [1, 2], k=1)
    with pytest.raises(ValueError, match="twice"):
        catalog_coverage({"u": [1, 1]}, [1, 2], k=1)
    with pytest.raises(ValueError, match="k must be"):
        catalog_coverage({"u": [1]}, [1], k=0)


def test_novelty_hand_worked() -> None:
    lists = {1: ["a", "b"], 2: ["b", "c"]}
    counts = {"a": 4, "b": 2}  # "c" has no count: taken as 1
    # n_users = 8: a -> -log2(4/8) = 1, b -> -log2(2/8) = 2, c -> -log2(1/8) = 3
    # top-2 pairs: (1,a)=1, (1,b)=2, (2,b)=2, (2,c)=3 -> mean 8/4 = 2
    assert novelty(lists, counts, n_users=8, k=2) == pytest.approx(2.0)
    # top-1 pairs: (1,a)=1, (2,b)=2 -> 3/2
    assert novelty(lists, counts, n_users=8, k=1) == pytest.approx(1.5)
    # a count of 0 is also taken as 1: -log2(1/8) = 3
    assert novelty({1: ["x"]}, {"x": 0}, n_users=8, k=1) == pytest.approx(3.0)
    # an item every user rated carries no information
    assert novelty({1: ["a"]}, {"a": 8}, n_users=8, k=1) == 0.0


def test_novelty_weighs_every_pair() -> None:
    # user 1 has 3 items of 2 bits (count 2 of 8), user 2 one item of 3 bits:
    # mean over pairs = (2 + 2 + 2 + 3) / 4 = 9/4 (not the mean of user means, 2.5)
    counts = {"p": 2, "q": 2, "r": 2, "s": 1}
    lists = {1: ["p", "q", "r"], 2: ["s"]}
    assert novelty(lists, counts, n_users=8, k=3) == pytest.approx(9 / 4)


def test_novelty_edge_cases() -> None:
    with pytest.raises(ValueError, match="undefined"):
        novelty({1: []}, {"a": 1}, n_users=3, k=2)
    with pytest.raises(ValueError, match="n_users"):
        novelty({1: ["a"]}, {"a": 1}, n_users=0, k=2)
    with pytest.raises(ValueError, match="between 0 and n_users"):
        novelty({1: ["a"]}, {"a": 4}, n_users=3, k=2)
    with pytest.raises(ValueError, match="between 0 and n_users"):
        novelty({1: ["a"]}, {"a": -1}, n_users=3, k=2)
    with pytest.raises(ValueError, match="twice"):
        novelty({1: ["a", "a"]}, {"a": 1}, n_users=3, k=2)


# --- properties against an independent numpy implementation ----------------------------


def reference_user_metrics(recommended: list[int], relevant: set[int], k: int) -> dict[str, float]:
    """The per-user ranking metrics of one list, written independently with numpy."""
    top = recommended[:k]
    is_hit = np.array([item in relevant for item in top], dtype="float64")
    ranks = np.arange(1, len(top) + 1, dtype="float64")
    n_hits = float(is_hit.sum())
    cutoff = min(len(relevant), k)
    ideal = float((1 / np.log2(np.arange(1, cutoff + 1) + 1)).sum())
    first_hits = ranks[is_hit == 1]
    return {
        "precision_at_k": n_hits / k,
        "recall_at_k": n_hits / len(relevant),
        "ndcg_at_k": float((is_hit / np.log2(ranks + 1)).sum()) / ideal,
        "average_precision_at_k": float((np.cumsum(is_hit) / ranks * is_hit).sum()) / cutoff,
        "hit_at_k": float(n_hits > 0),
        "reciprocal_rank_at_k": float(1 / first_hits[0]) if len(first_hits) else 0.0,
    }


def reference_coverage(lists: dict[int, list[int]], catalog: set[int], k: int) -> float:
    covered = np.unique(np.concatenate([np.array(v[:k], dtype="int64") for v in lists.values()]))
    return len(covered) / len(catalog)


def reference_novelty(lists: dict[int, list[int]], counts: dict[int, int], n: int, k: int) -> float:
    pairs = np.array([max(counts.get(i, 0), 1) for v in lists.values() for i in v[:k]], float)
    return float(np.mean(-np.log2(pairs / n)))


@settings(max_examples=30, deadline=None)
@given(
    st.lists(items, unique=True, max_size=15),
    st.sets(items, min_size=1, max_size=10),
    st.integers(min_value=1, max_value=12),
)
def test_new_ranking_metrics_equal_numpy(
    recommended: list[int], relevant: set[int], k: int
) -> None:
    expected = reference_user_metrics(recommended, relevant, k)
    assert map_at_k(recommended, relevant, k) == pytest.approx(
        expected["average_precision_at_k"], abs=1e-9
    )
    assert hit_rate_at_k(recommended, relevant, k) == expected["hit_at_k"]
    assert mrr_at_k(recommended, relevant, k) == pytest.approx(
        expected["reciprocal_rank_at_k"], abs=1e-9
    )
    assert ndcg_at_k(recommended, relevant, k) == pytest.approx(expected["ndcg_at_k"], abs=1e-9)
    for value in expected.values():
        assert 0.0 <= value <= 1.0 + 1e-12


@settings(max_examples=20, deadline=None)
@given(st.sets(items, min_size=1, max_size=10), st.integers(min_value=1, max_value=12))
def test_perfect_list_scores_one_on_map_hit_mrr(relevant: set[int], k: int) -> None:
    perfect = sorted(relevant)
    assert map_at_k(perfect, relevant, k) == pytest.approx(1.0)
    assert hit_rate_at_k(perfect, relevant, k) == 1.0
    assert mrr_at_k(perfect, relevant, k) == 1.0


user_lists = st.dictionaries(
    st.integers(min_value=0, max_value=6),
    st.lists(items, unique=True, max_size=8),
    max_size=6,
)


@settings(max_examples=30, deadline=None)
@given(
    user_lists,
    st.sets(items, max_size=10),
    st.integers(min_value=1, max_value=10),
)
def test_catalog_coverage_equals_numpy(
    lists: dict[int, list[int]], extra: set[int], k: int
) -> None:
    catalog = extra | {i for v in lists.values() for i in v} | {99}
    expected = reference_coverage(lists, catalog, k) if any(lists.values()) else 0.0
    value = catalog_coverage(lists, catalog, k)
    assert value == pytest.approx(expected, abs=1e-12)
    assert 0.0 <= value <= 1.0
    # coverage never falls as k grows
    assert catalog_coverage(lists, catalog, k + 1) >= value


@settings(max_examples=30, deadline=None)
@given(
    user_lists.filter(lambda lists: any(lists.values())),
    st.dictionaries(items, st.integers(min_value=0, max_value=20), max_size=26),
    st.integers(min_value=20, max_value=100),
    st.integers(min_value=1, max_value=10),
)
def test_novelty_equals_numpy(
    lists: dict[int, list[int]], counts: dict[int, int], n_users: int, k: int
) -> None:
    value = novelty(lists, counts, n_users, k)
    assert value == pytest.approx(reference_novelty(lists, counts, n_users, k), abs=1e-9)
    assert 0.0 <= value <= math.log2(n_users) + 1e-12


# --- the metric views over several folds and methods -----------------------------------


def assert_rows_close(got: list[tuple[Any, ...]], want: list[tuple[Any, ...]]) -> None:
    """Equal row by row; numbers to 1e-9, NULL (None or NaN) only where NULL is wanted."""
    assert len(got) == len(want), (got, want)
    for got_row, want_row in zip(got, want, strict=True):
        assert len(got_row) == len(want_row), (got_row, want_row)
        for g, w in zip(got_row, want_row, strict=True):
            if w is None or (isinstance(w, float) and math.isnan(w)):
                assert g is None, (got_row, want_row)
            elif isinstance(w, str):
                assert g == w, (got_row, want_row)
            else:
                assert g == pytest.approx(w, abs=1e-9), (got_row, want_row)


def test_ranking_views_hand_worked() -> None:
    """Two folds, one method. Fold 1: user 1 (relevant {10, 12}) gets [10, 11, 12], user 2
    (nothing relevant) gets [13], user 3 (relevant {14}) gets nothing; 4 train users, the
    catalogue is movies 10..14 with 4, 2, 1, 1, 1 ratings. Fold 2: user 1 (relevant {11})
    gets [11]; 2 train users; catalogue 10, 11 with 1 and 2 ratings."""
    con = metrics_db()
    con.execute("update recsys_params set n_recommendations = 3")
    test = [(1, 1, 10, True), (1, 1, 12, True), (1, 2, 13, False), (1, 3, 14, True)]
    test += [(2, 1, 11, True)]
    insert_rows(
        con,
        "eval_test_ratings",
        [
            {"split": "s", "fold": f, "user_id": u, "movie_id": m, "rating": 4.0, "is_relevant": r}
            for f, u, m, r in test
        ],
    )
    recs = [(1, 1, [10, 11, 12]), (1, 2, [13]), (2, 1, [11])]
    insert_rows(
        con,
        "eval_recommendations",
        [
            {"split": "s", "fold": f, "method": "m", "user_id": u, "rank": i + 1, "movie_id": m}
            for f, u, movies in recs
            for i, m in enumerate(movies)
        ],
    )
    counts = {1: {10: 4, 11: 2, 12: 1, 13: 1, 14: 1}, 2: {10: 1, 11: 2}}
    insert_rows(
        con,
        "eval_train_items",
        [
            {"split": "s", "fold": f, "movie_id": m, "n_ratings": n}
            for f, by_movie in counts.items()
            for m, n in by_movie.items()
        ],
    )
    insert_rows(
        con,
        "eval_folds",
        [
            {"split": "s", "fold": 1, "n_train_users": 4, "n_train_ratings": 9, "n_test": 4},
            {"split": "s", "fold": 2, "n_train_users": 2, "n_train_ratings": 3, "n_test": 1},
        ],
    )
    users = con.execute(
        "select user_id, k, average_precision_at_k, hit_at_k, reciprocal_rank_at_k "
        "from eval_user_ranking_metrics where fold = 1 order by user_id, k"
    ).fetchall()
    # user 1: hits at ranks 1 and 3; AP@1 = 1/1, AP@2 = 1/2, AP@3 = (1 + 2/3) / 2 = 5/6
    # user 3 has no recommendation: 0 everywhere; user 2 has nothing relevant: no row
    assert_rows_close(
        users,
        [(1, 1, 1.0, 1.0, 1.0), (1, 2, 0.5, 1.0, 1.0), (1, 3, 5 / 6, 1.0, 1.0)]
        + [(3, k, 0.0, 0.0, 0.0) for k in (1, 2, 3)],
    )
    ranking = con.execute(
        "select fold, k, n_users, map_at_k, hit_rate_at_k, mrr_at_k, catalog_coverage_at_k, "
        "novelty_at_k from eval_ranking_metrics order by fold, k"
    ).fetchall()
    # fold 1 means over users 1 and 3. Coverage: top-1 {10, 13}, top-2 adds 11, top-3 adds
    # 12, over 5 movies. Novelty with 4 users: 10 -> -log2(4/4) = 0, 11 -> 1, 12 -> 2,
    # 13 -> 2. top-1 pairs (1,10), (2,13): (0 + 2) / 2 = 1; top-2 adds (1,11): 3/3 = 1;
    # top-3 adds (1,12): 5/4. Fold 2: one user, hit at rank 1; 1 of 2 movies covered;
    # novelty -log2(2/2) = 0.
    assert_rows_close(
        ranking,
        [
            (1, 1, 2, 0.5, 0.5, 0.5, 2 / 5, 1.0),
            (1, 2, 2, 0.25, 0.5, 0.5, 3 / 5, 1.0),
            (1, 3, 2, 5 / 12, 0.5, 0.5, 4 / 5, 5 / 4),
            (2, 1, 1, 1.0, 1.0, 1.0, 1 / 2, 0.0),
            (2, 2, 1, 1.0, 1.0, 1.0, 1 / 2, 0.0),
            (2, 3, 1, 1.0, 1.0, 1.0, 1 / 2, 0.0),
        ],
    )
    summary = con.execute(
        "select n_folds, mean, std from eval_summary where metric = 'map_at_k' and k = 3"
    ).fetchall()
    # mean of 5/12 and 1 = 17/24; sample std of two values = |a - b| / sqrt(2)
    assert_rows_close(summary, [(2, 17 / 24, (7 / 12) / math.sqrt(2))])
    con.close()


def test_summary_of_one_fold_has_no_std() -> None:
    con = metrics_db()
    insert_rows(
        con,
        "eval_predictions",
        [
            {
                "split": "holdout",
                "fold": 1,
                "method": "m",
                "user_id": 1,
                "movie_id": m,
                "rating": 4.0,
                "predicted_rating": p,
            }
            for m, p in ((1, 3.0), (2, None))
        ],
    )
    rows = con.execute(
        "select metric, k, n_folds, mean, std from eval_summary "
        "where metric in ('rmse', 'mae', 'coverage') order by metric"
    ).fetchall()
    # one of the two pairs predicted, off by 1: coverage 1/2, mae = rmse = 1; one fold,
    # so the mean is the fold's value and the sample std is undefined (NULL)
    expected = [("coverage", None, 1, 0.5, None), ("mae", None, 1, 1.0, None)]
    assert rows == [*expected, ("rmse", None, 1, 1.0, None)]
    con.close()


@settings(max_examples=25, deadline=None)
@given(
    st.integers(min_value=0, max_value=2**32 - 1),
    st.integers(min_value=1, max_value=3),
    st.integers(min_value=1, max_value=6),
)
def test_metric_views_equal_numpy(seed: int, n_folds: int, n_recommendations: int) -> None:
    """Random test sets, lists, catalogues and popularity on n_folds folds and two methods:
    every row of eval_user_ranking_metrics, eval_ranking_metrics and eval_summary equals
    the numpy reference."""
    rng = np.random.default_rng(seed)
    n_users, n_items, methods = 5, 12, ("m1", "m2")
    test_rows, rec_rows, item_rows, fold_rows = [], [], [], []
    relevant: dict[tuple[int, int], set[int]] = {}
    lists: dict[tuple[int, str], dict[int, list[int]]] = {}
    counts: dict[int, dict[int, int]] = {}
    train_users: dict[int, int] = {}
    for fold in range(1, n_folds + 1):
        for user in range(n_users):
            held_out = rng.choice(n_items, size=rng.integers(0, 5), replace=False)
            for movie in held_out:
                is_relevant = bool(rng.random() < 0.5)
                test_rows.append(
                    {
                        "split": "s",
                        "fold": fold,
                        "user_id": user,
                        "movie_id": int(movie),
                        "rating": 4.0 if is_relevant else 2.0,
                        "is_relevant": is_relevant,
                    }
                )
                if is_relevant:
                    relevant.setdefault((fold, user), set()).add(int(movie))
        for method in methods:
            lists[(fold, method)] = {}
            for user in range(n_users):
                if rng.random() < 0.2:
                    continue  # this user gets no recommendation
                ranked = [int(m) for m in rng.permutation(n_items)[: rng.integers(0, 7)]]
                lists[(fold, method)][user] = ranked
                rec_rows += [
                    {
                        "split": "s",
                        "fold": fold,
                        "method": method,
                        "user_id": user,
                        "rank": i + 1,
                        "movie_id": m,
                    }
                    for i, m in enumerate(ranked)
                ]
        train_users[fold] = int(rng.integers(6, 12))
        catalogue = rng.choice(n_items, size=rng.integers(0, n_items + 1), replace=False)
        counts[fold] = {int(m): int(rng.integers(0, train_users[fold] + 1)) for m in catalogue}
        item_rows += [
            {"split": "s", "fold": fold, "movie_id": m, "n_ratings": n}
            for m, n in counts[fold].items()
        ]
        fold_rows.append(
            {
                "split": "s",
                "fold": fold,
                "n_train_users": train_users[fold],
                "n_train_ratings": 0,
                "n_test": 0,
            }
        )
    con = metrics_db()
    con.execute("update recsys_params set n_recommendations = ?", [n_recommendations])
    for table, rows in (
        ("eval_test_ratings", test_rows),
        ("eval_recommendations", rec_rows),
        ("eval_train_items", item_rows),
        ("eval_folds", fold_rows),
    ):
        insert_rows(con, table, rows)

    evaluated = [(f, m) for (f, m), by_user in lists.items() if any(by_user.values())]
    longest = max((len(v) for by_user in lists.values() for v in by_user.values()), default=0)
    cutoffs = range(1, max(longest, n_recommendations) + 1)
    user_metrics = list(reference_user_metrics([1], {1}, 1))
    expected_users, expected_ranking = [], []
    for fold, method in evaluated:
        by_user = lists[(fold, method)]
        for k in cutoffs:
            rows = []
            for user in range(n_users):
                if (fold, user) in relevant:
                    values = reference_user_metrics(
                        by_user.get(user, []), relevant[(fold, user)], k
                    )
                    rows.append(values)
                    expected_users.append((fold, method, user, k, *values.values()))
            means = [float(np.mean([r[c] for r in rows])) if rows else None for c in user_metrics]
            pairs = {u: v for u, v in by_user.items() if v}
            coverage = reference_coverage(pairs, set(counts[fold]), k) if counts[fold] else None
            novel = reference_novelty(pairs, counts[fold], train_users[fold], k)
            expected_ranking.append((fold, method, k, len(rows), *means, coverage, novel))

    got_users = con.execute(
        "select fold, method, user_id, k, " + ", ".join(user_metrics) + " "
        "from eval_user_ranking_metrics order by fold, method, k, user_id"
    ).fetchall()
    expected_users.sort(key=lambda r: (r[0], r[1], r[3], r[2]))
    assert_rows_close(got_users, expected_users)

    got_ranking = con.execute(
        "select fold, method, k, n_users, precision_at_k, recall_at_k, ndcg_at_k, map_at_k, "
        "hit_rate_at_k, mrr_at_k, catalog_coverage_at_k, novelty_at_k "
        "from eval_ranking_metrics order by fold, method, k"
    ).fetchall()
    assert_rows_close(got_ranking, sorted(expected_ranking, key=lambda r: r[:3]))

    # eval_summary: mean and sample std over the folds of each (method, metric, k)
    frame = pd.DataFrame(
        expected_ranking,
        columns=[
            "fold",
            "method",
            "k",
            "n_users",
            "precision_at_k",
            "recall_at_k",
            "ndcg_at_k",
            "map_at_k",
            "hit_rate_at_k",
            "mrr_at_k",
            "catalog_coverage_at_k",
            "novelty_at_k",
        ],
    )
    long = frame.melt(id_vars=["fold", "method", "k"], var_name="metric").query(
        "metric != 'n_users'"
    )
    long["value"] = pd.to_numeric(long["value"])
    want_summary = sorted(
        (method, metric, k, int(g.notna().sum()), g.mean(), g.std(ddof=1))
        for (method, metric, k), g in long.groupby(["method", "metric", "k"])["value"]
    )
    got_summary = con.execute(
        "select method, metric, k, n_folds, mean, std from eval_summary order by all"
    ).fetchall()
    assert_rows_close(got_summary, want_summary)
    con.close()


def test_bulk_ranking_metrics_equal_the_per_list_functions() -> None:
    rng = np.random.default_rng(3)
    recommended = {
        f"u{u}": list(rng.choice(40, size=int(rng.integers(0, 12)), replace=False))
        for u in range(25)
    }
    relevant = {
        user: set(rng.choice(40, size=int(rng.integers(0, 6)), replace=False))
        for user in recommended
    }
    relevant["only relevant"] = {1, 2}  # no list: scores 0
    k = 5
    found = ranking_metrics_by_user(recommended, relevant, k=k).set_index("user")
    scored = [user for user, items in relevant.items() if items]
    assert list(found.index) == scored  # users with no relevant item are left out
    per_list = {
        "precision_at_k": precision_at_k,
        "recall_at_k": recall_at_k,
        "ndcg_at_k": ndcg_at_k,
        "average_precision_at_k": map_at_k,
        "hit_at_k": hit_rate_at_k,
        "reciprocal_rank_at_k": mrr_at_k,
    }
    for user in scored:
        for column, function in per_list.items():
            expected = function(recommended.get(user, []), relevant[user], k)
            assert found.loc[user, column] == pytest.approx(expected, abs=1e-12), (user, column)
        assert found.loc[user, "n_relevant"] == len(relevant[user])


def test_bulk_ranking_metrics_refuse_what_the_per_list_ones_refuse() -> None:
    with pytest.raises(ValueError, match="holds an item twice"):
        ranking_metrics_by_user({1: [3, 3]}, {1: {3}})
    with pytest.raises(ValueError, match="no relevant set"):
        ranking_metrics_by_user({1: [3], 2: [4]}, {1: {3}})
    with pytest.raises(ValueError, match="k must be at least 1"):
        ranking_metrics_by_user({1: [3]}, {1: {3}}, k=0)
