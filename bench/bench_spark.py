"""Benchmark the Spark engine against the DuckDB build of the same data, in one run.

Run from the repository root (needs ``pip install -e '.[bench,spark]'`` and Java 17):

    PYTHONPATH=. python bench/bench_spark.py --data ../shared/data/ml-latest-small
    PYTHONPATH=. python bench/bench_spark.py --synthetic 1M --neighbors item

Each build is ``recsys-duck build`` in a child process: first ``--engine duckdb``, then
``--engine spark --spark-master local[2]`` (or ``--master``), into fresh files. For
each it records the wall time and the peak memory of the whole process tree (the Python
process and, for Spark, its JVM), sampled every 50 ms, and the seconds of every step.
Then it compares the served tables: pair sums row for row (bit-identical expected),
neighbour ranks (identical up to ties at the k-th place) and similarities, baseline
biases, and recommendations. A markdown summary goes to stdout, everything to
``bench/results/spark_<name>.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import duckdb
import psutil

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO_ROOT / "bench" / "results"
NEIGHBORS = {"item": ("movie_id", "item_neighbors"), "user": ("user_id", "user_neighbors")}


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run_measured(args: list[str]) -> dict[str, Any]:
    """``recsys-duck ARGS`` in a child process: wall time, peak RSS of its process tree
    (children included: Spark's JVM), and the step table it prints."""
    command = [sys.executable, "-c", "from recsys_duck.cli import main; main()", *args]
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0

    def poll() -> None:
        nonlocal peak
        parent = psutil.Process(child.pid)
        while child.poll() is None:
            try:
                tree = [parent, *parent.children(recursive=True)]
                peak = max(peak, sum(p.memory_info().rss for p in tree))
            except psutil.Error:
                pass
            time.sleep(0.05)

    watcher = threading.Thread(target=poll, daemon=True)
    watcher.start()
    output, errors = child.communicate()
    wall = time.perf_counter() - start
    watcher.join()
    if child.returncode != 0:
        raise RuntimeError(f"recsys-duck {' '.join(args)} failed:\n{errors[-3000:]}")
    steps = {}
    for line in output.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] != "step":
            steps[parts[0]] = float(parts[1])
    return {"wall_seconds": wall, "peak_rss_mib": peak / 2**20, "steps": steps}


def compare(duck: Path, spark: Path, neighbors: list[str]) -> dict[str, Any]:
    """How the Spark build's tables differ from the DuckDB build's."""
    con = duckdb.connect()
    con.execute("set enable_progress_bar = false")
    con.execute(f"attach '{duck}' as d (read_only)")
    con.execute(f"attach '{spark}' as s (read_only)")

    def one(query: str) -> Any:
        row = con.execute(query).fetchone()
        assert row is not None
        return row[0] if len(row) == 1 else row

    found: dict[str, Any] = {}
    for side in ("item", "user"):
        if side not in neighbors:
            continue
        table = f"{side}_pair_sums"
        # The attached databases d and s and the table names are this script's own.
        query = "select count(*) from (select * from {a}.{t} except all select * from {b}.{t})"
        differ = sum(one(query.format(a=a, b=b, t=table)) for a, b in (("d", "s"), ("s", "d")))
        found[table] = {"rows": one(f"select count(*) from d.{table}"), "rows_differing": differ}  # noqa: S608
    for kind in ("item", "user", "content"):
        if kind not in neighbors:
            continue
        key = "movie_id" if kind != "user" else "user_id"
        table = f"{kind}_neighbors"
        rows, other, max_diff, k_th = one(
            f"select count(*), count(*) filter (where d.neighbor_id <> s.neighbor_id), "  # noqa: S608
            "max(abs(d.similarity - s.similarity)), "
            "count(*) filter (where d.neighbor_id <> s.neighbor_id and d.rank = "
            f"(select max(rank) from d.{table})) "
            f"from d.{table} as d full join s.{table} as s using ({key}, rank)"
        )
        found[table] = {
            "rows": rows,
            "other_neighbor": other,
            "other_neighbor_at_kth_place": k_th,
            "max_abs_similarity_difference": max_diff,
        }
    found["baseline_biases"] = {
        "max_abs_difference": one(
            "select max(abs(d.bias - s.bias)) from d.baseline_biases as d "
            "join s.baseline_biases as s using (kind, id)"
        )
    }
    rows, other, max_rel = one(
        "select count(*), count(*) filter (where d.movie_id is distinct from s.movie_id), "
        "max(abs(d.score - s.score) / nullif(abs(d.score), 0)) "
        "from d.recommendations as d full join s.recommendations as s "
        "using (method, user_id, rank)"
    )
    found["recommendations"] = {
        "rows": rows,
        "other_movie": other,
        "max_relative_score_difference": max_rel,
    }
    con.close()
    return found


def co_rating_triples(database: Path) -> dict[str, int]:
    """The (user, movie, movie) and (movie, user, user) triples the pair sums aggregate:
    the rows each side's self-join makes, which bound the shuffle of its pair sums."""
    with duckdb.connect(str(database), read_only=True) as con:
        row = con.execute(
            "select (select sum(n * (n - 1) // 2) from (select count(*) as n from ratings "
            "group by user_id)), (select sum(n * (n - 1) // 2) from (select count(*) as n "
            "from ratings group by movie_id))"
        ).fetchone() or (0, 0)
    return {"item": int(row[0]), "user": int(row[1])}


def shuffle_written(event_log: Path) -> dict[str, Any]:
    """What Spark's event log says its shuffles wrote: in total, and per stage for the
    three stages that wrote most (bytes and records, from the tasks' metrics)."""
    stages: dict[int, dict[str, Any]] = {}
    for log in sorted(p for p in event_log.rglob("*") if p.is_file()):
        for line in log.open(encoding="utf-8"):
            event = json.loads(line)
            if event.get("Event") == "SparkListenerTaskEnd":
                written = (event.get("Task Metrics") or {}).get("Shuffle Write Metrics") or {}
                stage = stages.setdefault(event["Stage ID"], {"bytes": 0, "records": 0})
                stage["bytes"] += written.get("Shuffle Bytes Written", 0)
                stage["records"] += written.get("Shuffle Records Written", 0)
            elif event.get("Event") == "SparkListenerStageCompleted":
                info = event["Stage Info"]
                stage = stages.setdefault(info["Stage ID"], {"bytes": 0, "records": 0})
                stage["name"] = info.get("Stage Name", "")
    top = sorted(stages.items(), key=lambda kv: -kv[1]["bytes"])[:3]
    return {
        "total_bytes": sum(s["bytes"] for s in stages.values()),
        "total_records": sum(s["records"] for s in stages.values()),
        "largest_stages": [{"stage": k, **v} for k, v in top],
    }


def synthetic_folder(size: str, seed: int, root: Path) -> Path:
    """A MovieLens folder of the synthetic ``size`` (bench/synthetic.py), with genres."""
    from bench.bench_increment import write_folders
    from bench.synthetic import SIZES, load_or_generate

    _, parquet, _ = load_or_generate(SIZES[size], seed, REPO_ROOT / "data" / "synthetic")
    write_folders(parquet, root, seed, new_share=0.0)
    return root / "full"


def summary(result: dict[str, Any]) -> str:
    duck, spark = result["duckdb"], result["spark"]
    lines = [
        f"### Spark engine vs DuckDB: {result['name']} ({result['neighbors']})",
        "",
        "| engine | wall s | peak RSS MiB (process tree) |",
        "|---|---|---|",
        f"| DuckDB | {duck['wall_seconds']:.1f} | {duck['peak_rss_mib']:.0f} |",
        f"| Spark {result['master']} | {spark['wall_seconds']:.1f} | {spark['peak_rss_mib']:.0f} |",
        "",
        f"Spark / DuckDB wall: {spark['wall_seconds'] / duck['wall_seconds']:.1f}x. "
        "Slowest Spark steps: "
        + ", ".join(
            f"{name.removeprefix('spark:')} {seconds:.1f} s"
            for name, seconds in sorted(spark["steps"].items(), key=lambda kv: -kv[1])[:6]
        ),
        "",
        "```",
        json.dumps(result["agreement"], indent=1),
        "```",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", type=Path, help="a MovieLens folder")
    source.add_argument("--synthetic", choices=["1M", "10M", "25M"], help="a synthetic size")
    parser.add_argument("--neighbors", default="item,user,content")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--driver-memory", default="8g")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--event-log",
        action="store_true",
        help="keep Spark's event log and report the bytes its shuffles wrote",
    )
    args = parser.parse_args(argv)
    neighbors = [k.strip() for k in args.neighbors.split(",") if k.strip()]
    with tempfile.TemporaryDirectory(prefix="bench_spark_") as tmp:
        root = Path(tmp)
        if args.data is not None:
            data, name = args.data, args.data.name
        else:
            data, name = synthetic_folder(args.synthetic, args.seed, root), args.synthetic
        common = ["build", "--data", str(data), "--neighbors", ",".join(neighbors)]
        progress(f"DuckDB build of {name}")
        duck = run_measured(["--db", str(root / "duck.duckdb"), *common, "--no-download"])
        progress(f"DuckDB: {duck['wall_seconds']:.1f} s; Spark build on {args.master}")
        events = root / "events"
        logging_conf: list[str] = []
        if args.event_log:
            events.mkdir()
            logging_conf = [
                "--spark-conf",
                "spark.eventLog.enabled=true",
                "--spark-conf",
                f"spark.eventLog.dir={events}",
                # Plain JSON in one file (Spark 4 may compress and roll it).
                "--spark-conf",
                "spark.eventLog.compress=false",
                "--spark-conf",
                "spark.eventLog.rolling.enabled=false",
            ]
        spark = run_measured(
            [
                "--db",
                str(root / "spark.duckdb"),
                *common,
                "--no-download",
                "--engine",
                "spark",
                "--spark-master",
                args.master,
                "--spark-conf",
                f"spark.driver.memory={args.driver_memory}",
                *logging_conf,
            ]
        )
        if args.event_log:
            try:
                spark["shuffle"] = shuffle_written(events)
            except (OSError, ValueError, KeyError) as error:  # keep the timings all the same
                spark["shuffle"] = {"error": repr(error)}
        progress(f"Spark: {spark['wall_seconds']:.1f} s; comparing tables")
        # The steps of a long run are worth keeping even if what follows fails.
        (RESULTS_DIR / f"spark_{name}_steps.partial.json").write_text(
            json.dumps({"duckdb": duck, "spark": spark}, indent=1), encoding="utf-8"
        )
        try:
            agreement = compare(root / "duck.duckdb", root / "spark.duckdb", neighbors)
        except duckdb.Error as error:  # keep the timings of a long run all the same
            agreement = {"error": str(error)}
        triples = co_rating_triples(root / "duck.duckdb")
    result = {
        "name": name,
        "neighbors": ",".join(neighbors),
        "master": args.master,
        "driver_memory": args.driver_memory,
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "cpus": psutil.cpu_count(),
        "duckdb": duck,
        "spark": spark,
        "agreement": agreement,
        "co_rating_triples": triples,
    }
    RESULTS_DIR.mkdir(exist_ok=True)
    out = RESULTS_DIR / f"spark_{name}_{'_'.join(neighbors)}.json"
    out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    (RESULTS_DIR / f"spark_{name}_steps.partial.json").unlink(missing_ok=True)
    print(summary(result))
    progress(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
