"""Content neighbours against a dense numpy reference measured in the same run.

Run from the repository root:

    PYTHONPATH=. python bench/bench_content.py --datasets ml-latest-small,10M,25M

For each dataset, in this process: a database file holding the movies and tags
(ml-latest-small: its CSV files; a synthetic size of ``bench/synthetic.py``: every
movie id of the size, with the seeded genres of ``bench/bench_increment.py`` and the
seeded tags of :func:`bench.synthetic.seeded_tags`) and their TF-IDF terms
(:func:`recsys_duck.content.build_movie_terms`). Then ``--repeats`` times, interleaved:

1. ``content_neighbors`` the plan's way (:func:`recsys_duck.pipeline.neighbor_scope`:
   the content profiles, the similarity views, the batches);
2. the reference (up to ``--reference-max-movies`` movies): the dense numpy top-k over
   the same ``content_features`` (:func:`bench.references.content_top_k`: ``X @ X.T`` in
   blocks of rows, top 50 by ``np.argpartition``), timed from the fetched arrays.

Reported: median seconds of each and their ratio, the movies with features, the
content profiles, the batches, peak RSS; and the stored lists of ``--check-movies``
seeded movies against their exact ranking by dense numpy (:func:`check_sample`).
Markdown to stdout, everything to ``bench/results/content_<datasets>.json``.
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
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from bench.bench_increment import create_movies
from bench.references import content_top_k
from bench.synthetic import SIZES, seeded_tags
from recsys_duck import content, pipeline
from recsys_duck.loader import load_movielens
from recsys_duck.params import BuildParams, write_params
from recsys_duck.sql import apply_layers

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SMALL = REPO_ROOT.parent / "shared" / "data" / "ml-latest-small"
RESULTS_DIR = REPO_ROOT / "bench" / "results"


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def prepare(con: duckdb.DuckDBPyConnection, dataset: str, small: Path, seed: int) -> None:
    """Movies, tags and their TF-IDF terms of ``dataset`` in ``con``."""
    apply_layers(con, ["00_tables"])
    params = BuildParams()
    write_params(con, params)
    if dataset == "ml-latest-small":
        load_movielens(con, small, params)
    else:
        n_movies = SIZES[dataset].n_movies
        con.execute("create temp table r as select range + 1 as movie_id from range(?)", [n_movies])
        create_movies(con, seed)
        con.execute("insert into movies (movie_id, title, genres) select * from m")
        movie_id, tag = seeded_tags(np.arange(1, n_movies + 1), seed)
        tags = pd.DataFrame({"movie_id": movie_id, "tag": tag})
        tags["user_id"] = 1
        tags["tagged_at"] = pd.Timestamp("2000-01-01") + pd.to_timedelta(
            np.arange(len(tags)), unit="s"
        )
        con.register("seeded_tags", tags)
        con.execute(
            "insert into tags (user_id, movie_id, tag, tagged_at) "
            "select user_id, movie_id, tag, tagged_at from seeded_tags"
        )
        con.unregister("seeded_tags")
        con.execute("drop table r; drop table m; drop table g")
    content.build_movie_terms(con)
    # Every object the similarity layers read (the re-run skips the other neighbour kinds').
    apply_layers(con, ["10_staging", "20_stats", "25_baseline", "30_similarity", "40_neighbors"])


def time_content(con: duckdb.DuckDBPyConnection, memory_limit: str) -> tuple[float, dict[str, Any]]:
    start = time.perf_counter()
    report = pipeline.run(
        con, pipeline.neighbor_scope("content", autocommit=True, memory_limit=memory_limit)
    )
    return time.perf_counter() - start, {"steps": report.seconds, "batches": report.batches}


def time_reference(con: duckdb.DuckDBPyConnection, k: int) -> float:
    features = con.execute("select movie_id, feature, value from content_features").fetchnumpy()
    start = time.perf_counter()
    content_top_k(features["movie_id"], features["feature"], features["value"], k)
    return time.perf_counter() - start


def check_sample(con: duckdb.DuckDBPyConnection, n: int, seed: int) -> dict[str, Any]:
    """The stored lists of ``n`` movies drawn with ``seed`` against their exact ranking
    from dense numpy over content_features: cosine capped at 1 among the movies sharing
    a feature, ranked by (similarity to 12 places desc, smaller id), as in
    ``tests/test_content.py``; whether movie, rank, neighbour and n_common agree at every
    row, and the largest similarity difference."""
    k = int((con.execute("select neighbors_k from recsys_params").fetchone() or (50,))[0])
    features = con.execute("select movie_id, feature, value from content_features").fetchnumpy()
    ids, rows = np.unique(features["movie_id"], return_inverse=True)
    _, cols = np.unique(features["feature"], return_inverse=True)
    x = np.zeros((ids.size, int(cols.max()) + 1))
    x[rows, cols] = features["value"]
    norms = np.sqrt((x * x).sum(axis=1))
    chosen = np.sort(np.random.default_rng(seed).choice(ids.size, min(n, ids.size), False))
    n_common = (x[chosen] != 0).astype(np.float64) @ (x != 0).T.astype(np.float64)
    similarity = np.minimum((x[chosen] @ x.T) / np.outer(norms[chosen], norms), 1.0)
    key = np.trunc(similarity * 1e12 + 0.5).astype(np.int64) * 4194304 - ids[None, :]
    no_pair = np.iinfo(np.int64).min + 1
    key[n_common == 0] = no_pair
    key[np.arange(chosen.size), chosen] = no_pair
    top = np.argsort(-key, axis=1)[:, :k]
    at = np.repeat(np.arange(chosen.size), k), top.ravel()
    kept = key[at] > no_pair
    expected = {
        "movie_id": ids[chosen][at[0][kept]],
        "rank": np.tile(np.arange(1, k + 1), chosen.size)[kept],
        "neighbor_id": ids[at[1][kept]],
        "n_common": n_common[at][kept],
    }
    stored = con.execute(
        "select movie_id, rank, neighbor_id, n_common, similarity from content_neighbors "
        "where list_contains(?, movie_id) order by movie_id, rank",
        [ids[chosen].tolist()],
    ).fetchnumpy()
    same = len(stored["movie_id"]) == int(kept.sum()) and all(
        np.array_equal(np.asarray(stored[c]), v) for c, v in expected.items()
    )
    difference = np.abs(np.asarray(stored["similarity"]) - similarity[at][kept]) if same else None
    return {
        "movies": int(chosen.size),
        "rows": int(kept.sum()),
        "same_movie_rank_neighbor_n_common": bool(same),
        "max_abs_similarity_difference": None if difference is None else float(difference.max()),
    }


def counts(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    (n_movies, n_features, n_tags) = con.execute(
        "select count(distinct movie_id), count(*), (select count(*) from tags) "
        "from content_features"
    ).fetchone() or (0, 0, 0)
    has_profiles = con.execute(
        "select count(*) from duckdb_tables() where table_name = 'content_profiles'"
    ).fetchone()
    n_profiles = None
    if has_profiles and has_profiles[0]:
        (n_profiles,) = con.execute(
            "select count(distinct profile_id) from content_profiles"
        ).fetchone() or (None,)
    (n_rows,) = con.execute("select count(*) from content_neighbors").fetchone() or (0,)
    return {
        "movies_with_features": n_movies,
        "feature_rows": n_features,
        "tags": n_tags,
        "content_profiles": n_profiles,
        "content_neighbor_rows": n_rows,
    }


def run_dataset(
    dataset: str,
    small: Path,
    repeats: int,
    seed: int,
    memory_limit: str,
    max_reference: int,
    check_movies: int,
) -> dict[str, Any]:
    k = BuildParams().k
    with tempfile.TemporaryDirectory(prefix="recsys-duck-content-") as tmp:
        con = duckdb.connect(str(Path(tmp) / "content.duckdb"))
        con.execute("set enable_progress_bar = false")
        con.execute(f"set memory_limit = '{memory_limit}'")  # noqa: S608 - an option of ours
        start = time.perf_counter()
        prepare(con, dataset, small, seed)
        progress(f"{dataset}: movies, tags and TF-IDF in {time.perf_counter() - start:.1f} s")
        ours: list[float] = []
        details: list[dict[str, Any]] = []
        reference: list[float] = []
        for i in range(repeats):
            seconds, detail = time_content(con, memory_limit)
            ours.append(seconds)
            details.append(detail)
            progress(f"{dataset}: content_neighbors {i + 1}/{repeats}: {seconds:.2f} s")
            found = counts(con)
            if found["movies_with_features"] <= max_reference:
                reference.append(time_reference(con, k))
                progress(f"{dataset}: numpy reference {i + 1}/{repeats}: {reference[-1]:.2f} s")
        check = check_sample(con, check_movies, seed) if check_movies else None
        progress(f"{dataset}: exact check {check}")
        con.close()
    ours_median = statistics.median_low(ours)
    ref_median = statistics.median_low(reference) if reference else None
    return {
        "dataset": dataset,
        **found,
        "content_neighbors_seconds": ours,
        "content_neighbors_median_seconds": ours_median,
        "median_run": details[ours.index(ours_median)],
        "reference_seconds": reference,
        "reference_median_seconds": ref_median,
        "ratio_to_reference": ours_median / ref_median if ref_median else None,
        "exact_check": check,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="example: PYTHONPATH=. python bench/bench_content.py --datasets ml-latest-small",
    )
    parser.add_argument("--datasets", default="ml-latest-small,10M")
    parser.add_argument("--small", type=Path, default=DEFAULT_SMALL, help="ml-latest-small folder")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--memory-limit", default="8GB")
    parser.add_argument(
        "--reference-max-movies",
        type=int,
        default=20_000,
        help="no dense reference above this many movies (59,000: 3.5G similarities)",
    )
    parser.add_argument(
        "--check-movies",
        type=int,
        default=600,
        help="movies whose stored lists are checked against an exact numpy ranking (0: none)",
    )
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    datasets = [d.strip() for d in args.datasets.split(",") if d.strip()]
    started = time.perf_counter()
    load_at_start = os.getloadavg()
    results = [
        run_dataset(
            d,
            args.small,
            args.repeats,
            args.seed,
            args.memory_limit,
            args.reference_max_movies,
            args.check_movies,
        )
        for d in datasets
    ]
    result = {
        "results": results,
        "settings": {"repeats": args.repeats, "seed": args.seed, "memory_limit": args.memory_limit},
        "machine": {
            "nproc": len(os.sched_getaffinity(0)),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "duckdb": duckdb.__version__,
            "numpy": np.__version__,
            "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "load_average_1_5_15_min": {"start": load_at_start, "end": os.getloadavg()},
        },
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "benchmark_seconds": time.perf_counter() - started,
    }
    out = args.out or RESULTS_DIR / f"content_{'_'.join(datasets)}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(
        "| dataset | movies | profiles | content_neighbors s | numpy s | ratio | batches | exact |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        ref, ratio = r["reference_median_seconds"], r["ratio_to_reference"]
        print(
            f"| {r['dataset']} | {r['movies_with_features']:,} | {r['content_profiles']} | "
            f"{r['content_neighbors_median_seconds']:.2f} | "
            f"{'-' if ref is None else f'{ref:.2f}'} | "
            f"{'-' if ratio is None else f'{ratio:.2f}x'} | "
            f"{r['median_run']['batches'].get('content_neighbors')} | {r['exact_check']} |"
        )
    print(f"\npeak RSS {result['peak_rss_mib']:.0f} MiB; written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
