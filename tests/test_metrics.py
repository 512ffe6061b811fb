"""The Python metric wrappers: hand-worked values, edge cases, properties, and parity
with scikit-learn. They run the SQL of sql/70_evaluation, so these tests check it too."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import mean_absolute_error, mean_squared_error

from recsys_duck import mae, ndcg_at_k, precision_at_k, recall_at_k, rmse


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
