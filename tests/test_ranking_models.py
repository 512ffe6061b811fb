"""The ranking methods of ranking_models (item_knn, rp3beta, item_ridge): their weights
worked by hand on the tiny data, and equal to independent numpy/scipy computations on
ml-latest-small (tests/reference.py).

Tiny data as 0/1 (tests/data/tiny): user 1 rated movies {1, 2}, user 2 {1, 3}, user 3
{2, 3, 4}. Raters n_1 = n_2 = n_3 = 2, n_4 = 1; movies rated n_u1 = n_u2 = 2, n_u3 = 3.
Common raters G_12 = G_13 = G_23 = G_24 = G_34 = 1, G_14 = 0. 0/1 cosines: 1/2 for
(1, 2), (1, 3), (2, 3); 1/sqrt(2) for (2, 4), (3, 4).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from recsys_duck import Recommender, RecsysError
from recsys_duck.errors import InvalidArgumentError
from tests import reference

from .conftest import TINY, TINY_PARAMS


def _use_models(rec: Recommender, *rows: str) -> None:
    """Replace the ranking models by ``rows`` (VALUES of model, algorithm, neighbors,
    shrinkage, normalize, alpha, beta, l2, steps) and build again, as the README says
    (a build keeps an edited ranking_models table)."""
    rec.sql("delete from ranking_models")
    for row in rows:
        # The rows are this module's constants.
        columns = "model, algorithm, neighbors, shrinkage, normalize, alpha, beta, l2, steps"
        rec.sql(f"insert into ranking_models ({columns}) values {row}")  # noqa: S608
    rec.build(TINY, TINY_PARAMS)


def _weights(rec: Recommender, model: str) -> dict[tuple[int, int], float]:
    rows = rec.sql(
        "select movie_id, neighbor_id, weight from item_weights where model = ? order by all",
        [model],
    )
    return {(int(i), int(j)): float(w) for i, j, w in rows.itertuples(index=False)}


def test_item_knn_shrinks_keeps_the_top_k_and_normalises_rows(tiny: Recommender) -> None:
    _use_models(tiny, "('knn', 'item_knn', 2, 1.0, true, 1, 0, 0, 0)")
    # Shrunk 0/1 cosines: G_ij / (sqrt(n_i n_j) + 1) = 1/3 for (1,2), (1,3), (2,3) and
    # 1/(sqrt(2) + 1) for (2,4), (3,4). Movie 2's top 2: movie 4, then movie 1 (ties
    # with 3 at 1/3, the smaller id first); each row then sums to 1.
    s4 = 1 / (math.sqrt(2) + 1)
    expected = {
        (1, 2): 0.5,
        (1, 3): 0.5,
        (2, 4): s4 / (s4 + 1 / 3),
        (2, 1): (1 / 3) / (s4 + 1 / 3),
        (3, 4): s4 / (s4 + 1 / 3),
        (3, 1): (1 / 3) / (s4 + 1 / 3),
        (4, 2): 0.5,
        (4, 3): 0.5,
    }
    assert _weights(tiny, "knn") == pytest.approx(expected, abs=1e-12)
    # User 1 rated movies 1 and 2: movie 3 scores w(1,3), movie 4 scores w(2,4).
    recs = tiny.sql(
        "select movie_id, score from recommendations where method = 'knn' "
        "and user_id = 1 order by rank"
    )
    assert recs["movie_id"].tolist() == [4, 3]
    assert recs["score"].tolist() == pytest.approx([s4 / (s4 + 1 / 3), 0.5], abs=1e-12)


def test_rp3beta_walks_three_steps_and_penalises_popular_targets(tiny: Recommender) -> None:
    _use_models(tiny, "('walk', 'rp3beta', 2, 0, false, 1.0, 1.0, 0, 0)")
    # alpha = 1: W(i, j) = 1/n_i * sum_{u rated i and j} 1/n_u, then / n_j (beta = 1).
    # Movie 2: to movie 1 via user 1 (1/2 * 1/2) / 2 = 1/8; to 3 via user 3
    # (1/2 * 1/3) / 2 = 1/12; to 4 via user 3 (1/2 * 1/3) / 1 = 1/6. Top 2: 4, 1.
    # Movie 4: to 2 and 3 via user 3 (1 * 1/3) / 2 = 1/6 each.
    weights = _weights(tiny, "walk")
    assert {k: v for k, v in weights.items() if k[0] in (2, 4)} == pytest.approx(
        {(2, 4): 1 / 6, (2, 1): 1 / 8, (4, 2): 1 / 6, (4, 3): 1 / 6}, abs=1e-12
    )
    assert weights[(1, 2)] == pytest.approx(1 / 8, abs=1e-12)  # (1/2 * 1/2) / 2


def test_item_ridge_solves_each_movies_regression(tiny: Recommender) -> None:
    # l2 = 1, two neighbours. Movie 2: N = {4, 1} (cosines 1/sqrt(2), then 1/2 with the
    # smaller id), A = [[n_4 + 1, G_41], [G_14, n_1 + 1]] = [[2, 0], [0, 3]],
    # b = [G_42, G_12] = [1, 1]: w = (1/2, 1/3). Movie 4: N = {2, 3},
    # A = [[3, 1], [1, 3]], b = [1, 1]: w = (1/4, 1/4). Two CG steps solve a 2 x 2 system.
    _use_models(
        tiny,
        "('ridge', 'item_ridge', 2, 0, false, 1, 0, 1.0, 2)",
        "('ridge1', 'item_ridge', 2, 0, false, 1, 0, 1.0, 1)",
    )
    weights = _weights(tiny, "ridge")
    assert weights[(4, 2)] == pytest.approx(1 / 2, abs=1e-12)
    assert weights[(1, 2)] == pytest.approx(1 / 3, abs=1e-12)
    assert weights[(2, 4)] == pytest.approx(1 / 4, abs=1e-12)
    assert weights[(3, 4)] == pytest.approx(1 / 4, abs=1e-12)
    # One step from 0 moves along b by r.r / b.Ab = 2 / 5 for movie 2; movie 4's b is an
    # eigenvector of its A, solved in one step.
    one = _weights(tiny, "ridge1")
    assert one[(4, 2)] == pytest.approx(0.4, abs=1e-12)
    assert one[(1, 2)] == pytest.approx(0.4, abs=1e-12)
    assert one[(2, 4)] == pytest.approx(1 / 4, abs=1e-12)
    # User 3 rated 2, 3, 4: movie 1 scores w(2,1) + w(3,1) = 1/4 + 1/4 (N(1) = {2, 3}).
    score = tiny.sql(
        "select score from item_weight_scores where method = 'ridge' "
        "and user_id = 3 and movie_id = 1"
    )
    assert score["score"].tolist() == pytest.approx([0.5], abs=1e-12)


def test_recommend_ranked_is_the_mart_and_defaults_to_the_best_validated(
    tiny: Recommender,
) -> None:
    n = int(tiny.sql("select n_recommendations from recsys_params").iloc[0, 0])
    for model in ("item_knn", "rp3beta", "item_ridge"):
        for user_id in (1, 2, 3):
            stored = tiny.sql(
                "select movie_id, score from recommendations where method = ? and user_id = ? "
                "order by rank",
                [model, user_id],
            )
            found = tiny.recommend(user_id, n=n, method=model)[["movie_id", "score"]]
            pd.testing.assert_frame_equal(found, stored, check_dtype=False)
    # The default is the model of best validation NDCG@10 (untuned ones last).
    tiny.sql("update ranking_models set validation_ndcg = 0.1")
    tiny.sql("update ranking_models set validation_ndcg = 0.2 where model = 'rp3beta'")
    pd.testing.assert_frame_equal(tiny.recommend(1), tiny.recommend(1, method="rp3beta"))
    assert tiny.sql("select ranking_model_of(null) as m")["m"].tolist() == ["rp3beta"]


def test_a_ranking_method_refuses_what_does_not_apply(tiny: Recommender) -> None:
    with pytest.raises(InvalidArgumentError, match="unknown method 'nope'; use one of"):
        tiny.recommend(1, method="nope")
    with pytest.raises(InvalidArgumentError, match="k applies to the user, item and content"):
        tiny.recommend(1, method="item_ridge", k=3)
    with pytest.raises(RecsysError, match="unknown ranking model nope; use one of item_knn"):
        tiny.sql("select * from recommend_ranked(1, model := 'nope')")


def test_only_the_ranking_models_asked_for_are_evaluated(tiny: Recommender) -> None:
    result = tiny.evaluate("leave_last_out", models=["item_knn", "popularity"])
    assert set(result.ranking["method"]) == {"item_knn", "popularity"}
    assert result.rating.empty or "item_knn" not in set(result.rating["method"])


# -- ml-latest-small: each default model against numpy/scipy -----------------------------


@pytest.fixture(scope="module")
def small_matrix(small: Recommender) -> reference.RatingMatrix:
    ratings = small.sql("select user_id as userId, movie_id as movieId, rating from ratings")
    return reference.rating_matrix(ratings)


def _settings(small: Recommender, model: str) -> pd.Series:
    return small.sql("select * from ranking_models where model = ?", [model]).iloc[0]


def _dense_weights(small: Recommender, matrix: reference.RatingMatrix, model: str) -> np.ndarray:
    rows = small.sql(
        "select movie_id, neighbor_id, weight from item_weights where model = ?", [model]
    )
    n = len(matrix.movie_ids)
    dense = np.zeros((n, n))
    i = np.searchsorted(matrix.movie_ids, rows["movie_id"].to_numpy())
    j = np.searchsorted(matrix.movie_ids, rows["neighbor_id"].to_numpy())
    dense[i, j] = rows["weight"].to_numpy()
    return dense


def _binary(matrix: reference.RatingMatrix) -> np.ndarray:
    b = matrix.x.copy()
    b.data[:] = 1.0
    return b


@pytest.mark.parametrize("model", ["item_knn", "rp3beta"])
def test_walk_and_knn_weights_equal_numpy_on_ml_latest_small(
    small: Recommender, small_matrix: reference.RatingMatrix, model: str
) -> None:
    s = _settings(small, model)
    found = _dense_weights(small, small_matrix, model)
    if s["algorithm"] == "item_knn":
        x = small_matrix.x if s["rating_values"] else _binary(small_matrix)
        expected = reference.item_knn_weights(x, s["neighbors"], s["shrinkage"], s["normalize"])
    else:
        expected = reference.rp3beta_weights(
            _binary(small_matrix), s["neighbors"], s["alpha"], s["beta"], s["normalize"]
        )
    assert (found != 0).sum() == (expected != 0).sum() > 0
    np.testing.assert_array_equal(found != 0, expected != 0)
    np.testing.assert_allclose(found, expected, rtol=0, atol=1e-12 * np.abs(expected).max())


def test_ridge_weights_are_its_conjugate_gradient_steps_on_ml_latest_small(
    small: Recommender, small_matrix: reference.RatingMatrix
) -> None:
    s = _settings(small, "item_ridge")
    found = _dense_weights(small, small_matrix, "item_ridge")
    # 400 seeded movies' systems (numpy's loop over all 9,724 takes a minute).
    targets = np.random.default_rng(7).choice(len(small_matrix.movie_ids), 400, replace=False)
    b = _binary(small_matrix)
    steps = reference.ridge_weights(b, s["neighbors"], s["l2"], int(s["steps"]), targets)
    exact = reference.ridge_weights(b, s["neighbors"], s["l2"], None, targets)
    scale = np.abs(exact[:, targets]).max()
    np.testing.assert_array_equal(found[:, targets] != 0, steps[:, targets] != 0)
    # The SQL adds in fixed point (2^-46 per product, for sums that do not depend on the
    # threads' order), which moves the steps' weights by about 1e-7 of the largest.
    np.testing.assert_allclose(found[:, targets], steps[:, targets], rtol=0, atol=1e-6 * scale)
    # The steps solve the regression: within 1e-3 of numpy's exact solution.
    np.testing.assert_allclose(found[:, targets], exact[:, targets], rtol=0, atol=1e-3 * scale)
