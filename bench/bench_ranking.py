"""Top-N ranking on ml-latest-small: the ranking methods of ``ranking_models``, their
settings chosen by nested validation, beside EASE computed in numpy on the same split.

Run from the repository root:

    PYTHONPATH=. python bench/bench_ranking.py

1. The outer split is the project's holdout split (seed 42: a seeded 20% of each user's
   ratings held out), made by the main database's ``holdout_split`` view.
2. Validation: a database is built on the outer train part alone, every configuration of
   :data:`GRID` becomes a row of its ``ranking_models`` and is scored by ``evaluate`` on
   that database's own holdout split (a seeded 20% of each user's train ratings). Each
   algorithm keeps its configuration of best validation NDCG@10 (ties: the name). The
   outer test ratings are never read here.
3. Test: the main database's ``ranking_models`` rows take the chosen settings, and
   ``evaluate("holdout")`` scores them with item_based and popularity at k = 1..20.
4. EASE (Steck 2019; closed form, lambda 250, on the 0/1 train matrix, dense numpy
   inverse) ranks the same train part; its lists are scored by the same metric views
   (written to the main database's eval tables as method ``ease_reference``).

Markdown to stdout and to ``bench/results/ranking_<data>.md``, every number to the JSON
beside it, progress to stderr.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import platform
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
from bench_build import DEFAULT_DATA, RESULTS_DIR, progress

from recsys_duck import Recommender

#: The configurations tried per algorithm (columns of ranking_models).
GRID: dict[str, list[dict[str, Any]]] = {
    "item_knn": [
        {"neighbors": k, "shrinkage": h, "normalize": True, "rating_values": v}
        for k, h, v in itertools.product((20, 50, 100), (10, 50, 100), (False, True))
    ],
    "rp3beta": [
        {"neighbors": k, "alpha": a, "beta": b, "normalize": True}
        for k, a, b in itertools.product((100, 200), (0.6, 1.0), (0.3, 0.5))
    ],
    "item_ridge": [
        {"neighbors": k, "l2": lam, "steps": s}
        for k, lam, s in itertools.product((50, 100), (100, 250, 500), (4, 8))
    ],
}
SETTINGS = ("neighbors", "shrinkage", "normalize", "rating_values", "alpha", "beta", "l2", "steps")
EASE_L2 = 250.0
CUTOFFS = (10, 20)
METRICS = (
    "precision_at_k",
    "recall_at_k",
    "ndcg_at_k",
    "map_at_k",
    "hit_rate_at_k",
    "catalog_coverage_at_k",
)


def config_name(algorithm: str, config: dict[str, Any]) -> str:
    return algorithm + "".join(f"_{key}{config[key]}".lower() for key in sorted(config))


def write_train_part(data_dir: Path, train: pd.DataFrame, folder: Path) -> None:
    """A MovieLens folder holding the train ratings and the other files as they are."""
    train.rename(columns={"user_id": "userId", "movie_id": "movieId", "rated_at": "timestamp"})[
        ["userId", "movieId", "rating", "timestamp"]
    ].to_csv(folder / "ratings.csv", index=False)
    for name in ("movies.csv", "tags.csv", "links.csv"):
        if (data_dir / name).is_file():
            shutil.copyfile(data_dir / name, folder / name)


def set_models(path: Path, rows: dict[str, tuple[str, dict[str, Any]]]) -> None:
    """Make ``rows`` (model -> algorithm, settings) the ranking_models table of the
    database file ``path`` (no Recommender has it open: they read it read-only)."""
    with duckdb.connect(str(path)) as con:
        con.execute("delete from ranking_models")
        for model, (algorithm, config) in rows.items():
            columns = ["model", "algorithm", *config]
            marks = ", ".join("?" for _ in columns)
            con.execute(
                f"insert into ranking_models ({', '.join(columns)}) values ({marks})",  # noqa: S608
                [model, algorithm, *config.values()],
            )


def quiet(path: Path) -> Recommender:
    return Recommender(path, progress=lambda update: None)


def validate(data_dir: Path, train: pd.DataFrame) -> dict[str, Any]:
    """Score every grid configuration on a validation split of the train part."""
    grid = {
        config_name(algorithm, config): (algorithm, config)
        for algorithm, configs in GRID.items()
        for config in configs
    }
    with tempfile.TemporaryDirectory(prefix="recsys-duck-ranking-") as tmp:
        folder = Path(tmp) / "train"
        folder.mkdir()
        write_train_part(data_dir, train, folder)
        path = Path(tmp) / "validation.duckdb"
        start = time.perf_counter()
        with quiet(path) as inner:
            inner.build(folder)
        build_seconds = time.perf_counter() - start
        set_models(path, grid)
        start = time.perf_counter()
        with quiet(path) as inner:
            inner.evaluate("holdout", models=list(grid))
            scores = inner.sql(
                "select method, ndcg_at_k from eval_ranking_metrics "
                "where split = 'holdout' and k = 10"
            )
        evaluate_seconds = time.perf_counter() - start
    ndcg = dict(zip(scores["method"], scores["ndcg_at_k"].astype(float), strict=True))
    chosen = {}
    for algorithm in GRID:
        names = [name for name, (a, _) in grid.items() if a == algorithm]
        best = max(names, key=lambda name: (ndcg[name], name))
        chosen[algorithm] = {"name": best, "settings": grid[best][1], "validation_ndcg": ndcg[best]}
        progress(f"validation: {algorithm} chose {best} (NDCG@10 {ndcg[best]:.4f})")
    return {
        "build_seconds": build_seconds,
        "evaluate_seconds": evaluate_seconds,
        "validation_ndcg": ndcg,
        "chosen": chosen,
    }


def ease_lists(train: pd.DataFrame, n: int, l2: float) -> pd.DataFrame:
    """Each train user's top ``n`` unrated movies by EASE on the 0/1 train matrix:
    B = I - P / diag(P) off the diagonal, P = (X'X + l2 I)^-1; ties by smaller id."""
    users = np.sort(train["user_id"].unique())
    movies = np.sort(train["movie_id"].unique())
    rows = np.searchsorted(users, train["user_id"].to_numpy())
    cols = np.searchsorted(movies, train["movie_id"].to_numpy())
    x = np.zeros((len(users), len(movies)))
    x[rows, cols] = 1.0
    gram = x.T @ x
    gram[np.diag_indices_from(gram)] += l2
    p = np.linalg.inv(gram)
    weights = -p / np.diag(p)
    np.fill_diagonal(weights, 0.0)
    scores = x @ weights
    scores[x > 0] = -np.inf
    out = []
    for u in range(len(users)):
        order = np.lexsort((movies, -np.round(scores[u], 10)))[:n]
        out.extend((int(users[u]), rank + 1, int(movies[j])) for rank, j in enumerate(order))
    return pd.DataFrame(out, columns=["user_id", "rank", "movie_id"])


def run(args: argparse.Namespace) -> dict[str, Any]:
    data_dir: Path = args.data.resolve()
    with tempfile.TemporaryDirectory(prefix="recsys-duck-ranking-main-") as tmp:
        path = Path(tmp) / "main.duckdb"
        progress(f"building on {data_dir}")
        with quiet(path) as rec:
            rec.build(data_dir)
            split = rec.sql("select * from holdout_split")
        train = split[~split["is_test"]]
        progress(f"validation grid of {sum(map(len, GRID.values()))} on {len(train)} ratings")
        validation = validate(data_dir, train)
        set_models(path, {a: (a, c["settings"]) for a, c in validation["chosen"].items()})
        progress("test: evaluating the chosen settings on the outer holdout")
        start = time.perf_counter()
        with quiet(path) as rec:
            rec.evaluate("holdout", models=["item_based", "popularity", *GRID])
        test_seconds = time.perf_counter() - start
        progress(f"EASE, lambda {EASE_L2}, dense numpy")
        start = time.perf_counter()
        ease = ease_lists(train, max(CUTOFFS), EASE_L2)
        ease_seconds = time.perf_counter() - start
        with duckdb.connect(str(path)) as con:
            con.register("ease", ease)
            con.execute(
                "insert into eval_recommendations select 'holdout', 1, 'ease_reference', "
                "user_id, rank, movie_id from ease"
            )
            con.execute("insert into eval_ranked_methods values ('holdout', 1, 'ease_reference')")
            metrics = con.execute(
                "select * from eval_ranking_metrics where split = 'holdout' "
                "and k in (10, 20) order by method, k"
            ).df()
            versions = con.execute("select version()").fetchone()
    test = {
        f"{row.method}@{int(row.k)}": {m: float(getattr(row, m)) for m in METRICS}
        for row in metrics.itertuples(index=False)
    }
    return {
        "dataset": data_dir.name,
        "machine": {
            "nproc": __import__("os").cpu_count(),
            "python": platform.python_version(),
            "duckdb": versions[0] if versions else None,
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        },
        "grid": GRID,
        "validation": validation,
        "test": test,
        "seconds": {"test_evaluate": test_seconds, "ease": ease_seconds},
    }


def markdown(result: dict[str, Any]) -> str:
    chosen = result["validation"]["chosen"]
    lines = [
        f"## Top-N ranking on {result['dataset']}: holdout split, settings by nested validation",
        "",
        f"{result['machine']['nproc']} CPUs, DuckDB {result['machine']['duckdb']}, "
        f"{result['machine']['date']}. Validation: a database built on the outer train part "
        "alone, every configuration scored on its own holdout split; test: the outer "
        "holdout (seed 42, 20% of each user's ratings), relevance >= 4.0, scored by the "
        "project's metric views. EASE: closed form, lambda 250, dense numpy inverse on "
        f"the same train part ({result['seconds']['ease']:.0f} s).",
        "",
    ]
    for k in CUTOFFS:
        lines += [
            f"| method (k = {k}) | validation NDCG@10 | "
            + " | ".join(METRICS).replace("_at_k", f"@{k}")
            + " |",
            "|---" * (len(METRICS) + 2) + "|",
        ]
        methods = sorted({key.split("@")[0] for key in result["test"]})
        for method in methods:
            row = result["test"].get(f"{method}@{k}")
            if row is None:
                continue
            valid = chosen.get(method, {}).get("validation_ndcg")
            lines.append(
                f"| {method} | {'' if valid is None else f'{valid:.4f}'} | "
                + " | ".join(f"{row[m]:.4f}" for m in METRICS)
                + " |"
            )
        lines.append("")
    lines += ["Chosen settings:", ""]
    for algorithm, c in chosen.items():
        lines.append(f"* {algorithm}: {c['settings']} (grid: {len(result['grid'][algorithm])})")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    result = run(args)
    out = args.out or RESULTS_DIR / f"ranking_{args.data.resolve().name}.json"
    out.write_text(json.dumps(result, indent=1, default=str) + "\n", encoding="utf-8")
    text = markdown(result)
    out.with_suffix(".md").write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
