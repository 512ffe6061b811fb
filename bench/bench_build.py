"""Benchmark the full build against a scipy.sparse reference measured in the same run.

Run from the repository root:

    PYTHONPATH=. python bench/bench_build.py --data ../shared/data/ml-latest-small

It measures, on one machine and in one process:

1. ``Recommender.build`` (load + every layer), ``--repeats`` times, each into a fresh
   temporary database file; the median wall time and the steps of the median run.
2. A reference: the same item-item and user-user cosine similarities and top-k
   neighbour lists computed with scipy.sparse (CSV read included), interleaved with the
   builds; the ratios of the build (and of its neighbour tables, each re-run alone on
   the built database) to it.
3. The latency of ``Recommender.recommend`` per method for users drawn with a fixed seed.

A markdown table goes to stdout, progress to stderr, everything to a JSON file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

import duckdb
import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy
import scipy.sparse as sp

from bench.references import Neighbors, content_top_k, ranking_weights, top_k_neighbors
from recsys_duck import Recommender, pipeline
from recsys_duck.params import BuildParams, Method
from tests.reference import cosine_of_columns, rating_matrix

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data" / "ml-latest-small"
RESULTS_DIR = REPO_ROOT / "bench" / "results"
# The build steps comparable to the scipy reference (item and user top-k from ratings).
SIMILARITY_STEPS = ("pair_sums", "item_neighbors", "user_neighbors")
WARMUP_QUERIES = 20
NEIGHBOR_SQL = {
    "item_neighbors": (
        "select movie_id as row_id, neighbor_id, similarity from item_neighbors "
        "order by movie_id, rank"
    ),
    "user_neighbors": (
        "select user_id as row_id, neighbor_id, similarity from user_neighbors "
        "order by user_id, rank"
    ),
}

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class BuildRun:
    """One timed ``Recommender.build`` into a fresh database file."""

    wall_seconds: float
    steps: dict[str, float]


@dataclass(frozen=True)
class ReferenceRun:
    """One timed scipy.sparse reference: seconds per part and the neighbours found."""

    parts: dict[str, float]
    item: Neighbors
    user: Neighbors
    weights: dict[str, Neighbors]

    @property
    def wall_seconds(self) -> float:
        return sum(self.parts.values())


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def open_quiet(path: Path) -> Recommender:
    """Open a database with DuckDB's progress bar off, so stdout holds only the results."""
    rec = Recommender(path)
    rec.con.execute("set enable_progress_bar = false")
    return rec


def time_build(data_dir: Path, db_path: Path) -> BuildRun:
    with open_quiet(db_path) as rec:
        start = time.perf_counter()
        report = rec.build(data_dir)
        wall = time.perf_counter() - start
    return BuildRun(wall_seconds=wall, steps=dict(report.seconds))


def scipy_reference(ratings_csv: Path, k: int, db_path: Path) -> ReferenceRun:
    """Item-item and user-user cosine top-k with scipy.sparse, timed from the CSV read,
    the content top-k with dense numpy over the built database's content_features, and
    the ranking weights of every row of its ranking_models with scipy and numpy
    (:func:`bench.references.ranking_weights`).

    With X the sparse user x movie rating matrix (missing ratings are 0), the cosines of
    its columns (items) and of its rows (users), as the tests compute them
    (``tests/reference.py``): the same cosines as sql/30_similarity. Content:
    :func:`bench.references.content_top_k` (``X @ X.T`` of the stacked TF-IDF vectors,
    top k by argpartition), timed from the fetched rows of content_features.
    """
    start = time.perf_counter()
    frame = pd.read_csv(ratings_csv, usecols=["userId", "movieId", "rating"])
    matrix = rating_matrix(frame)
    read_done = time.perf_counter()

    item = top_k_neighbors(sp.csr_array(cosine_of_columns(matrix.x)), matrix.movie_ids, k)
    item_done = time.perf_counter()

    user = top_k_neighbors(sp.csr_array(cosine_of_columns(matrix.x.T)), matrix.user_ids, k)
    user_done = time.perf_counter()

    with duckdb.connect(str(db_path), read_only=True) as con:
        features = con.execute("select movie_id, feature, value from content_features")
        columns = features.fetchnumpy()
        models = con.execute("select * from ranking_models order by model").df()
    content_start = time.perf_counter()
    content_top_k(columns["movie_id"], columns["feature"], columns["value"], k)
    content_done = time.perf_counter()

    x = sp.csr_array(matrix.x)
    weights = {
        str(model["model"]): ranking_weights(x, matrix.movie_ids.astype(np.int64), dict(model))
        for _, model in models.iterrows()
    }
    weights_done = time.perf_counter()

    parts = {
        "read_csv_and_matrix": read_done - start,
        "item_item": item_done - read_done,
        "user_user": user_done - item_done,
        "content": content_done - content_start,
        "ranking_weights": weights_done - content_done,
    }
    return ReferenceRun(parts=parts, item=item, user=user, weights=weights)


def agreement(rec: Recommender, table: str, reference: Neighbors) -> dict[str, float | None]:
    """How far a SQL neighbour table is from the reference's lists.

    ``pair_overlap`` is the share of the reference's (row, neighbour) pairs the table
    holds; it falls short of 1 where similarities tie up to rounding at the k-th place.
    ``max_abs_similarity_difference`` compares the similarity at each (row, rank), which
    such ties do not change; it is None if the two hold different numbers of rows.
    """
    sql = rec.con.execute(NEIGHBOR_SQL[table]).fetchnumpy()
    row_id = np.asarray(sql["row_id"], dtype=np.int64)
    neighbor_id = np.asarray(sql["neighbor_id"], dtype=np.int64)
    similarity = np.asarray(sql["similarity"], dtype=np.float64)
    overlap = np.isin(
        reference.row_id << 32 | reference.neighbor_id, row_id << 32 | neighbor_id
    ).mean()
    same_rows = np.array_equal(row_id, reference.row_id)
    return {
        "pair_overlap": float(overlap),
        "max_abs_similarity_difference": (
            float(np.abs(similarity - reference.similarity).max()) if same_rows else None
        ),
    }


def weights_agreement(rec: Recommender, model: str, reference: Neighbors) -> dict[str, float]:
    """How far a model's rows of item_weights are from the reference's: the share of
    the reference's (movie, neighbour) pairs that item_weights holds (short of 1 where
    values tie at the k-th place up to rounding), the share of item_weights' pairs that
    the reference holds, and the largest weight difference on the pairs both hold."""
    sql = rec.con.execute(
        "select movie_id, neighbor_id, weight from item_weights where model = ?", [model]
    ).fetchnumpy()
    sql_key = np.asarray(sql["movie_id"], dtype=np.int64) << 32 | np.asarray(
        sql["neighbor_id"], dtype=np.int64
    )
    ref_key = reference.row_id << 32 | reference.neighbor_id
    common, in_sql, in_ref = np.intersect1d(sql_key, ref_key, return_indices=True)
    difference = np.abs(np.asarray(sql["weight"])[in_sql] - reference.similarity[in_ref])
    return {
        "reference_pairs_in_sql": common.size / max(ref_key.size, 1),
        "sql_pairs_in_reference": common.size / max(sql_key.size, 1),
        "max_abs_weight_difference": float(difference.max()) if difference.size else 0.0,
    }


def time_neighbor_files(db_path: Path, repeats: int) -> dict[str, list[float]]:
    """Compute each neighbour table again on a built database, ``repeats`` times, with
    the plan's steps for it (:func:`recsys_duck.pipeline.neighbor_scope`: the item and
    user tables with the pair sums they read), as the build runs them.

    A file-backed Recommender only reads (writes go through a new file), so the
    re-runs use a plain read-write connection of their own.
    """
    runs: dict[str, list[float]] = {}
    with duckdb.connect(str(db_path)) as con:
        con.execute("set enable_progress_bar = false")
        for kind, table in pipeline.NEIGHBOR_TABLES.items():
            runs[table] = []
            for _ in range(repeats):
                start = time.perf_counter()
                pipeline.run(con, pipeline.neighbor_scope(kind, autocommit=True))
                runs[table].append(time.perf_counter() - start)
            progress(f"re-ran {table}: {median(runs[table]):.2f} s")
    return runs


def recommend_latency(
    rec: Recommender, queries: int, seed: int, methods: tuple[str, ...] = get_args(Method)
) -> dict[str, dict[str, float]]:
    """p50, p99 and mean milliseconds of ``rec.recommend`` per method, after a warm-up."""
    user_ids = rec.con.execute(
        "select distinct user_id from ratings order by user_id"
    ).fetchnumpy()["user_id"]
    users = np.random.default_rng(seed).choice(user_ids, size=WARMUP_QUERIES + queries)
    latency: dict[str, dict[str, float]] = {}
    for method in methods:
        for user_id in users[:WARMUP_QUERIES]:
            rec.recommend(int(user_id), n=10, method=method)
        timings = np.empty(queries)
        for i, user_id in enumerate(users[WARMUP_QUERIES:]):
            start = time.perf_counter()
            rec.recommend(int(user_id), n=10, method=method)
            timings[i] = time.perf_counter() - start
        ms = timings * 1000
        latency[method] = {
            "p50_ms": float(np.percentile(ms, 50)),
            "p99_ms": float(np.percentile(ms, 99)),
            "mean_ms": float(ms.mean()),
        }
        progress(f"recommend {method}: p50 {latency[method]['p50_ms']:.2f} ms")
    return latency


def median(values: list[float]) -> float:
    """The median as one observed value (the lower middle one for an even count)."""
    return statistics.median_low(values)


def machine_info(rec: Recommender) -> dict[str, Any]:
    threads, memory_limit = rec.con.execute(
        "select current_setting('threads'), current_setting('memory_limit')"
    ).fetchone() or (None, None)
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "duckdb_threads": threads,
        "duckdb_memory_limit": memory_limit,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "pandas": pd.__version__,
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def build_table(result: dict[str, Any]) -> str:
    build, reference, ratios = result["build"], result["reference"], result["ratios"]
    rerun = {name: r["median_seconds"] for name, r in result["neighbors_rerun"].items()}
    steps = build["median_run_steps"]
    rows = [
        [
            "reference (scipy read CSV + item + user top-k, numpy content top-k, "
            "scipy/numpy ranking weights)",
            f"{reference['median_wall_seconds']:.3f}",
            "1.00",
            "",
        ]
    ]
    rows += [
        [f"  reference: {part}", f"{s:.3f}", "", ""]
        for part, s in reference["median_run_parts"].items()
    ]
    rows.append(
        [
            "build, total wall",
            f"{build['median_wall_seconds']:.3f}",
            f"{ratios['build_over_reference']:.1f}",
            "reference (item + user + content + ranking weights)",
        ]
    )
    rows.append(
        [
            "build, total wall",
            f"{build['median_wall_seconds']:.3f}",
            f"{ratios['build_over_reference_without_ranking_weights']:.1f}",
            "reference (item + user + content)",
        ]
    )
    rows.append(
        [
            "build without item_weights",
            f"{build['median_wall_seconds'] - steps.get('item_weights', 0.0):.3f}",
            f"{ratios['build_without_ranking_weights_over_reference_without']:.1f}",
            "reference (item + user + content)",
        ]
    )
    rows.append(
        [
            "build, total wall",
            f"{build['median_wall_seconds']:.3f}",
            f"{ratios['build_over_item_user_reference']:.1f}",
            "scipy reference (item + user only)",
        ]
    )
    rows += [[f"  build: {step}", f"{s:.3f}", "", ""] for step, s in steps.items()]
    rows += [
        [
            "build: " + " + ".join(SIMILARITY_STEPS),
            f"{sum(steps[step] for step in SIMILARITY_STEPS):.3f}",
            f"{ratios['similarity_steps_over_reference']:.1f}",
            "scipy reference (item + user only)",
        ],
        [
            "re-run: item_neighbors",
            f"{rerun['item_neighbors']:.3f}",
            f"{ratios['item_neighbors_over_reference_item']:.1f}",
            "scipy: item_item",
        ],
        [
            "re-run: user_neighbors",
            f"{rerun['user_neighbors']:.3f}",
            f"{ratios['user_neighbors_over_reference_user']:.1f}",
            "scipy: user_user",
        ],
        [
            "re-run: item_neighbors + user_neighbors",
            f"{rerun['item_neighbors'] + rerun['user_neighbors']:.3f}",
            f"{ratios['item_user_neighbors_over_reference']:.1f}",
            "scipy reference (item + user only)",
        ],
        [
            "build: item_weights",
            f"{steps.get('item_weights', 0.0):.3f}",
            f"{ratios['item_weights_over_reference_ranking_weights']:.1f}",
            "scipy/numpy: ranking weights",
        ],
        [
            "re-run: content_neighbors",
            f"{rerun['content_neighbors']:.3f}",
            f"{ratios['content_neighbors_over_reference_content']:.1f}",
            "numpy: content",
        ],
    ]
    return markdown_table(["step", "wall s", "ratio", "against"], rows)


def latency_table(latency: dict[str, dict[str, float]]) -> str:
    rows = [
        [method, f"{t['p50_ms']:.2f}", f"{t['p99_ms']:.2f}", f"{t['mean_ms']:.2f}"]
        for method, t in latency.items()
    ]
    return markdown_table(["method", "p50 ms", "p99 ms", "mean ms"], rows)


def run(data_dir: Path, repeats: int, queries: int, seed: int) -> dict[str, Any]:
    k = BuildParams().k
    builds: list[BuildRun] = []
    references: list[ReferenceRun] = []
    with tempfile.TemporaryDirectory(prefix="recsys-duck-bench-") as tmp:
        db_paths = [Path(tmp) / f"build_{i}.duckdb" for i in range(repeats)]
        for i, db_path in enumerate(db_paths):
            builds.append(time_build(data_dir, db_path))
            progress(f"build {i + 1}/{repeats}: {builds[-1].wall_seconds:.2f} s")
            references.append(scipy_reference(data_dir / "ratings.csv", k, db_path))
            progress(f"scipy reference {i + 1}/{repeats}: {references[-1].wall_seconds:.2f} s")
        database_bytes = db_paths[-1].stat().st_size

        with open_quiet(db_paths[-1]) as rec:
            n_users, n_movies, n_ratings = rec.con.execute(
                "select n_users, n_movies, n_ratings from rating_matrix_stats"
            ).fetchone() or (0, 0, 0)
            agreements = {
                "item_neighbors": agreement(rec, "item_neighbors", references[-1].item),
                "user_neighbors": agreement(rec, "user_neighbors", references[-1].user),
            }
            agreements |= {
                f"item_weights {model}": weights_agreement(rec, model, weights)
                for model, weights in references[-1].weights.items()
            }
            latency = recommend_latency(rec, queries, seed)
            machine = machine_info(rec)
        reruns = time_neighbor_files(db_paths[-1], repeats)

    build_wall = median([b.wall_seconds for b in builds])
    median_build = next(b for b in builds if b.wall_seconds == build_wall)
    ref_wall = median([r.wall_seconds for r in references])
    median_ref = next(r for r in references if r.wall_seconds == ref_wall)
    rerun_medians = {name: median(runs) for name, runs in reruns.items()}
    similarity_steps = sum(median_build.steps[step] for step in SIMILARITY_STEPS)
    # The part of the reference that the item and user steps compare with, and the part
    # that the build had before the ranking weights (issue 18's reference).
    item_user_ref = ref_wall - median_ref.parts["content"] - median_ref.parts["ranking_weights"]
    without_weights_ref = ref_wall - median_ref.parts["ranking_weights"]
    build_without_weights = build_wall - median_build.steps.get("item_weights", 0.0)
    return {
        "dataset": {
            "path": str(data_dir),
            "n_users": n_users,
            "n_movies": n_movies,
            "n_ratings": n_ratings,
        },
        "machine": machine,
        "settings": {"repeats": repeats, "queries": queries, "seed": seed, "k": k},
        "build": {
            "wall_seconds": [b.wall_seconds for b in builds],
            "median_wall_seconds": build_wall,
            "median_run_steps": median_build.steps,
            "median_run_steps_total": sum(median_build.steps.values()),
            "database_bytes": database_bytes,
        },
        "reference": {
            "wall_seconds": [r.wall_seconds for r in references],
            "median_wall_seconds": ref_wall,
            "median_run_parts": median_ref.parts,
            "agreement_with_sql": agreements,
        },
        "neighbors_rerun": {
            name: {"seconds": runs, "median_seconds": rerun_medians[name]}
            for name, runs in reruns.items()
        },
        "ratios": {
            "build_over_reference": build_wall / ref_wall,
            "build_over_reference_without_ranking_weights": build_wall / without_weights_ref,
            "build_without_ranking_weights_over_reference_without": build_without_weights
            / without_weights_ref,
            "item_weights_over_reference_ranking_weights": median_build.steps.get(
                "item_weights", 0.0
            )
            / median_ref.parts["ranking_weights"],
            "build_over_item_user_reference": build_wall / item_user_ref,
            "content_neighbors_over_reference_content": rerun_medians["content_neighbors"]
            / median_ref.parts["content"],
            "similarity_steps_over_reference": similarity_steps / item_user_ref,
            "item_user_neighbors_over_reference": (
                rerun_medians["item_neighbors"] + rerun_medians["user_neighbors"]
            )
            / item_user_ref,
            "item_neighbors_over_reference_item": rerun_medians["item_neighbors"]
            / median_ref.parts["item_item"],
            "user_neighbors_over_reference_user": rerun_medians["user_neighbors"]
            / median_ref.parts["user_user"],
        },
        "recommend_latency": latency,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="example: PYTHONPATH=. python bench/bench_build.py --repeats 3 --queries 1000",
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="MovieLens folder")
    parser.add_argument("--repeats", type=int, default=3, help="timed builds and references")
    parser.add_argument("--queries", type=int, default=1000, help="timed queries per method")
    parser.add_argument("--seed", type=int, default=42, help="seed of the queried users")
    parser.add_argument(
        "--out", type=Path, help="JSON file (default bench/results/build_<data>.json)"
    )
    args = parser.parse_args(argv)
    data_dir = args.data.resolve()
    if not (data_dir / "ratings.csv").is_file():
        print(f"error: no ratings.csv in {data_dir}; pass --data", file=sys.stderr)
        return 1
    if args.repeats < 1 or args.queries < 1:
        print("error: --repeats and --queries must be at least 1", file=sys.stderr)
        return 1

    started = time.perf_counter()
    load_at_start = os.getloadavg()
    result = run(data_dir, args.repeats, args.queries, args.seed)
    result["machine"]["load_average_1_5_15_min"] = {
        "start": load_at_start,
        "end": os.getloadavg(),
    }
    result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["benchmark_seconds"] = time.perf_counter() - started

    out = args.out or RESULTS_DIR / f"build_{data_dir.name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")

    dataset, machine = result["dataset"], result["machine"]
    print(
        f"## recsys-duck build on {data_dir.name} ({dataset['n_ratings']} ratings, "
        f"{dataset['n_users']} users, {dataset['n_movies']} movies)\n\n"
        f"nproc {machine['nproc']}, DuckDB {machine['duckdb']} "
        f"({machine['duckdb_threads']} threads), Python {machine['python']}, "
        f"{machine['date']}; median of {args.repeats} runs; 1-min load average "
        f"{machine['load_average_1_5_15_min']['start'][0]:.2f} at start, "
        f"{machine['load_average_1_5_15_min']['end'][0]:.2f} at end\n"
    )
    print(build_table(result) + "\n")
    print(f"recommend latency, {args.queries} queries per method after {WARMUP_QUERIES} warm-up:\n")
    print(latency_table(result["recommend_latency"]) + "\n")
    for table, agreed in result["reference"]["agreement_with_sql"].items():
        if table.startswith("item_weights"):
            print(
                f"{table} vs scipy/numpy: {agreed['reference_pairs_in_sql']:.4%} of the "
                f"reference's pairs in SQL, {agreed['sql_pairs_in_reference']:.4%} of SQL's "
                f"in the reference, max |weight difference| "
                f"{agreed['max_abs_weight_difference']:.1e} on shared pairs"
            )
            continue
        difference = agreed["max_abs_similarity_difference"]
        by_rank = "n/a (row counts differ)" if difference is None else f"{difference:.1e}"
        print(
            f"{table} vs scipy: {agreed['pair_overlap']:.4%} of pairs shared, "
            f"max |similarity difference| by rank {by_rank}"
        )
    print(
        f"peak RSS {result['peak_rss_mib']:.0f} MiB; "
        f"benchmark took {result['benchmark_seconds']:.0f} s; written to {out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
