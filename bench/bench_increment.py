"""Build, add-ratings and serving at scale, on seeded synthetic MovieLens-shaped data.

Run from the repository root (the 10M ratings are generated and cached on first use):

    PYTHONPATH=. python bench/bench_increment.py --dataset 10M --neighbors item,content \\
        --memory-limit 8GB

1. The synthetic ratings (``bench/synthetic.py``) are written as a MovieLens folder
   (ratings.csv with timestamps, and a movies.csv with seeded genres), and split into a
   base folder and ``new_ratings.csv``: 1% of the ratings, chosen by a seeded hash.
2. ``recsys-duck build`` on the whole folder and on the base, each in a child process
   with DuckDB's ``memory_limit``: wall time and peak RSS (VmHWM polled from /proc).
3. ``recsys-duck add-ratings`` on copies of the base database: of the first
   ``--few`` (1,000) new ratings, and of all of them (1%); each one's wall time and its
   ratio to the full build (targets: 5% and 20%). add-ratings keeps the pair sums and
   neighbours exact and leaves the baseline and the marts stale; the ranking weights
   exact too, or, with ``--defer-weights`` (timed first), stale; then
   ``recsys-duck refresh`` on each 1% copy, timed too.
4. Each refreshed and the full database compared: ratings, pair sums and neighbour
   tables must be equal exactly (EXCEPT both ways), the recommendations and the ranking
   weights equal up to 1e-12.
5. Serving on the full database: ``Recommender.recommend`` latency (p50, p99) for 1,000
   seeded users per built method and popularity; the set-based top-N of every user is
   the build's ``recommendations`` step (the table of that name), timed within the build.

A markdown summary goes to stdout and everything to ``bench/results/increment_<dataset>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import duckdb

from bench.bench_build import recommend_latency
from bench.synthetic import SIZES, load_or_generate
from recsys_duck import Recommender

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO_ROOT / "bench" / "results"
SYNTHETIC_ROOT = REPO_ROOT / "data" / "synthetic"
GENRES = (
    "Action", "Adventure", "Animation", "Children", "Comedy", "Crime", "Documentary",
    "Drama", "Fantasy", "Film-Noir", "Horror", "IMAX", "Musical", "Mystery", "Romance",
    "Sci-Fi", "Thriller", "War", "Western",
)  # fmt: skip
#: Tables that must be equal exactly after add-ratings, and their built side.
EXACT = {
    "ratings": None,
    "item_pair_sums": "item",
    "item_neighbors": "item",
    "user_pair_sums": "user",
    "user_neighbors": "user",
    "content_neighbors": "content",
}


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def create_movies(con: duckdb.DuckDBPyConnection, seed: int) -> None:
    """Table ``m`` (movie_id, title, genres) of the movies of table ``r``: each movie 1 to
    3 genres drawn by seeded hashes (duplicates collapse), '|'-joined."""
    con.execute(
        "create table g as select unnest(?::varchar[]) as genre, "
        "generate_subscripts(?::varchar[], 1) - 1 as genre_no",
        [list(GENRES), list(GENRES)],
    )
    con.execute(
        "create table m as "
        "with movies as (select distinct movie_id from r), "
        "draws as (select movie_id, d from movies, range(3) as t(d) "
        "where d <= hash($seed, movie_id) % 3) "
        "select m.movie_id, 'Movie ' || m.movie_id || ' (' || (1950 + m.movie_id % 70) || ')' "
        "as title, string_agg(distinct g.genre, '|' order by g.genre) as genres "
        "from draws as m join g on g.genre_no = hash($seed, m.movie_id, m.d) % $n "
        "group by m.movie_id",
        {"seed": seed, "n": len(GENRES)},
    )


def write_folders(ratings_parquet: Path, root: Path, seed: int, new_share: float) -> Path:
    """The whole dataset in ``root/full``, the base in ``root/base``; returns the file of
    new ratings. A rating is new when hash(seed, user, movie) falls in the first
    ``new_share`` of the hash range."""
    full, base = root / "full", root / "base"
    full.mkdir()
    base.mkdir()
    con = duckdb.connect()
    con.execute(
        "create table r as select user_id, movie_id, rating::decimal(2, 1) as rating, "
        "946684800 + row_number() over (order by user_id, movie_id) as ts, "
        "hash(?, user_id, movie_id) % 1000000 < ? as is_new from read_parquet(?)",
        [seed, int(new_share * 1_000_000), str(ratings_parquet)],
    )
    create_movies(con, seed)
    select = "select user_id as userId, movie_id as movieId, rating, ts as timestamp from r"
    movies = "select movie_id as movieId, title, genres from m order by movie_id"
    # The paths are this function's temporary files; the queries are fixed text.
    for folder, where in ((full, "true"), (base, "not is_new")):
        con.execute(f"copy ({movies}) to '{folder / 'movies.csv'}' (header)")
        ratings_csv = folder / "ratings.csv"
        con.execute(f"copy ({select} where {where} order by ts) to '{ratings_csv}' (header)")
    added = root / "new_ratings.csv"
    con.execute(f"copy ({select} where is_new order by ts) to '{added}' (header)")  # noqa: S608
    con.close()
    return added


def run_measured(args: list[str]) -> dict[str, Any]:
    """Run ``recsys-duck ARGS`` in a child process; its wall time and peak RSS."""
    command = [sys.executable, "-c", "from recsys_duck.cli import main; main()", *args]
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak = 0

    def poll() -> None:
        nonlocal peak
        status = Path(f"/proc/{child.pid}/status")
        while child.poll() is None:
            try:
                for line in status.read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peak = max(peak, int(line.split()[1]))
            except OSError:
                break
            time.sleep(0.05)

    watcher = threading.Thread(target=poll, daemon=True)
    watcher.start()
    output, _ = child.communicate()
    wall = time.perf_counter() - start
    watcher.join()
    if child.returncode != 0:
        raise RuntimeError(f"recsys-duck {' '.join(args)} failed:\n{output}")
    return {"wall_seconds": wall, "peak_rss_mib": peak / 1024, "output": output}


def compare(full: Path, incremental: Path) -> dict[str, Any]:
    """Rows of each table in one database but not the other (both ways)."""
    con = duckdb.connect()
    con.execute(f"attach '{full}' as f (read_only)")
    con.execute(f"attach '{incremental}' as i (read_only)")
    found: dict[str, Any] = {}
    for table in EXACT:
        q = "select count(*) from (select * from {a}.{t} except select * from {b}.{t})"
        differ = sum(
            con.execute(q.format(a=a, b=b, t=table)).fetchone()[0]  # type: ignore[index]
            for a, b in (("f", "i"), ("i", "f"))
        )
        count = f"select count(*) from f.{table}"  # noqa: S608 - table names of EXACT
        (rows,) = con.execute(count).fetchone()  # type: ignore[misc]
        found[table] = {"rows": rows, "rows_differing": differ}
    # Float sums, equal up to the order of addition: rows matched by key, values compared.
    for table, value, key, counted in (
        ("recommendations", "score", "method, user_id, rank, movie_id", "scores_not_bit_equal"),
        ("item_weights", "weight", "model, movie_id, neighbor_id", "rows_in_one_only"),
    ):
        counts = (
            f"a.{value} is distinct from b.{value}"
            if table == "recommendations"
            else f"a.{value} is null or b.{value} is null"
        )
        row = con.execute(
            f"select count(*), count(*) filter (where {counts}), "  # noqa: S608 - fixed names
            f"max(abs(a.{value} - b.{value}) / nullif(abs(b.{value}), 0)) "
            f"from f.{table} as a full join i.{table} as b using ({key})"
        ).fetchone()
        found[table] = {
            "rows": row[0],  # type: ignore[index]
            counted: row[1],  # type: ignore[index]
            f"max_relative_{value}_difference": row[2],  # type: ignore[index]
        }
    con.close()
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="10M", choices=sorted(SIZES))
    parser.add_argument("--neighbors", default="item,content")
    parser.add_argument("--memory-limit", default="8GB")
    parser.add_argument("--new-share", type=float, default=0.01)
    parser.add_argument("--few", type=int, default=1000, help="the smaller addition")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="build the 99%% only (the reference of the shares), no refresh or comparison, "
        "and keep the weights exact for the smaller addition only",
    )
    args = parser.parse_args(argv)
    out = args.out or RESULTS_DIR / f"increment_{args.dataset}.json"
    started = time.perf_counter()
    ratings, parquet, _ = load_or_generate(SIZES[args.dataset], args.seed, SYNTHETIC_ROOT)
    progress(f"{args.dataset}: {len(ratings.user_id):,} ratings")
    with tempfile.TemporaryDirectory(prefix="recsys-duck-increment-") as tmp:
        root = Path(tmp)
        added = write_folders(parquet, root, args.seed, args.new_share)
        n_new = sum(1 for _ in added.open()) - 1
        progress(f"written; {n_new:,} new ratings")
        common = ["--memory-limit", args.memory_limit, "--neighbors", args.neighbors]
        runs: dict[str, Any] = {}
        for name in ("base",) if args.quick else ("full", "base"):
            db = root / f"{name}.duckdb"
            runs[f"build {name}"] = run_measured(
                ["--db", str(db), "build", "--data", str(root / name), *common]
            )
            progress(f"build {name}: {runs[f'build {name}']['wall_seconds']:.1f} s")
        few = root / "few_new_ratings.csv"
        with added.open() as source, few.open("w") as target:
            target.writelines(line for _, line in zip(range(args.few + 1), source, strict=False))
        limit = ["--memory-limit", args.memory_limit]
        comparison: dict[str, Any] = {}
        for mode, flags in (("deferred weights", ["--defer-weights"]), ("exact", [])):
            suffix = "" if mode == "exact" else f", {mode}"
            copies = {name: root / f"{name}{len(flags)}.duckdb" for name in ("few", "one")}
            for copy in copies.values():
                shutil.copyfile(root / "base.duckdb", copy)
            names = (f"add-ratings {args.few:,}{suffix}", f"add-ratings 1%{suffix}")
            for name, copy, new in zip(names, copies.values(), (few, added), strict=True):
                if args.quick and mode == "exact" and new == added:
                    continue
                runs[name] = run_measured(
                    ["--db", str(copy), "add-ratings", str(new), *flags, *limit]
                )
                progress(f"{name}: {runs[name]['wall_seconds']:.1f} s")
            if args.quick:
                for copy in copies.values():
                    copy.unlink()
                continue
            name = f"refresh{suffix}"
            runs[name] = run_measured(["--db", str(copies["one"]), "refresh", *limit])
            progress(f"{name}: {runs[name]['wall_seconds']:.1f} s")
            comparison[mode] = compare(root / "full.duckdb", copies["one"])
            progress(f"comparison ({mode}): {comparison[mode]}")
            for copy in copies.values():
                copy.unlink()
        # popularity needs no neighbours: every build serves it
        built = tuple(k for k in ("user", "item", "content") if k in args.neighbors.split(","))
        built += ("popularity",)
        served = root / ("base.duckdb" if args.quick else "full.duckdb")
        with Recommender(served, read_only=True) as rec:
            latency = recommend_latency(rec, args.queries, args.seed, built)
    reference = "build base" if args.quick else "build full"
    result = {
        "dataset": args.dataset,
        "n_ratings": len(ratings.user_id),
        "n_new_ratings": n_new,
        "neighbors": args.neighbors,
        "memory_limit": args.memory_limit,
        "machine": {
            "nproc": os.cpu_count(),
            "python": platform.python_version(),
            "duckdb": duckdb.__version__,
            "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "load_average": os.getloadavg(),
        },
        "n_few_ratings": args.few,
        "runs": runs,
        "reference_build": reference,
        "over_full_build": {
            name: run["wall_seconds"] / runs[reference]["wall_seconds"]
            for name, run in runs.items()
            if not name.startswith("build")
        },
        "comparison": comparison,
        "recommend_latency_ms": latency,
        "benchmark_seconds": time.perf_counter() - started,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(summary(result))
    return 0


def summary(result: dict[str, Any]) -> str:
    runs = result["runs"]
    lines = [
        f"## Build, add-ratings and serving: {result['dataset']} synthetic "
        f"({result['n_ratings']:,} ratings, neighbours {result['neighbors']}, "
        f"memory_limit {result['memory_limit']})",
        "",
        "| step | wall s | peak RSS MiB |",
        "|---|---|---|",
    ]
    for name, run in runs.items():
        lines.append(f"| {name} | {run['wall_seconds']:.1f} | {run['peak_rss_mib']:.0f} |")
    lines += ["", f"| step | share of the {result['reference_build']} |", "|---|---|"]
    for name, share in result["over_full_build"].items():
        lines.append(f"| {name} | {share:.1%} |")
    compared = (
        "after each refresh the database compared with the full build: "
        + json.dumps(result["comparison"])
        if result["comparison"]
        else "no refresh or comparison (--quick)"
    )
    lines += [
        "",
        f"The 1% is {result['n_new_ratings']:,} ratings; {compared}",
        "",
        "| method | p50 ms | p99 ms |",
        "|---|---|---|",
    ]
    for method, t in result["recommend_latency_ms"].items():
        lines.append(f"| {method} | {t['p50_ms']:.2f} | {t['p99_ms']:.2f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
