"""The baseline and k-NN rating predictors (sql/25_baseline, sql/30_similarity,
sql/50_recommend/knn_*.sql): hand-worked answers on the tiny dataset, and parity on
ml-latest-small with an independent numpy implementation written here from the
definitions (Surprise's BaselineOnly, KNNBasic, KNNWithMeans, KNNBaseline)."""

from __future__ import annotations

import logging
import re
import shutil
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recsys_duck import Recommender, evaluation
from recsys_duck.params import BuildParams
from tests.conftest import TINY, TINY_PARAMS

# tiny: u1 rated m1=5, m2=3; u2 m1=4, m3=2; u3 m2=1, m3=5, m4=4.  mu = 24/7.
MU_TINY = 24 / 7


def predict(rec: Recommender, model: str, user_id: int, movie_id: int) -> pd.Series:
    rows = rec.predict([(user_id, movie_id)], model=model)
    assert len(rows) == 1
    return rows.iloc[0]


def test_knn_basic_user_cosine_by_hand(tiny: Recommender) -> None:
    # Users who rated m3: u2 (2.0) and u3 (5.0). cos(u1, u2) over {m1} = 5*4/(5*4) = 1,
    # cos(u1, u3) over {m2} = 3*1/(3*1) = 1, so (1*2 + 1*5) / 2 = 3.5.
    row = predict(tiny, "knn_basic_user_cosine", 1, 3)
    assert row["predicted_rating"] == pytest.approx(3.5, abs=1e-12)
    assert row["actual_k"] == 2 and not row["was_impossible"]


def test_knn_basic_item_cosine_by_hand(tiny: Recommender) -> None:
    # Movies u1 rated: m1 (5.0), m2 (3.0). cos(m3, m1) over {u2} = 1, cos(m3, m2) over
    # {u3} = 1, so (5 + 3) / 2 = 4.0.
    row = predict(tiny, "knn_basic_item_cosine", 1, 3)
    assert row["predicted_rating"] == pytest.approx(4.0, abs=1e-12)


def test_knn_with_means_user_msd_by_hand(tiny: Recommender) -> None:
    # msd(u1, u2) = (5-4)^2 / 1 = 1 -> sim 1/2; msd(u1, u3) = (3-1)^2 = 4 -> sim 1/5.
    # Means: u1 4, u2 3, u3 10/3. 4 + (1/2 (2 - 3) + 1/5 (5 - 10/3)) / (7/10)
    # = 4 + (-1/6) / (7/10) = 4 - 5/21 = 79/21.
    row = predict(tiny, "knn_with_means_user_msd", 1, 3)
    assert row["predicted_rating"] == pytest.approx(79 / 21, abs=1e-12)


def test_k_limits_the_neighbourhood(tiny: Recommender) -> None:
    # With k = 1 only u2 (sim 1/2 > 1/5) is used: 4 + (1/2)(2 - 3) / (1/2) = 3.
    with tiny.con.cursor() as cur:
        cur.execute(
            "insert into knn_models (model, algorithm, based, similarity, k) "
            "values ('means_msd_k1', 'knn_with_means', 'user', 'msd', 1)"
        )
    row = predict(tiny, "means_msd_k1", 1, 3)
    assert row["predicted_rating"] == pytest.approx(3.0, abs=1e-12)
    assert row["actual_k"] == 1


def test_fallbacks_without_positive_neighbours(tiny: Recommender) -> None:
    # Pearson over a single common rating is 0/0 -> 0: no positive neighbour anywhere.
    basic = predict(tiny, "knn_basic_user_pearson", 1, 3)
    assert basic["predicted_rating"] == pytest.approx(MU_TINY, abs=1e-12)
    assert basic["was_impossible"] and basic["actual_k"] == 0
    means = predict(tiny, "knn_with_means_user_pearson", 1, 3)
    assert means["predicted_rating"] == pytest.approx(4.0, abs=1e-12)  # u1's mean
    assert not means["was_impossible"]
    baseline = predict(tiny, "knn_baseline_user_pearson", 1, 3)
    only = predict(tiny, "baseline_only", 1, 3)
    assert baseline["predicted_rating"] == pytest.approx(only["predicted_rating"], abs=1e-12)


def test_unknown_user_falls_back(tiny: Recommender) -> None:
    assert predict(tiny, "knn_basic_item_cosine", 99, 1)["predicted_rating"] == pytest.approx(
        MU_TINY, abs=1e-12
    )
    assert predict(tiny, "knn_with_means_item_cosine", 99, 1)["was_impossible"]
    biases = tiny.sql("select kind, id, bias from baseline_biases")
    b_m1 = biases[(biases.kind == "item") & (biases.id == 1)]["bias"].item()
    row = predict(tiny, "knn_baseline_item_cosine", 99, 1)
    assert row["predicted_rating"] == pytest.approx(MU_TINY + b_m1, abs=1e-12)


def als_biases(
    ratings: pd.DataFrame, epochs: int = 10, reg_i: float = 10.0, reg_u: float = 15.0
) -> tuple[float, dict[int, float], dict[int, float]]:
    """Surprise's baseline ALS, vectorised per epoch with bincount."""
    r = ratings.rating.to_numpy()
    uid, u_idx = np.unique(ratings.user_id.to_numpy(), return_inverse=True)
    iid, i_idx = np.unique(ratings.movie_id.to_numpy(), return_inverse=True)
    mu = float(r.mean())
    bu = np.zeros(len(uid))
    bi = np.zeros(len(iid))
    n_u = np.bincount(u_idx)
    n_i = np.bincount(i_idx)
    for _ in range(epochs):
        bi = np.bincount(i_idx, weights=r - mu - bu[u_idx]) / (reg_i + n_i)
        bu = np.bincount(u_idx, weights=r - mu - bi[i_idx]) / (reg_u + n_u)
    return mu, dict(zip(uid.tolist(), bu, strict=True)), dict(zip(iid.tolist(), bi, strict=True))


def test_baseline_biases_equal_als_by_numpy(tiny: Recommender) -> None:
    ratings = tiny.sql("select user_id, movie_id, rating from ratings")
    mu, bu, bi = als_biases(ratings)
    got = tiny.sql("select kind, id, bias from baseline_biases")
    assert len(got) == len(bu) + len(bi)
    for kind, expected in (("user", bu), ("item", bi)):
        rows = got[got.kind == kind].set_index("id")["bias"]
        for key, value in expected.items():
            assert rows[key] == pytest.approx(value, abs=1e-12)
    assert mu == pytest.approx(MU_TINY)


def test_predictions_are_clipped(tiny: Recommender) -> None:
    with tiny.con.cursor() as cur:
        cur.execute("update recsys_params set rating_max = 3.2")
    row = predict(tiny, "knn_basic_item_cosine", 1, 3)
    assert row["unclipped_rating"] == pytest.approx(4.0)
    assert row["predicted_rating"] == pytest.approx(3.2)


def test_recommend_with_a_knn_model(tiny: Recommender) -> None:
    got = tiny.recommend(1, n=5, method="knn_basic_item_cosine")
    # u1 has not rated m3 and m4. m3 predicts 4.0 (above); m4: only cos(m4, m2) over
    # {u3} = 1 is positive, so 3.0. Ranked by prediction.
    assert got["movie_id"].tolist() == [3, 4]
    assert got["score"].tolist() == pytest.approx([4.0, 3.0])


def test_a_rating_predictor_ranks_item_based_top_candidates() -> None:
    # u1's unrated movies by item_based (n_item_neighbors = 2): m3 is a neighbour of m1
    # (cos = 8 / sqrt(41 * 29) = 0.232), score 5 * 0.232 = 1.160; m4 of m2
    # (cos = 4 / (sqrt(10) * 4) = 0.316), score 3 * 0.316 = 0.949. One candidate: m3.
    with Recommender(":memory:") as rec:
        rec.build(TINY, replace(TINY_PARAMS, n_rank_candidates=1))
        got = rec.recommend(1, n=5, method="knn_basic_item_cosine")
    assert got["movie_id"].tolist() == [3]


def test_ranking_by_a_predictor_needs_the_item_neighbours() -> None:
    with Recommender(":memory:") as rec:
        rec.build(TINY, replace(TINY_PARAMS, neighbors=("user",)))
        with pytest.raises(ValueError, match="item neighbours were not built"):
            rec.recommend(1, n=5, method="knn_basic_user_cosine")
        with pytest.raises(ValueError, match="item neighbours were not built"):
            rec.evaluate("holdout", models=["baseline_only"], rank_models=["baseline_only"])


def test_ranking_in_batches_of_users_equals_one_batch(
    ml_small_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The first 60 users of ml-latest-small: enough ratings for every test user to have
    # item_based candidates in the train part (the tiny dataset has none).
    ratings = pd.read_csv(ml_small_dir / "ratings.csv")
    ratings[ratings["userId"] <= 60].to_csv(tmp_path / "ratings.csv", index=False)
    shutil.copy(ml_small_dir / "movies.csv", tmp_path / "movies.csv")
    models = ["knn_with_means_user_cosine", "knn_basic_item_cosine"]
    with Recommender(":memory:") as rec:
        rec.build(tmp_path, BuildParams(neighbors=("item",)))

        def ranked() -> pd.DataFrame:
            rec.evaluate("holdout", models=models[:1], rank_models=models)
            return rec.sql(
                "select method, user_id, rank, movie_id from eval_recommendations "
                "where method like 'knn%' order by all"
            )

        whole = ranked()
        # ~13k train ratings of test users x 100 candidates: several batches, not one
        monkeypatch.setattr(evaluation, "KNN_RANKING_BATCH_WORK", 300_000)
        caplog.clear()  # the whole run's lines, if the log level let them through
        with caplog.at_level(logging.INFO, logger="recsys_duck"):
            batched = ranked()
        n_test_users = rec.sql("select count(distinct user_id) as n from eval_test_ratings")
    per_model = whole.groupby("method")["user_id"].nunique()
    assert per_model.to_dict() == {m: n_test_users["n"].iloc[0] for m in models}
    pd.testing.assert_frame_equal(whole, batched)
    counts = re.findall(r"ranking 100 candidates per user with \S+ \((\d+) batches\)", caplog.text)
    assert len(counts) == 2 and all(int(n) > 1 for n in counts), caplog.text


def test_unknown_model_is_refused(tiny: Recommender) -> None:
    with pytest.raises(ValueError, match="unknown model"):
        tiny.predict([(1, 3)], model="knn_nonsense")


# -- parity on ml-latest-small ---------------------------------------------------------


@dataclass
class Reference:
    """An independent implementation of the predictors, straight from the definitions."""

    ratings: pd.DataFrame
    mu: float
    bu: dict[int, float]
    bi: dict[int, float]

    def __post_init__(self) -> None:
        r = self.ratings
        self.by_user = {
            u: (g.movie_id.to_numpy(), g.rating.to_numpy())
            for u, g in r.sort_values("movie_id").groupby("user_id")
        }
        self.by_item = {
            i: (g.user_id.to_numpy(), g.rating.to_numpy())
            for i, g in r.sort_values("user_id").groupby("movie_id")
        }
        self.user_mean = r.groupby("user_id").rating.mean().to_dict()
        self.item_mean = r.groupby("movie_id").rating.mean().to_dict()

    def similarity(self, based: str, name: str, x: int, y: int) -> float:
        table = self.by_item if based == "item" else self.by_user
        ids_x, r_x = table[x]
        ids_y, r_y = table[y]
        common, ix, iy = np.intersect1d(ids_x, ids_y, assume_unique=True, return_indices=True)
        n = len(common)
        a, b = r_x[ix], r_y[iy]
        if n == 0:
            return 0.0
        if name == "cosine":
            return float(a @ b / np.sqrt((a @ a) * (b @ b)))
        if name == "msd":
            return float(1 / (((a - b) ** 2).sum() / n + 1))
        if name == "pearson":
            den = np.sqrt((n * (a @ a) - a.sum() ** 2) * (n * (b @ b) - b.sum() ** 2))
            return 0.0 if den == 0 else float((n * (a @ b) - a.sum() * b.sum()) / den)
        # pearson_baseline, shrinkage 100, min support 2
        if n < 2:
            return 0.0
        if based == "item":
            ea = a - self.mu - np.array([self.bu[u] for u in common]) - self.bi[x]
            eb = b - self.mu - np.array([self.bu[u] for u in common]) - self.bi[y]
        else:
            ea = a - self.mu - np.array([self.bi[i] for i in common]) - self.bu[x]
            eb = b - self.mu - np.array([self.bi[i] for i in common]) - self.bu[y]
        den = np.sqrt((ea @ ea) * (eb @ eb))
        return 0.0 if den == 0 else float(ea @ eb / den * ((n - 1) / (n - 1 + 100)))

    def predict(self, algorithm: str, based: str, sim: str, u: int, i: int, k: int = 40) -> float:
        baseline = self.mu + self.bu.get(u, 0.0) + self.bi.get(i, 0.0)
        if based == "item":
            ids, r = self.by_user[u]
            sims = np.array([self.similarity("item", sim, i, j) for j in ids])
            means = np.array([self.item_mean[j] for j in ids])
            residuals = r - self.mu - self.bu[u] - np.array([self.bi[j] for j in ids])
            x_mean = self.item_mean[i]
        else:
            ids, r = self.by_item[i]
            sims = np.array([self.similarity("user", sim, u, v) for v in ids])
            means = np.array([self.user_mean[v] for v in ids])
            residuals = r - self.mu - np.array([self.bu[v] for v in ids]) - self.bi[i]
            x_mean = self.user_mean[u]
        keep = ids != (i if based == "item" else u)
        order = np.lexsort((ids, -np.round(sims, 12)))  # similarity desc, then id
        order = [o for o in order if keep[o]][:k]
        order = [o for o in order if sims[o] > 0]
        s = sims[order]
        if algorithm == "knn_basic":
            est = self.mu if not order else float(s @ r[order] / s.sum())
        elif algorithm == "knn_with_means":
            est = x_mean + (float(s @ (r[order] - means[order]) / s.sum()) if order else 0.0)
        else:
            est = baseline + (float(s @ residuals[order] / s.sum()) if order else 0.0)
        return min(5.0, max(0.5, est))


MODELS = [
    ("knn_basic", "user", "cosine"),
    ("knn_with_means", "user", "pearson"),
    ("knn_baseline", "user", "pearson_baseline"),
    ("knn_basic", "item", "msd"),
    ("knn_with_means", "item", "cosine"),
    ("knn_baseline", "item", "pearson_baseline"),
]


@pytest.mark.slow
def test_knn_parity_with_numpy_on_ml_latest_small(small: Recommender) -> None:
    ratings = small.sql("select user_id, movie_id, rating from ratings")
    mu, bu, bi = als_biases(ratings)
    got_biases = small.sql("select kind, id, bias from baseline_biases")
    users = got_biases[got_biases.kind == "user"].set_index("id")["bias"]
    assert max(abs(users[u] - b) for u, b in bu.items()) < 1e-12
    ref = Reference(ratings, mu, bu, bi)
    rng = np.random.default_rng(7)
    user_ids = rng.choice(ratings.user_id.unique(), 40, replace=False)
    movie_ids = rng.choice(ratings.movie_id.unique(), 40, replace=False)
    pairs = [(int(u), int(m)) for u, m in zip(user_ids, movie_ids, strict=True)]
    for algorithm, based, sim in MODELS:
        model = f"{algorithm}_{based}_{sim}"
        got = small.predict(pairs, model=model).set_index(["user_id", "movie_id"])
        for u, m in pairs:
            expected = ref.predict(algorithm, based, sim, u, m)
            assert got.loc[(u, m), "predicted_rating"] == pytest.approx(expected, abs=1e-9), (
                model,
                u,
                m,
            )


@pytest.mark.slow
def test_scoped_predictions_equal_the_unscoped_view(small: Recommender) -> None:
    # predict shadows knn_pair_scope with the ids its model needs; an analyst who only
    # shadows knn_requests reads every pair. Both must give the same predictions.
    rng = np.random.default_rng(11)
    ratings = small.sql("select user_id, movie_id from ratings")
    one_user = [(1, int(m)) for m in rng.choice(ratings.movie_id.unique(), 300, replace=False)]
    spread = list(
        zip(
            rng.choice(ratings.user_id.unique(), 200).tolist(),
            rng.choice(ratings.movie_id.unique(), 200).tolist(),
            strict=True,
        )
    )
    # One user's candidates scope an item model by the movies they rated; pairs spread
    # over users scope a user model by the requesting users. (The unscoped view computes
    # every pair: two cases keep the test short.)
    cases = {"knn_baseline_item_pearson_baseline": one_user, "knn_with_means_user_cosine": spread}
    for model, pairs in cases.items():
        scoped = small.predict(pairs, model=model).set_index(["user_id", "movie_id"])
        frame = pd.DataFrame(pairs, columns=["user_id", "movie_id"])
        small.con.register("wanted_pairs", frame)
        small.con.execute(
            "create or replace temp table knn_requests as "
            "select distinct user_id::integer as user_id, movie_id::integer as movie_id "
            "from wanted_pairs"
        )
        try:
            full = small.sql("select * from knn_predictions where model = ?", [model]).set_index(
                ["user_id", "movie_id"]
            )
        finally:
            small.con.execute("drop table temp.knn_requests")
            small.con.unregister("wanted_pairs")
        joined = scoped.join(full.add_suffix("_full"), how="inner")
        assert len(joined) == len(full) == len(scoped)
        assert (joined["actual_k"] == joined["actual_k_full"]).all(), model
        np.testing.assert_allclose(
            joined["predicted_rating"], joined["predicted_rating_full"], rtol=0, atol=1e-12
        )
