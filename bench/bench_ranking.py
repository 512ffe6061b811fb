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

With ``--split kfold``, the outer split is the project's ``kfold_split`` (5 seeded
folds) instead: steps 2-4 run once per fold, on that fold's train part (validation on its
own holdout split, so each fold chooses its own settings; ``--grid small`` narrows the
grid to the ``ranking_grid`` a build seeds, to keep five validations within half an
hour), and its test part is scored as the 'given' split (train and test files). The
report gives every fold and the mean and standard deviation over folds of every method
and metric.

Markdown to stdout and to ``bench/results/ranking_<data>[_kfold].md``, every number to
the JSON beside it, progress to stderr.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import os
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


def validate(
    data_dir: Path, train: pd.DataFrame, configs: dict[str, list[dict[str, Any]]]
) -> dict[str, Any]:
    """Score every configuration of ``configs`` on a validation split of the train part."""
    grid = {
        config_name(algorithm, config): (algorithm, config)
        for algorithm, algorithm_configs in configs.items()
        for config in algorithm_configs
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
    for algorithm in configs:
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


def machine(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    (version,) = con.execute("select version()").fetchone() or (None,)
    return {
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "duckdb": version,
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def score_ease(path: Path, split: str, train: pd.DataFrame) -> tuple[dict[str, Any], float]:
    """Rank ``train`` by EASE into the eval tables of the database file ``path`` (as
    method ``ease_reference`` of ``split``, fold 1, beside the methods just evaluated);
    returns every method's metrics at :data:`CUTOFFS` and the seconds EASE took."""
    progress(f"EASE, lambda {EASE_L2}, dense numpy")
    start = time.perf_counter()
    ease = ease_lists(train, max(CUTOFFS), EASE_L2)
    seconds = time.perf_counter() - start
    with duckdb.connect(str(path)) as con:
        con.register("ease", ease)
        con.execute(
            "insert into eval_recommendations select ?, 1, 'ease_reference', "
            "user_id, rank, movie_id from ease",
            [split],
        )
        con.execute("insert into eval_ranked_methods values (?, 1, 'ease_reference')", [split])
        metrics = con.execute(
            "select * from eval_ranking_metrics where split = ? and k in (10, 20) "
            "order by method, k",
            [split],
        ).df()
    test = {
        f"{row.method}@{int(row.k)}": {m: float(getattr(row, m)) for m in METRICS}
        for row in metrics.itertuples(index=False)
    }
    return test, seconds


def run(args: argparse.Namespace) -> dict[str, Any]:
    if args.split == "kfold":
        return run_kfold(args)
    data_dir: Path = args.data.resolve()
    with tempfile.TemporaryDirectory(prefix="recsys-duck-ranking-main-") as tmp:
        path = Path(tmp) / "main.duckdb"
        progress(f"building on {data_dir}")
        with quiet(path) as rec:
            rec.build(data_dir)
            split = rec.sql("select * from holdout_split")
        train = split[~split["is_test"]]
        progress(f"validation grid of {sum(map(len, GRID.values()))} on {len(train)} ratings")
        validation = validate(data_dir, train, GRID)
        set_models(path, {a: (a, c["settings"]) for a, c in validation["chosen"].items()})
        progress("test: evaluating the chosen settings on the outer holdout")
        start = time.perf_counter()
        with quiet(path) as rec:
            rec.evaluate("holdout", models=["item_based", "popularity", *GRID])
        test_seconds = time.perf_counter() - start
        test, ease_seconds = score_ease(path, "holdout", train)
        with duckdb.connect(str(path), read_only=True) as con:
            about = machine(con)
    return {
        "dataset": data_dir.name,
        "split": "holdout",
        "machine": about,
        "grid": GRID,
        "validation": validation,
        "test": test,
        "seconds": {"test_evaluate": test_seconds, "ease": ease_seconds},
    }


def seeded_grid(rec: Recommender) -> dict[str, list[dict[str, Any]]]:
    """The ``ranking_grid`` table a build seeds (what ``recsys-duck tune`` tries): a
    narrower grid around the full grid's choices, for the five validations of kfold."""
    rows = rec.sql("select * from ranking_grid order by all")
    return {
        algorithm: [
            {key: (value.item() if hasattr(value, "item") else value) for key, value in row.items()}
            for row in group.drop(columns="algorithm").to_dict("records")
        ]
        for algorithm, group in rows.groupby("algorithm", sort=False)
    }


def write_ratings(frame: pd.DataFrame, target: Path) -> None:
    frame.rename(columns={"user_id": "userId", "movie_id": "movieId", "rated_at": "timestamp"})[
        ["userId", "movieId", "rating", "timestamp"]
    ].to_csv(target, index=False)


def run_kfold(args: argparse.Namespace) -> dict[str, Any]:
    """Nested validation and test once per fold of the project's kfold split."""
    data_dir: Path = args.data.resolve()
    folds: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="recsys-duck-ranking-kfold-") as tmp:
        path = Path(tmp) / "main.duckdb"
        progress(f"building on {data_dir}")
        with quiet(path) as rec:
            rec.build(data_dir)
            split = rec.sql("select * from kfold_split")
            grid = seeded_grid(rec) if args.grid == "small" else GRID
        for fold in sorted(split["fold"].unique()):
            train, test_part = split[split["fold"] != fold], split[split["fold"] == fold]
            progress(f"fold {fold}: validation grid of {sum(map(len, grid.values()))}")
            validation = validate(data_dir, train, grid)
            set_models(path, {a: (a, c["settings"]) for a, c in validation["chosen"].items()})
            train_file, test_file = Path(tmp) / "train.csv", Path(tmp) / "test.csv"
            write_ratings(train, train_file)
            write_ratings(test_part, test_file)
            progress(f"fold {fold}: test of the chosen settings")
            start = time.perf_counter()
            with quiet(path) as rec:
                rec.evaluate(
                    "given",
                    models=["item_based", "popularity", *grid],
                    given=[(train_file, test_file)],
                )
            test_seconds = time.perf_counter() - start
            test, ease_seconds = score_ease(path, "given", train)
            folds.append(
                {
                    "fold": int(fold),
                    "validation": validation,
                    "test": test,
                    "seconds": {"test_evaluate": test_seconds, "ease": ease_seconds},
                }
            )
            ndcg = {k: v["ndcg_at_k"] for k, v in test.items() if k.endswith("@10")}
            progress(f"fold {fold}: NDCG@10 {json.dumps(ndcg)}")
        with duckdb.connect(str(path), read_only=True) as con:
            about = machine(con)
    return {
        "dataset": data_dir.name,
        "split": "kfold",
        "machine": about,
        "grid": grid,
        "folds": folds,
        "summary": summarize(folds),
    }


def summarize(folds: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean and sample standard deviation over folds of every method's metrics, and
    whether item_ridge is ahead of item_based in NDCG@10 on every fold."""
    keys = sorted(set.intersection(*(set(f["test"]) for f in folds)))
    stats = {
        key: {
            m: {
                "mean": float(np.mean([f["test"][key][m] for f in folds])),
                "std": float(np.std([f["test"][key][m] for f in folds], ddof=1)),
            }
            for m in METRICS
        }
        for key in keys
    }
    margins = [
        f["test"]["item_ridge@10"]["ndcg_at_k"] - f["test"]["item_based@10"]["ndcg_at_k"]
        for f in folds
    ]
    return {"metrics": stats, "ridge_minus_item_based_ndcg10": margins}


def table_header(k: int, first: list[str]) -> list[str]:
    """A markdown table's header: the ``first`` columns, then :data:`METRICS` at ``k``."""
    columns = [*first, *(m.replace("_at_k", f"@{k}") for m in METRICS)]
    return ["| " + " | ".join(columns) + " |", "|---" * len(columns) + "|"]


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
        lines += table_header(k, [f"method (k = {k})", "validation NDCG@10"])
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


def markdown_kfold(result: dict[str, Any]) -> str:
    folds = result["folds"]
    stats = result["summary"]["metrics"]
    methods = sorted({key.split("@")[0] for key in stats})
    lines = [
        f"## Top-N ranking on {result['dataset']}: {len(folds)}-fold split, settings by "
        "nested validation in each fold",
        "",
        f"{result['machine']['nproc']} CPUs, DuckDB {result['machine']['duckdb']}, "
        f"{result['machine']['date']}. Outer split: the project's kfold_split (seed 42). "
        "In each fold, validation on a database built on that fold's train part alone "
        "(its own holdout split) chooses each algorithm's settings from a grid of "
        f"{sum(map(len, result['grid'].values()))}; the fold's test part is scored by "
        "the project's metric views (relevance >= 4.0, train movies excluded). EASE: "
        "closed form, lambda 250, dense numpy inverse on each fold's train part.",
        "",
        "| NDCG@10 | " + " | ".join(f"fold {f['fold']}" for f in folds) + " | mean | std |",
        "|---" * (len(folds) + 3) + "|",
    ]
    for method in methods:
        values = [f["test"][f"{method}@10"]["ndcg_at_k"] for f in folds]
        summary = stats[f"{method}@10"]["ndcg_at_k"]
        lines.append(
            f"| {method} | "
            + " | ".join(f"{v:.4f}" for v in values)
            + f" | {summary['mean']:.4f} | {summary['std']:.4f} |"
        )
    margins = result["summary"]["ridge_minus_item_based_ndcg10"]
    lines += [
        "",
        "item_ridge minus item_based, NDCG@10, per fold: "
        + ", ".join(f"{m:+.4f}" for m in margins),
        "",
    ]
    for k in CUTOFFS:
        lines += table_header(k, [f"method (k = {k}), mean ± std over folds"])
        for method in methods:
            row = stats[f"{method}@{k}"]
            lines.append(
                f"| {method} | "
                + " | ".join(f"{row[m]['mean']:.4f} ± {row[m]['std']:.4f}" for m in METRICS)
                + " |"
            )
        lines.append("")
    lines += ["Chosen settings (validation NDCG@10):", ""]
    for f in folds:
        chosen = f["validation"]["chosen"]
        lines.append(
            f"* fold {f['fold']}: "
            + "; ".join(
                f"{a} {c['settings']} ({c['validation_ndcg']:.4f})" for a, c in chosen.items()
            )
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--split", choices=("holdout", "kfold"), default="holdout")
    parser.add_argument("--grid", choices=("full", "small"), default="full")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    result = run(args)
    suffix = "" if args.split == "holdout" else f"_{args.split}"
    out = args.out or RESULTS_DIR / f"ranking_{args.data.resolve().name}{suffix}.json"
    out.write_text(json.dumps(result, indent=1, default=str) + "\n", encoding="utf-8")
    text = markdown(result) if args.split == "holdout" else markdown_kfold(result)
    out.with_suffix(".md").write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
