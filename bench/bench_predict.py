"""Rating prediction for a batch of pairs: ``Recommender.predict`` against scikit-surprise.

Run from the repository root (scikit-surprise is needed here only, not by the package):

    PYTHONPATH=. python bench/bench_predict.py --pairs 20000

On ml-latest-small, in one process: a database is built once; ``--pairs`` random
(user, movie) pairs of rated users and movies are drawn (seeded; those already rated
dropped); for each model of
``--models`` the project's ``predict`` (median of ``--repeats``) and Surprise, trained on
the same ratings (``fit`` and ``test``, medians as well), predict the same pairs. The
predictions are compared (max |difference|), and the times reported as ratios:
project / Surprise's predict alone, and project / Surprise's fit + predict (the project
computes the similarities it needs per request; Surprise computes them all in ``fit``).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from bench_accuracy import RATING_SCALE, SURPRISE_CLASSES, read_models
from bench_build import DEFAULT_DATA, RESULTS_DIR, machine_info, markdown_table, progress

from recsys_duck import Recommender

try:
    from surprise import Dataset, Reader
except ImportError:  # pragma: no cover - a message instead of a traceback
    sys.exit("error: this benchmark needs scikit-surprise: pip install scikit-surprise")

DEFAULT_MODELS = [
    "baseline_only",
    "knn_baseline_item_pearson_baseline",
    "knn_with_means_user_cosine",
]
TARGET_RATIO = 5.0


def timed(call: Any, repeats: int) -> tuple[float, Any]:
    """The median wall time of ``repeats`` calls, and the last call's result."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def draw_pairs(ratings: pd.DataFrame, n_pairs: int, seed: int) -> pd.DataFrame:
    """Distinct pairs of a rated user and a rated movie that the user has not rated (as
    held-out pairs are: Surprise counts a user's own rating of the pair among its
    neighbours, the project does not)."""
    rng = np.random.default_rng(seed)
    pairs = pd.DataFrame(
        {
            "user_id": rng.choice(ratings["userId"].unique(), n_pairs),
            "movie_id": rng.choice(ratings["movieId"].unique(), n_pairs),
        }
    ).drop_duplicates(ignore_index=True)
    rated = pd.MultiIndex.from_frame(ratings[["userId", "movieId"]])
    return pairs[~pd.MultiIndex.from_frame(pairs).isin(rated)].reset_index(drop=True)


def compare(
    rec: Recommender, trainset: Any, pairs: pd.DataFrame, model: str, repeats: int
) -> dict[str, Any]:
    row = read_models(rec)[model]
    ours_s, ours = timed(lambda: rec.predict(pairs, model=model), repeats)
    algo = SURPRISE_CLASSES[row.algorithm](**row.surprise_kwargs())
    fit_s, _ = timed(lambda: algo.fit(trainset), repeats)
    testset = [(int(u), int(m), 0.0) for u, m in pairs.itertuples(index=False)]
    predict_s, predictions = timed(lambda: algo.test(testset), repeats)
    theirs = pd.DataFrame(
        [(p.uid, p.iid, p.est) for p in predictions], columns=["user_id", "movie_id", "surprise"]
    )
    both = ours.merge(theirs, on=["user_id", "movie_id"], validate="one_to_one")
    return {
        "model": model,
        "surprise": row.surprise_call(),
        "pairs": len(both),
        "project_s": ours_s,
        "surprise_fit_s": fit_s,
        "surprise_predict_s": predict_s,
        "ratio_to_predict": ours_s / predict_s,
        "ratio_to_fit_predict": ours_s / (fit_s + predict_s),
        "max_abs_difference": float((both["predicted_rating"] - both["surprise"]).abs().max()),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    ratings = pd.read_csv(args.data / "ratings.csv")
    pairs = draw_pairs(ratings, args.pairs, args.seed)
    reader = Reader(rating_scale=RATING_SCALE)
    trainset = Dataset.load_from_df(
        ratings[["userId", "movieId", "rating"]], reader
    ).build_full_trainset()
    folder = Path(tempfile.mkdtemp(prefix="bench_predict_"))
    try:
        progress(f"building {args.data}")
        with Recommender(folder / "recsys.duckdb") as rec:
            rec.build(args.data)
        with Recommender(folder / "recsys.duckdb", read_only=True) as rec:
            models = []
            for model in args.models:
                progress(f"{model}: {len(pairs)} pairs")
                models.append(compare(rec, trainset, pairs, model, args.repeats))
            machine = machine_info(rec)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {
        "data": str(args.data),
        "pairs": len(pairs),
        "seed": args.seed,
        "repeats": args.repeats,
        "target_ratio": TARGET_RATIO,
        "machine": machine,
        "models": models,
    }


def markdown_report(result: dict[str, Any]) -> str:
    header = [
        "model",
        "Surprise",
        "project s",
        "Surprise predict s",
        "Surprise fit s",
        "project / predict",
        "project / (fit + predict)",
        "max abs diff",
    ]
    rows = [
        [
            m["model"],
            f"`{m['surprise']}`",
            f"{m['project_s']:.3f}",
            f"{m['surprise_predict_s']:.3f}",
            f"{m['surprise_fit_s']:.3f}",
            f"{m['ratio_to_predict']:.2f}",
            f"{m['ratio_to_fit_predict']:.2f}",
            f"{m['max_abs_difference']:.1e}",
        ]
        for m in result["models"]
    ]
    return (
        f"# Predicting {result['pairs']} pairs of {Path(result['data']).name} "
        f"(seed {result['seed']}, medians of {result['repeats']})\n\n"
        + markdown_table(header, rows)
        + "\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--pairs", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--models", nargs="+", default=DEFAULT_MODELS)
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "predict_ml-latest-small.json")
    args = parser.parse_args(argv)
    result = run(args)
    report = markdown_report(result)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    args.out.with_suffix(".md").write_text(report)
    print(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
