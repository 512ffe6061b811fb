"""Rating accuracy of the k-NN models side by side with scikit-surprise, on the same folds.

Run from the repository root (scikit-surprise is needed here only, not by the package):

    PYTHONPATH=. python bench/bench_accuracy.py --folds 5

On ml-latest-small, in one process:

1. Every model of ``--models`` (BaselineOnly and KNNBasic, KNNWithMeans, KNNBaseline x
   item/user x cosine/pearson/pearson_baseline by default) is evaluated by
   ``Recommender.evaluate("kfold")`` and by Surprise trained and tested on exactly the
   same folds (the ``kfold_split`` view): RMSE, MAE, per-prediction differences, time.
2. Every prediction that differs by more than 1e-9 is examined with Surprise's own fitted
   objects: a tie at the k-th neighbour, or a near-zero similarity whose sign may differ.
3. Ranking metrics at k = 10 on the holdout split: the foundation methods and the best
   k-NN model of step 1.
4. Nested tuning of knn_baseline pearson_baseline (k, shrinkage, min_support): chosen on
   a validation split of each outer fold's train part, scored on the outer fold.

Markdown tables go to stdout and to the ``.md`` file beside the JSON, progress to stderr,
every number to the JSON file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import heapq
import itertools
import json
import math
import os
import platform
import shutil
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
from bench_build import DEFAULT_DATA, RESULTS_DIR, markdown_table, progress

from recsys_duck import Recommender
from recsys_duck.evaluation import FOUNDATION_METHODS
from recsys_duck.params import BuildParams

try:
    import surprise
    from surprise import BaselineOnly, Dataset, KNNBaseline, KNNBasic, KNNWithMeans, Reader
    from surprise.prediction_algorithms.algo_base import AlgoBase
    from surprise.trainset import Trainset
except ImportError:  # pragma: no cover - a message instead of a traceback
    sys.exit("error: this benchmark needs scikit-surprise: pip install scikit-surprise")

SIMILARITIES = ("cosine", "pearson", "pearson_baseline")
DEFAULT_MODELS = [
    "baseline_only",
    *(
        f"{algorithm}_{based}_{similarity}"
        for algorithm in ("knn_basic", "knn_with_means", "knn_baseline")
        for based in ("item", "user")
        for similarity in SIMILARITIES
    ),
]
SURPRISE_CLASSES: dict[str, type[AlgoBase]] = {
    "baseline_only": BaselineOnly,
    "knn_basic": KNNBasic,
    "knn_with_means": KNNWithMeans,
    "knn_baseline": KNNBaseline,
}
# Surprise's defaults, which the knn_models rows of the build carry too.
SURPRISE_DEFAULTS = {"k": 40, "min_k": 1, "min_support": 1, "shrinkage": 100.0}
RATING_SCALE = (0.5, 5.0)
DIFFERENCE = 1e-9  # a prediction "differs" above this
TIE = 1e-12  # similarities this close are a tie (the SQL ranks on 12 decimals)
RMSE_TARGET = 0.002
RANK_K = 10
RANKING_METRICS = {
    "precision_at_k": "precision",
    "recall_at_k": "recall",
    "ndcg_at_k": "NDCG",
    "map_at_k": "MAP",
    "hit_rate_at_k": "hit rate",
    "mrr_at_k": "MRR",
    "catalog_coverage_at_k": "catalogue coverage",
    "novelty_at_k": "novelty",
}
TUNE_GRID = {"k": (20, 40, 60, 100), "shrinkage": (25, 50, 100, 200), "min_support": (1, 3)}
MAX_UNEXPLAINED_LISTED = 5


@dataclass(frozen=True)
class ModelRow:
    """One row of knn_models."""

    model: str
    algorithm: str
    based: str | None
    similarity: str | None
    k: int
    min_k: int
    min_support: int
    shrinkage: float

    def surprise_kwargs(self) -> dict[str, Any]:
        """Surprise's constructor arguments: sim_options, and only non-default settings."""
        kwargs: dict[str, Any] = {"verbose": False}
        if self.algorithm == "baseline_only":
            return kwargs
        sim_options: dict[str, Any] = {"name": self.similarity, "user_based": self.based == "user"}
        for name in ("min_support", "shrinkage"):
            if getattr(self, name) != SURPRISE_DEFAULTS[name]:
                sim_options[name] = getattr(self, name)
        kwargs["sim_options"] = sim_options
        for name in ("k", "min_k"):
            if getattr(self, name) != SURPRISE_DEFAULTS[name]:
                kwargs[name] = getattr(self, name)
        return kwargs

    def surprise_call(self) -> str:
        arguments = ", ".join(f"{name}={value!r}" for name, value in self.surprise_kwargs().items())
        return f"{SURPRISE_CLASSES[self.algorithm].__name__}({arguments})"


@dataclass
class Fold:
    """One outer fold as Surprise sees it."""

    trainset: Trainset
    testset: list[tuple[int, int, float]]


def quiet_memory_recommender() -> Recommender:
    rec = Recommender(":memory:")
    rec.con.execute("set enable_progress_bar = false")
    return rec


def number(value: Any) -> float | None:
    """A float for the JSON file, None for NULL or NaN."""
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def mean_std(values: list[float]) -> tuple[float, float | None]:
    """Mean and sample standard deviation (as eval_summary's stddev_samp)."""
    array = np.asarray(values, dtype=np.float64)
    return float(array.mean()), (float(array.std(ddof=1)) if array.size > 1 else None)


def fmt(value: float | None, digits: int = 4) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def fmt_mean_std(mean: float | None, std: float | None) -> str:
    if mean is None:
        return ""
    return fmt(mean) if std is None else f"{mean:.4f} ± {std:.4f}"


def read_models(rec: Recommender) -> dict[str, ModelRow]:
    frame = rec.sql(
        "select model, algorithm, based, similarity, k, min_k, min_support, shrinkage "
        "from knn_models order by model"
    )
    return {
        row.model: ModelRow(
            model=row.model,
            algorithm=row.algorithm,
            based=None if pd.isna(row.based) else row.based,
            similarity=None if pd.isna(row.similarity) else row.similarity,
            k=int(row.k),
            min_k=int(row.min_k),
            min_support=int(row.min_support),
            shrinkage=float(row.shrinkage),
        )
        for row in frame.itertuples(index=False)
    }


def surprise_folds(split: pd.DataFrame, n_folds: int) -> dict[int, Fold]:
    """Fold f's train part sorted by (user_id, movie_id) as a Surprise Trainset, and its
    test part as a testset. The sort makes Surprise's neighbour lists (and so its tie
    order, heapq.nlargest keeping list order) follow the smaller id, as the SQL does."""
    reader = Reader(rating_scale=RATING_SCALE)
    folds: dict[int, Fold] = {}
    for fold in range(1, n_folds + 1):
        train = split[split["fold"] != fold].sort_values(["user_id", "movie_id"])
        test = split[split["fold"] == fold]
        trainset = Dataset.load_from_df(
            train[["user_id", "movie_id", "rating"]], reader
        ).build_full_trainset()
        testset = [
            (int(u), int(i), float(r))
            for u, i, r in zip(test["user_id"], test["movie_id"], test["rating"], strict=True)
        ]
        folds[fold] = Fold(trainset=trainset, testset=testset)
    return folds


# -- step 2: explaining differences -------------------------------------------------------


def project_rule_estimate(
    algo: AlgoBase,
    row: ModelRow,
    candidates: list[tuple[int, float, float]],
    raw_ids: list[int],
    x: int,
    y: int,
    u: int,
    i: int,
) -> float:
    """Surprise's estimate with the SQL's neighbour choice: positive similarities only,
    ranked by similarity rounded to 12 decimals, then by the smaller id."""
    positive = sorted(
        (c for c in candidates if c[1] > 0), key=lambda c: (-round(c[1], 12), raw_ids[c[0]])
    )[: row.k]
    trainset = algo.trainset
    actual_k = len(positive)
    sum_sim = sum(s for _, s, _ in positive)
    if row.algorithm == "knn_basic":
        if actual_k < max(row.min_k, 1):
            estimate = trainset.global_mean
        else:
            estimate = sum(s * r for _, s, r in positive) / sum_sim
    elif row.algorithm == "knn_with_means":
        estimate = algo.means[x]
        if actual_k >= row.min_k and sum_sim > 0:
            estimate += sum(s * (r - algo.means[nb]) for nb, s, r in positive) / sum_sim
    else:
        estimate = trainset.global_mean + algo.bu[u] + algo.bi[i]
        if actual_k >= row.min_k and sum_sim > 0:
            residuals = (
                s * (r - (trainset.global_mean + algo.bx[nb] + algo.by[y])) for nb, s, r in positive
            )
            estimate += sum(residuals) / sum_sim
    return min(RATING_SCALE[1], max(RATING_SCALE[0], float(estimate)))


def explain_differences(
    algo: AlgoBase, row: ModelRow, differing: pd.DataFrame, limit: int
) -> list[dict[str, Any]]:
    """For each differing prediction (up to ``limit``), rebuild Surprise's candidate list
    [(x2, sim[x, x2], r) for (x2, r) in yr[y]] from the fitted algorithm and name the cause.

    ``tie``: the k-th largest similarity is positive and within 1e-12 of the (k+1)-th, so
    an equal-up-to-rounding candidate sits on the other side of the cut. ``near_zero``:
    a similarity among Surprise's k chosen is within 1e-12 of 0, so its sign (in or out)
    may differ. ``reproduced``: Surprise's similarities ranked by the SQL's rule give the
    SQL's prediction (within 1e-9).
    """
    trainset = algo.trainset
    user_based = row.based == "user"
    n_x = trainset.n_users if user_based else trainset.n_items
    to_raw = trainset.to_raw_uid if user_based else trainset.to_raw_iid
    raw_ids = [int(to_raw(inner)) for inner in range(n_x)]
    found: list[dict[str, Any]] = []
    for item in differing.head(limit).itertuples(index=False):
        detail: dict[str, Any] = {
            "user_id": int(item.user_id),
            "movie_id": int(item.movie_id),
            "ours": float(item.predicted_rating),
            "surprise": float(item.est),
            "difference": float(item.predicted_rating - item.est),
        }
        try:
            u = trainset.to_inner_uid(item.user_id)
            i = trainset.to_inner_iid(item.movie_id)
        except ValueError:
            detail["cause"] = "unexplained"
            detail["note"] = "user or movie unknown to the train part"
            found.append(detail)
            continue
        x, y = algo.switch(u, i)
        candidates = [(x2, float(algo.sim[x, x2]), float(r)) for (x2, r) in algo.yr[y]]
        sims = np.sort(np.fromiter((c[1] for c in candidates), dtype=np.float64))[::-1]
        k = row.k
        tie = bool(sims.size > k and sims[k - 1] > 0 and sims[k - 1] - sims[k] <= TIE)
        chosen = heapq.nlargest(k, candidates, key=lambda c: c[1])
        near_zero = any(abs(c[1]) <= TIE for c in chosen)
        emulated = project_rule_estimate(algo, row, candidates, raw_ids, x, y, u, i)
        detail.update(
            {
                "n_candidates": len(candidates),
                "n_positive": int((sims > 0).sum()),
                "kth_similarity": float(sims[k - 1]) if sims.size >= k else None,
                "next_similarity": float(sims[k]) if sims.size > k else None,
                "project_rule_estimate": emulated,
                "reproduced": abs(emulated - detail["ours"]) <= DIFFERENCE,
                "cause": "tie" if tie else "near_zero" if near_zero else "unexplained",
            }
        )
        found.append(detail)
    return found


# -- step 1: side by side -----------------------------------------------------------------


def compare_model(
    rec: Recommender,
    row: ModelRow,
    folds: dict[int, Fold],
    explain_limit: int,
) -> dict[str, Any]:
    n_folds = len(folds)
    start = time.perf_counter()
    rec.evaluate("kfold", models=[row.model], folds=n_folds)
    ours_seconds = time.perf_counter() - start
    ours = rec.sql(
        "select fold, user_id, movie_id, rating, predicted_rating from eval_predictions "
        "where split = 'kfold' and method = ? order by fold, user_id, movie_id",
        [row.model],
    )
    summary = rec.sql(
        "select metric, mean, std from eval_summary where split = 'kfold' and method = ? "
        "and metric in ('rmse', 'mae')",
        [row.model],
    ).set_index("metric")
    ours_folds = rec.sql(
        "select fold, rmse, mae, coverage from eval_rating_metrics "
        "where split = 'kfold' and method = ? order by fold",
        [row.model],
    )
    progress(f"{row.model}: ours {ours_seconds:.1f} s, RMSE {summary.loc['rmse', 'mean']:.4f}")

    surprise_rmse: list[float] = []
    surprise_mae: list[float] = []
    fit_seconds: list[float] = []
    test_seconds: list[float] = []
    max_difference = 0.0
    n_differing = 0
    n_predictions = 0
    n_unpredicted = int(ours["predicted_rating"].isna().sum())
    explained: list[dict[str, Any]] = []
    for fold, data in folds.items():
        algo = SURPRISE_CLASSES[row.algorithm](**row.surprise_kwargs())
        start = time.perf_counter()
        algo.fit(data.trainset)
        fitted = time.perf_counter()
        predictions = algo.test(data.testset)
        done = time.perf_counter()
        fit_seconds.append(fitted - start)
        test_seconds.append(done - fitted)
        theirs = pd.DataFrame(
            {
                "user_id": [int(p.uid) for p in predictions],
                "movie_id": [int(p.iid) for p in predictions],
                "est": [float(p.est) for p in predictions],
                "actual": [float(p.r_ui) for p in predictions],
            }
        )
        errors = theirs["est"] - theirs["actual"]
        surprise_rmse.append(float(np.sqrt((errors**2).mean())))
        surprise_mae.append(float(errors.abs().mean()))

        mine = ours[ours["fold"] == fold]
        joined = mine.merge(theirs, on=["user_id", "movie_id"], validate="one_to_one")
        if len(joined) != len(mine) or len(joined) != len(theirs):
            raise RuntimeError(
                f"{row.model}, fold {fold}: {len(mine)} SQL predictions and "
                f"{len(theirs)} Surprise predictions share only {len(joined)} pairs"
            )
        difference = (joined["predicted_rating"] - joined["est"]).abs()
        n_predictions += len(joined)
        max_difference = max(max_difference, float(difference.max()))
        differing = joined[difference > DIFFERENCE]
        n_differing += len(differing)
        if len(differing) and row.algorithm != "baseline_only":
            remaining = max(0, explain_limit - len(explained))
            for detail in explain_differences(algo, row, differing, remaining):
                explained.append({"fold": fold, **detail})
        del algo

    ours_rmse = number(summary.loc["rmse", "mean"])
    rmse_mean, rmse_std = mean_std(surprise_rmse)
    mae_mean, mae_std = mean_std(surprise_mae)
    surprise_seconds = sum(fit_seconds) + sum(test_seconds)
    causes = Counter(d["cause"] for d in explained)
    result = {
        "model": row.model,
        "settings": {
            "algorithm": row.algorithm,
            "based": row.based,
            "similarity": row.similarity,
            "k": row.k,
            "min_k": row.min_k,
            "min_support": row.min_support,
            "shrinkage": row.shrinkage,
        },
        "surprise_call": row.surprise_call(),
        "ours": {
            "rmse_mean": ours_rmse,
            "rmse_std": number(summary.loc["rmse", "std"]),
            "mae_mean": number(summary.loc["mae", "mean"]),
            "mae_std": number(summary.loc["mae", "std"]),
            "rmse_per_fold": [number(v) for v in ours_folds["rmse"]],
            "mae_per_fold": [number(v) for v in ours_folds["mae"]],
            "coverage_per_fold": [number(v) for v in ours_folds["coverage"]],
            "evaluate_seconds": ours_seconds,
        },
        "surprise": {
            "rmse_mean": rmse_mean,
            "rmse_std": rmse_std,
            "mae_mean": mae_mean,
            "mae_std": mae_std,
            "rmse_per_fold": surprise_rmse,
            "mae_per_fold": surprise_mae,
            "fit_seconds_per_fold": fit_seconds,
            "test_seconds_per_fold": test_seconds,
            "fit_test_seconds": surprise_seconds,
        },
        "comparison": {
            "rmse_abs_difference": None if ours_rmse is None else abs(ours_rmse - rmse_mean),
            "n_predictions": n_predictions,
            "n_unpredicted_by_sql": n_unpredicted,
            "max_abs_prediction_difference": max_difference,
            "n_differing": n_differing,
            "seconds_ratio_ours_over_surprise": ours_seconds / surprise_seconds,
        },
        "differences": {
            "n_examined": len(explained),
            "n_tie": causes["tie"],
            "n_near_zero": causes["near_zero"],
            "n_unexplained": causes["unexplained"],
            "n_reproduced_by_project_rule": sum(bool(d.get("reproduced")) for d in explained),
            "unexplained": [d for d in explained if d["cause"] == "unexplained"][
                :MAX_UNEXPLAINED_LISTED
            ],
            "examples": explained[:3],
        },
    }
    progress(
        f"{row.model}: Surprise {surprise_seconds:.1f} s, RMSE {rmse_mean:.4f}; "
        f"{n_differing} of {n_predictions} predictions differ > {DIFFERENCE:g} "
        f"(max {max_difference:.2e}); causes {dict(causes)}"
    )
    return result


# -- step 3: ranking ----------------------------------------------------------------------


def ranking_metrics(rec: Recommender, best: str) -> dict[str, Any]:
    """Ranking metrics at k = 10 on the holdout split: the foundation methods in one
    evaluate call, the best k-NN model (ranking every unrated movie) in another."""
    methods: dict[str, dict[str, float | None]] = {}
    seconds: dict[str, float] = {}
    for label, models, rank_models in (
        ("foundation methods", list(FOUNDATION_METHODS), []),
        (best, [best], [best]),
    ):
        progress(f"ranking: evaluating {label} on the holdout split")
        start = time.perf_counter()
        rec.evaluate("holdout", models=models, rank_models=rank_models)
        seconds[label] = time.perf_counter() - start
        frame = rec.sql(
            "select method, metric, mean from eval_summary "
            "where split = 'holdout' and (k = ? or k is null)",
            [RANK_K],
        )
        for item in frame.itertuples(index=False):
            methods.setdefault(item.method, {})[item.metric] = number(item.mean)
        progress(f"ranking: {label} took {seconds[label]:.1f} s")
    return {"k": RANK_K, "best_knn_model": best, "evaluate_seconds": seconds, "methods": methods}


# -- step 4: nested tuning ----------------------------------------------------------------


def grid_models(based: str) -> list[ModelRow]:
    return [
        ModelRow(
            model=f"tune_{based}_k{k}_s{shrinkage}_m{min_support}",
            algorithm="knn_baseline",
            based=based,
            similarity="pearson_baseline",
            k=k,
            min_k=1,
            min_support=min_support,
            shrinkage=float(shrinkage),
        )
        for k, shrinkage, min_support in itertools.product(
            TUNE_GRID["k"], TUNE_GRID["shrinkage"], TUNE_GRID["min_support"]
        )
    ]


def insert_models(rec: Recommender, rows: list[ModelRow]) -> None:
    for row in rows:
        rec.con.execute(
            "insert into knn_models (model, algorithm, based, similarity, k, min_k, "
            "min_support, shrinkage) values (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                row.model,
                row.algorithm,
                row.based,
                row.similarity,
                row.k,
                row.min_k,
                row.min_support,
                row.shrinkage,
            ],
        )


def write_outer_train(data_dir: Path, keep: pd.Series, raw: pd.DataFrame, folder: Path) -> None:
    """A MovieLens folder holding the rows of ratings.csv where ``keep``, verbatim, and
    copies of the other files."""
    raw[keep.to_numpy()].to_csv(folder / "ratings.csv", index=False)
    for name in ("movies.csv", "tags.csv", "links.csv"):
        if (data_dir / name).is_file():
            shutil.copyfile(data_dir / name, folder / name)


def tune(
    rec: Recommender,
    data_dir: Path,
    split: pd.DataFrame,
    n_folds: int,
    bases: list[str],
) -> dict[str, Any]:
    """For each outer fold f: build a fresh database on f's train part, evaluate the grid
    on its holdout split (a seeded 20% of each user's ratings there), choose the lowest
    validation RMSE; then score each fold's choice on fold f in the main database."""
    raw = pd.read_csv(data_dir / "ratings.csv", dtype=str, keep_default_na=False)
    keys = pd.DataFrame(
        {"user_id": raw["userId"].astype(np.int64), "movie_id": raw["movieId"].astype(np.int64)}
    )
    fold_of = keys.merge(split, how="left", on=["user_id", "movie_id"], validate="one_to_one")[
        "fold"
    ]
    if fold_of.isna().any():
        raise RuntimeError("ratings.csv holds ratings that kfold_split does not")
    grids = {based: grid_models(based) for based in bases}
    by_name = {row.model: row for rows in grids.values() for row in rows}
    outer: list[dict[str, Any]] = []
    for fold in range(1, n_folds + 1):
        with tempfile.TemporaryDirectory(prefix="recsys-duck-tune-") as tmp:
            write_outer_train(data_dir, fold_of != fold, raw, Path(tmp))
            inner = quiet_memory_recommender()
            start = time.perf_counter()
            inner.build(tmp)
            build_seconds = time.perf_counter() - start
        try:
            insert_models(inner, [row for rows in grids.values() for row in rows])
            validation: dict[str, float] = {}
            grid_seconds: dict[str, float] = {}
            for based, rows in grids.items():
                start = time.perf_counter()
                inner.evaluate("holdout", models=[row.model for row in rows])
                grid_seconds[based] = time.perf_counter() - start
                frame = inner.sql(
                    "select method, rmse from eval_rating_metrics where split = 'holdout'"
                )
                validation.update(
                    {
                        item.method: float(item.rmse)
                        for item in frame.itertuples(index=False)
                        if item.method in by_name
                    }
                )
                progress(
                    f"tuning: outer fold {fold}, {based}-based grid of {len(rows)} "
                    f"took {grid_seconds[based]:.1f} s"
                )
            (n_train,) = inner.con.execute("select count(*) from ratings").fetchone() or (0,)
        finally:
            inner.close()
        chosen = min(validation, key=lambda name: (validation[name], name))
        progress(
            f"tuning: outer fold {fold} chose {chosen} (validation RMSE {validation[chosen]:.4f})"
        )
        outer.append(
            {
                "fold": fold,
                "n_outer_train_ratings": int(n_train),
                "build_seconds": build_seconds,
                "grid_seconds": grid_seconds,
                "chosen": chosen,
                "chosen_validation_rmse": validation[chosen],
                "validation_rmse": validation,
            }
        )

    chosen_rows = [by_name[name] for name in sorted({o["chosen"] for o in outer})]
    known = set(read_models(rec))
    insert_models(rec, [row for row in chosen_rows if row.model not in known])
    progress(f"tuning: scoring {len(chosen_rows)} chosen configuration(s) on the outer folds")
    start = time.perf_counter()
    rec.evaluate("kfold", models=[row.model for row in chosen_rows], folds=n_folds)
    outer_seconds = time.perf_counter() - start
    scores = rec.sql(
        "select fold, method, rmse, mae from eval_rating_metrics where split = 'kfold'"
    ).set_index(["fold", "method"])
    for o in outer:
        o["outer_rmse"] = float(scores.loc[(o["fold"], o["chosen"]), "rmse"])
        o["outer_mae"] = float(scores.loc[(o["fold"], o["chosen"]), "mae"])
    rmse_mean, rmse_std = mean_std([o["outer_rmse"] for o in outer])
    mae_mean, _ = mean_std([o["outer_mae"] for o in outer])
    return {
        "grid": {name: list(values) for name, values in TUNE_GRID.items()},
        "bases": bases,
        "n_configurations": len(by_name),
        "outer_folds": outer,
        "chosen_configurations": [
            {
                "model": row.model,
                "based": row.based,
                "k": row.k,
                "shrinkage": row.shrinkage,
                "min_support": row.min_support,
            }
            for row in chosen_rows
        ],
        "outer_evaluate_seconds": outer_seconds,
        "tuned_rmse_mean": rmse_mean,
        "tuned_rmse_std": rmse_std,
        "tuned_mae_mean": mae_mean,
    }


# -- output -------------------------------------------------------------------------------


def machine_info(rec: Recommender) -> dict[str, Any]:
    (threads,) = rec.con.execute("select current_setting('threads')").fetchone() or (None,)
    return {
        "os_cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "duckdb_threads": threads,
        "surprise": surprise.__version__,
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }


def side_by_side_table(models: list[dict[str, Any]]) -> str:
    rows = []
    for m in models:
        ours, theirs, c = m["ours"], m["surprise"], m["comparison"]
        rows.append(
            [
                m["model"],
                fmt_mean_std(ours["rmse_mean"], ours["rmse_std"]),
                fmt_mean_std(theirs["rmse_mean"], theirs["rmse_std"]),
                fmt(c["rmse_abs_difference"], 6),
                fmt(ours["mae_mean"]),
                fmt(theirs["mae_mean"]),
                f"{c['max_abs_prediction_difference']:.1e}",
                str(c["n_differing"]),
                f"{ours['evaluate_seconds']:.1f}",
                f"{theirs['fit_test_seconds']:.1f}",
                f"{c['seconds_ratio_ours_over_surprise']:.1f}",
            ]
        )
    return markdown_table(
        [
            "model",
            "RMSE ours",
            "RMSE Surprise",
            "abs RMSE diff",
            "MAE ours",
            "MAE Surprise",
            "max abs pred diff",
            f"preds diff > {DIFFERENCE:g}",
            "ours s",
            "Surprise s",
            "ratio",
        ],
        rows,
    )


def differences_table(models: list[dict[str, Any]]) -> str:
    rows = []
    totals = Counter[str]()
    for m in models:
        d, n = m["differences"], m["comparison"]["n_differing"]
        if n == 0:
            continue
        counts = {
            "differing": n,
            "examined": d["n_examined"],
            "tie": d["n_tie"],
            "near_zero": d["n_near_zero"],
            "unexplained": d["n_unexplained"],
            "reproduced": d["n_reproduced_by_project_rule"],
        }
        totals.update(counts)
        rows.append([m["model"], *(str(v) for v in counts.values())])
    rows.append(
        [
            "**all**",
            *(
                str(totals[key])
                for key in (
                    "differing",
                    "examined",
                    "tie",
                    "near_zero",
                    "unexplained",
                    "reproduced",
                )
            ),
        ]
    )
    return markdown_table(
        [
            "model",
            "differing",
            "examined",
            "tie at the k-th neighbour",
            "near-zero similarity",
            "unexplained",
            "SQL rule on Surprise's sims reproduces ours",
        ],
        rows,
    )


def ranking_table(ranking: dict[str, Any]) -> str:
    rows = []
    for method, metrics in ranking["methods"].items():
        rows.append(
            [
                method,
                *(fmt(metrics.get(name)) for name in RANKING_METRICS),
                fmt(metrics.get("rmse")),
            ]
        )
    return markdown_table(
        ["method", *(f"{label}@{ranking['k']}" for label in RANKING_METRICS.values()), "RMSE"],
        rows,
    )


def tuning_tables(tuning: dict[str, Any]) -> tuple[str, str]:
    rows = [
        [
            str(o["fold"]),
            o["chosen"],
            fmt(o["chosen_validation_rmse"]),
            fmt(o["outer_rmse"]),
            f"{o['build_seconds']:.0f} + "
            + " + ".join(f"{s:.0f}" for s in o["grid_seconds"].values()),
        ]
        for o in tuning["outer_folds"]
    ]
    chosen = markdown_table(
        ["outer fold", "chosen", "validation RMSE", "RMSE on the outer fold", "build + grid s"],
        rows,
    )
    first = tuning["outer_folds"][0]
    validation = first["validation_rmse"]
    shrinkages = TUNE_GRID["shrinkage"]
    grid_rows = []
    for based in tuning["bases"]:
        for min_support, k in itertools.product(TUNE_GRID["min_support"], TUNE_GRID["k"]):
            cells = []
            for shrinkage in shrinkages:
                name = f"tune_{based}_k{k}_s{shrinkage}_m{min_support}"
                mark = " *" if name == first["chosen"] else ""
                cells.append(fmt(validation.get(name)) + mark)
            grid_rows.append([based, str(min_support), str(k), *cells])
    grid = markdown_table(
        ["based", "min_support", "k", *(f"shrinkage {s}" for s in shrinkages)], grid_rows
    )
    return chosen, grid


def markdown_report(result: dict[str, Any]) -> str:
    dataset, machine, settings = result["dataset"], result["machine"], result["settings"]
    parts = [
        f"## Rating accuracy on {dataset['name']}: recsys-duck vs scikit-surprise\n",
        f"{dataset['n_ratings']} ratings, {dataset['n_users']} users, {dataset['n_movies']} "
        f"movies; {settings['folds']}-fold cross-validation on the `kfold_split` folds (seed "
        f"{settings['seed']}), the same folds for both. {machine['os_cpu_count']} CPUs, "
        f"{machine['platform']}, DuckDB {machine['duckdb']} ({machine['duckdb_threads']} "
        f"threads), scikit-surprise {machine['surprise']}, numpy {machine['numpy']}, "
        f"{machine['date']}; the benchmark took {result['benchmark_seconds'] / 60:.0f} min.\n",
        side_by_side_table(result["models"]) + "\n",
        "RMSE is the mean ± sample standard deviation over the folds. *ours s*: wall seconds "
        'of one `Recommender.evaluate("kfold", models=[model])` call, which for every fold '
        "makes the split, trains the model in SQL on the train part (statistics, baseline "
        "biases, pair statistics) and predicts the held-out ratings. *Surprise s*: `fit` + "
        "`test` summed over the folds (building its `Trainset` excluded). *ratio*: ours / "
        f"Surprise. Target: abs RMSE diff <= {RMSE_TARGET} for every model; the largest is "
        f"{result['summary']['max_rmse_abs_difference']:.1e}.\n",
    ]
    if any(m["comparison"]["n_differing"] for m in result["models"]):
        parts += [
            "Predictions that differ by more than 1e-9, examined with Surprise's fitted "
            "similarity matrix and its candidate list `[(x2, sim[x, x2], r) for (x2, r) in "
            "yr[y]]`: *tie* = the k-th largest similarity is within 1e-12 of the next one "
            "(the SQL ranks on similarities rounded to 12 decimals, then the smaller id); "
            "*near-zero* = a similarity among Surprise's k chosen lies within 1e-12 of 0; "
            "the last column counts those where ranking Surprise's own similarities by the "
            "SQL's rule gives the SQL's prediction.\n",
            differences_table(result["models"]) + "\n",
        ]
        unexplained = result["summary"]["unexplained_examples"]
        if unexplained:
            parts.append("Unexplained differences (up to 5):\n")
            parts += [f"- `{json.dumps(u)}`" for u in unexplained]
            parts.append("")
    ranking = result.get("ranking")
    if ranking:
        seconds = ", ".join(f"{k}: {v:.0f} s" for k, v in ranking["evaluate_seconds"].items())
        parts += [
            f"### Ranking at k = {ranking['k']} on the holdout split\n",
            ranking_table(ranking) + "\n",
            f"Each user's seeded 20% held out; every method trained on the rest. "
            f"{ranking['best_knn_model']} (best k-NN by {settings['folds']}-fold RMSE) ranks "
            f"every movie the user has not rated by its predicted rating. Evaluate time: "
            f"{seconds}.\n",
        ]
    tuning = result.get("tuning")
    if tuning:
        chosen, grid = tuning_tables(tuning)
        best = result["summary"]["surprise_best_default_knn"]
        verdict = ""
        if best is not None:
            better = tuning["tuned_rmse_mean"] < best["rmse_mean"]
            verdict = (
                f" Surprise's best default k-NN ({best['model']}) has RMSE "
                f"{fmt_mean_std(best['rmse_mean'], best['rmse_std'])}: the tuned model is "
                f"{'better' if better else 'not better'} by "
                f"{best['rmse_mean'] - tuning['tuned_rmse_mean']:+.4f}."
            )
        parts += [
            "### Nested tuning of knn_baseline pearson_baseline\n",
            f"Grid: k in {TUNE_GRID['k']}, shrinkage in {TUNE_GRID['shrinkage']}, min_support "
            f"in {TUNE_GRID['min_support']}, based in {tuning['bases']} "
            f"({tuning['n_configurations']} configurations). For each outer fold, a fresh "
            "database is built on its train part only and every configuration is scored on "
            "that database's holdout split (a seeded 20% of each user's ratings); the "
            "configuration with the lowest validation RMSE is then scored on the outer fold, "
            "which it has never seen.\n",
            chosen + "\n",
            f"Tuned RMSE over the outer folds: "
            f"{fmt_mean_std(tuning['tuned_rmse_mean'], tuning['tuned_rmse_std'])} "
            f"(MAE {tuning['tuned_mae_mean']:.4f}).{verdict}\n",
            "Validation RMSE grid of outer fold 1 (* = chosen):\n",
            grid + "\n",
        ]
    return "\n".join(parts)


def run(args: argparse.Namespace) -> dict[str, Any]:
    data_dir: Path = args.data.resolve()
    rec = quiet_memory_recommender()
    progress(f"building on {data_dir}")
    start = time.perf_counter()
    rec.build(data_dir, BuildParams(n_folds=args.folds))
    build_seconds = time.perf_counter() - start
    progress(f"built in {build_seconds:.1f} s")
    machine = machine_info(rec)
    models = read_models(rec)
    unknown = [m for m in args.models if m not in models]
    if unknown:
        raise SystemExit(f"error: unknown model(s) {unknown}; use some of {sorted(models)}")
    n_users, n_movies, n_ratings = rec.con.execute(
        "select n_users, n_movies, n_ratings from rating_matrix_stats"
    ).fetchone() or (0, 0, 0)
    (seed,) = rec.con.execute("select seed from recsys_params").fetchone() or (None,)
    split = rec.sql(
        "select user_id, movie_id, rating, fold from kfold_split order by user_id, movie_id"
    )
    folds = surprise_folds(split, args.folds)

    compared = [compare_model(rec, models[m], folds, args.explain_limit) for m in args.models]
    knn = [m for m in compared if m["settings"]["algorithm"] != "baseline_only"]
    best_ours = min(knn, key=lambda m: m["ours"]["rmse_mean"]) if knn else None
    best_surprise = min(knn, key=lambda m: m["surprise"]["rmse_mean"]) if knn else None
    examined = [
        {"model": m["model"], **u} for m in compared for u in m["differences"]["unexplained"]
    ]
    result: dict[str, Any] = {
        "dataset": {
            "name": data_dir.name,
            "path": str(data_dir),
            "n_users": int(n_users),
            "n_movies": int(n_movies),
            "n_ratings": int(n_ratings),
        },
        "machine": machine,
        "settings": {
            "folds": args.folds,
            "seed": seed,
            "models": args.models,
            "explain_limit": args.explain_limit,
            "difference_threshold": DIFFERENCE,
            "tie_tolerance": TIE,
            "rmse_target": RMSE_TARGET,
        },
        "build_seconds": build_seconds,
        "models": compared,
        "summary": {
            "max_rmse_abs_difference": max(
                (m["comparison"]["rmse_abs_difference"] or 0.0 for m in compared), default=0.0
            ),
            "all_within_rmse_target": all(
                (m["comparison"]["rmse_abs_difference"] or 0.0) <= RMSE_TARGET for m in compared
            ),
            "n_predictions_differing": sum(m["comparison"]["n_differing"] for m in compared),
            "n_tie": sum(m["differences"]["n_tie"] for m in compared),
            "n_near_zero": sum(m["differences"]["n_near_zero"] for m in compared),
            "n_unexplained": sum(m["differences"]["n_unexplained"] for m in compared),
            "unexplained_examples": examined[:MAX_UNEXPLAINED_LISTED],
            "best_knn_by_ours": best_ours["model"] if best_ours else None,
            "surprise_best_default_knn": None
            if best_surprise is None
            else {
                "model": best_surprise["model"],
                "rmse_mean": best_surprise["surprise"]["rmse_mean"],
                "rmse_std": best_surprise["surprise"]["rmse_std"],
            },
        },
    }
    if args.skip_ranking:
        progress("ranking: skipped (--skip-ranking)")
    elif best_ours is None:
        progress("ranking: skipped, no k-NN model among --models")
    else:
        result["ranking"] = ranking_metrics(rec, best_ours["model"])
    if args.skip_tuning:
        progress("tuning: skipped (--skip-tuning)")
    else:
        tuning = tune(rec, data_dir, split, args.folds, args.tune_based)
        if best_surprise is not None:
            tuning["surprise_best_default_knn_rmse"] = best_surprise["surprise"]["rmse_mean"]
            tuning["tuned_better_than_surprise_best"] = (
                tuning["tuned_rmse_mean"] < best_surprise["surprise"]["rmse_mean"]
            )
        result["tuning"] = tuning
    rec.close()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="example: PYTHONPATH=. python bench/bench_accuracy.py --folds 2 "
        "--models baseline_only knn_basic_user_cosine --skip-ranking --skip-tuning",
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="MovieLens folder")
    parser.add_argument("--folds", type=int, default=5, help="folds of the k-fold split")
    parser.add_argument(
        "--models", nargs="+", default=DEFAULT_MODELS, help="knn_models rows to compare"
    )
    parser.add_argument("--skip-ranking", action="store_true", help="skip step 3")
    parser.add_argument("--skip-tuning", action="store_true", help="skip step 4")
    parser.add_argument(
        "--tune-based",
        nargs="+",
        choices=("item", "user"),
        default=["item", "user"],
        help="neighbourhoods of the tuning grid",
    )
    parser.add_argument(
        "--explain-limit",
        type=int,
        default=2000,
        help="differing predictions examined per model at most",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=RESULTS_DIR / "accuracy.json",
        help="JSON file (the .md file goes beside it)",
    )
    args = parser.parse_args(argv)
    if not (args.data / "ratings.csv").is_file():
        print(f"error: no ratings.csv in {args.data}; pass --data", file=sys.stderr)
        return 1
    if args.folds < 2:
        print("error: --folds must be at least 2", file=sys.stderr)
        return 1

    started = time.perf_counter()
    load_at_start = os.getloadavg()
    result = run(args)
    result["machine"]["load_average_1_5_15_min"] = {"start": load_at_start, "end": os.getloadavg()}
    result["benchmark_seconds"] = time.perf_counter() - started

    report = markdown_report(result)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    markdown_path = args.out.with_suffix(".md")
    markdown_path.write_text(report, encoding="utf-8")
    print(report)
    print(
        f"benchmark took {result['benchmark_seconds']:.0f} s; written to {args.out} and "
        f"{markdown_path}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
