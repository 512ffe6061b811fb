"""Item-item and user-user cosine top-k: four implementations on the same data, at scale.

Run from the repository root:

    PYTHONPATH=. python bench/bench_scale.py --datasets ml-latest-small,1M --k 50 --repeat 3

For every dataset (MovieLens ml-latest-small, or seeded synthetic data shaped like
MovieLens 1M / 10M / 25M, see ``bench/synthetic.py``), every method (``scipy``, the
reference; ``implicit``; ``dense``, the tutorial's pivot; ``recsys-duck``, this
project's SQL) and every task (``item``, ``user``) runs in a fresh child process
(``bench/scale_child.py``), ``--repeat`` times. Each child times only its method's work
and its memory (see ``scale_child.py``) and writes its neighbour lists; the parent then
checks every method's lists against scipy's.

A markdown table goes to stdout, progress to stderr, everything to a JSON file and the
table to a markdown file beside it. Exit status 1 if any list disagrees with scipy's or
any run failed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench import synthetic
from bench.bench_build import DEFAULT_DATA, REPO_ROOT, RESULTS_DIR, markdown_table, median, progress
from bench.references import Check, Neighbors, compare, dense_bytes

METHODS = ("scipy", "implicit", "dense", "recsys-duck")
TASKS = ("item", "user")
ML_SMALL = "ml-latest-small"
DATASETS = (ML_SMALL, *synthetic.SIZES)
SYNTHETIC_ROOT = REPO_ROOT / "data" / "synthetic"
CHILD = Path(__file__).resolve().parent / "scale_child.py"
#: The dense method runs only when three copies of its largest matrix fit in this.
DENSE_LIMIT_BYTES = 6 * 10**9
#: User-user neighbours are skipped for every method when the possible user pairs, at
#: PAIR_BYTES each (a float64 value and an int32 index of scipy's sparse product), need
#: more than this: 10M ratings (70,000 users) would need 29 GB on a 24 GB machine.
PAIR_BYTES = 12
PAIR_LIMIT_BYTES = 12 * 10**9


@dataclass(frozen=True)
class Dataset:
    name: str
    n_users: int
    n_movies: int
    n_ratings: int
    source: str
    generation_seconds: float | None


@dataclass
class Run:
    """One child process: a method's task on a dataset, or why it did not run."""

    dataset: str
    method: str
    task: str
    repeat: int
    status: str  # "ok", "failed", "timed out" or "skipped"
    message: str = ""
    wall_seconds: float | None = None
    cpu_seconds: float | None = None
    peak_rss_mib: float | None = None
    rss_start_mib: float | None = None
    child_wall_seconds: float | None = None
    child_cpu_seconds: float | None = None
    details: dict[str, Any] | None = None


def prepare_dataset(name: str, seed: int, workdir: Path) -> Dataset:
    """Read or generate a dataset and write it to ``workdir/<name>.npz`` for the children."""
    generation_seconds = None
    if name == ML_SMALL:
        source = DEFAULT_DATA / "ratings.csv"
        frame = pd.read_csv(source, usecols=["userId", "movieId", "rating"])
        user_id = frame["userId"].to_numpy(dtype=np.int32)
        movie_id = frame["movieId"].to_numpy(dtype=np.int32)
        rating = frame["rating"].to_numpy(dtype=np.float32)
        del frame
    else:
        size = synthetic.SIZES[name]
        ratings, source, generation_seconds = synthetic.load_or_generate(size, seed, SYNTHETIC_ROOT)
        user_id, movie_id, rating = ratings.user_id, ratings.movie_id, ratings.rating
        if generation_seconds is not None:
            progress(f"{name}: generated in {generation_seconds:.1f} s, cached at {source}")
    np.savez(workdir / f"{name}.npz", user_id=user_id, movie_id=movie_id, rating=rating)
    return Dataset(
        name=name,
        n_users=int(np.unique(user_id).size),
        n_movies=int(np.unique(movie_id).size),
        n_ratings=int(user_id.size),
        source=str(source),
        generation_seconds=generation_seconds,
    )


def run_child(spec: dict[str, Any], workdir: Path, timeout: float | None) -> Run:
    """Run one child process to the end (its whole CPU time comes from ``wait4``)."""
    tag = f"{spec['dataset']}_{spec['method']}_{spec['task']}_{spec['repeat']}"
    spec_path, log_path = workdir / f"{tag}.spec.json", workdir / f"{tag}.log"
    spec_path.write_text(json.dumps(spec), encoding="utf-8")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    run = Run(spec["dataset"], spec["method"], spec["task"], spec["repeat"], "ok")
    timed_out = threading.Event()
    start = time.perf_counter()
    with log_path.open("w", encoding="utf-8") as log:
        child = subprocess.Popen(
            [sys.executable, str(CHILD), str(spec_path)],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=REPO_ROOT,
            env=env,
        )

        def kill() -> None:
            timed_out.set()
            child.kill()

        timer = threading.Timer(timeout, kill) if timeout else None
        if timer:
            timer.start()
        _, status, usage = os.wait4(child.pid, 0)
        if timer:
            timer.cancel()
        child.returncode = os.waitstatus_to_exitcode(status)
    run.child_wall_seconds = time.perf_counter() - start
    run.child_cpu_seconds = usage.ru_utime + usage.ru_stime
    if timed_out.is_set():
        run.status, run.message = "timed out", f"timed out after {timeout:g} s"
    elif child.returncode != 0:
        lines = log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        last = lines[-1] if lines else ""
        how = (
            f"killed by signal {-child.returncode}"
            if child.returncode < 0
            else f"exit {child.returncode}"
        )
        run.status, run.message = "failed", f"{how}: {last}"[:300]
    else:
        result = json.loads(Path(spec["result"]).read_text(encoding="utf-8"))
        run.wall_seconds = result.pop("wall_seconds")
        run.cpu_seconds = result.pop("cpu_seconds")
        memory = result["memory"]
        run.peak_rss_mib = memory["peak_kib"] / 1024
        run.rss_start_mib = memory["rss_start_kib"] / 1024
        run.details = result
    return run


def load_neighbors(path: Path) -> Neighbors:
    with np.load(path) as found:
        return Neighbors(found["row_id"], found["neighbor_id"], found["similarity"])


def summarise(
    runs: list[Run], datasets: dict[str, Dataset], methods: list[str]
) -> list[dict[str, Any]]:
    """One row per (dataset, method, task): the run of median wall time (and, for
    recsys-duck, a 'total' row: item + user of each repeat, then the median)."""
    rows: list[dict[str, Any]] = []
    for name, dataset in datasets.items():
        scipy_wall: dict[str, float] = {}
        for method in methods:
            per_task: dict[str, list[Run]] = {}
            for task in TASKS:
                mine = [r for r in runs if (r.dataset, r.method, r.task) == (name, method, task)]
                per_task[task] = mine
                row = _median_row(mine)
                if method == "scipy" and row["status"] == "ok":
                    scipy_wall[task] = row["wall_seconds"]
                rows.append({"dataset": name, "n_ratings": dataset.n_ratings, **row})
            if method == "recsys-duck" and all(r.status != "skipped" for r in per_task["user"]):
                totals = [_total(item, user) for item, user in zip(*per_task.values(), strict=True)]
                rows.append(
                    {"dataset": name, "n_ratings": dataset.n_ratings, **_median_row(totals)}
                )
        for row in rows:
            if row["dataset"] != name or row["status"] != "ok":
                continue
            tasks = TASKS if row["task"] == "total" else (row["task"],)
            if all(t in scipy_wall for t in tasks):
                row["ratio_to_scipy"] = row["wall_seconds"] / sum(scipy_wall[t] for t in tasks)
    return rows


def _total(item: Run, user: Run) -> Run:
    total = Run(item.dataset, item.method, "total", item.repeat, "ok")
    if item.status != "ok" or user.status != "ok":
        total.status, total.message = "failed", "item or user failed"
        return total
    total.wall_seconds = (item.wall_seconds or 0) + (user.wall_seconds or 0)
    total.cpu_seconds = (item.cpu_seconds or 0) + (user.cpu_seconds or 0)
    total.peak_rss_mib = max(item.peak_rss_mib or 0, user.peak_rss_mib or 0)
    total.rss_start_mib = max(item.rss_start_mib or 0, user.rss_start_mib or 0)
    return total


def _median_row(runs: list[Run]) -> dict[str, Any]:
    first = runs[0]
    row: dict[str, Any] = {"method": first.method, "task": first.task, "repeats": len(runs)}
    bad = [r for r in runs if r.status != "ok"]
    if bad:
        return {**row, "status": bad[0].status, "message": bad[0].message}
    wall = median([r.wall_seconds or 0.0 for r in runs])
    chosen = next(r for r in runs if r.wall_seconds == wall)
    return {
        **row,
        "status": "ok",
        "wall_seconds": wall,
        "cpu_seconds": chosen.cpu_seconds,
        "peak_rss_mib": chosen.peak_rss_mib,
        "rss_start_mib": chosen.rss_start_mib,
        "all_wall_seconds": [r.wall_seconds for r in runs],
    }


def results_table(rows: list[dict[str, Any]], checks: dict[tuple[str, str, str], Check]) -> str:
    body = []
    for row in rows:
        check = checks.get((row["dataset"], row["method"], row["task"]))
        if row["method"] == "scipy":
            verdict = "reference"
        elif check is not None:
            verdict = "ok" if check.ok else "MISMATCH"
        else:
            verdict = ""
        cells = [row["method"], row["task"], row["dataset"], f"{row['n_ratings']:,}"]
        if row["status"] != "ok":
            body.append([*cells, row["status"], "", "", "", row["message"]])
            continue
        ratio = row.get("ratio_to_scipy")
        body.append(
            [
                *cells,
                f"{row['wall_seconds']:.3f}",
                f"{row['cpu_seconds']:.2f}",
                f"{row['peak_rss_mib']:.0f} ({row['rss_start_mib']:.0f})",
                "" if ratio is None else f"{ratio:.2f}",
                verdict,
            ]
        )
    header = ["method", "task", "dataset", "n_ratings", "wall s", "CPU s"]
    header += ["peak RSS MiB (start)", "ratio to scipy wall", "check"]
    return markdown_table(header, body)


def machine_info() -> dict[str, Any]:
    versions = {}
    for package in ("duckdb", "numpy", "scipy", "pandas", "scikit-learn", "implicit"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": versions,
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }


def parse_list(text: str, allowed: tuple[str, ...], what: str) -> list[str]:
    items = [item.strip() for item in text.split(",") if item.strip()]
    unknown = [item for item in items if item not in allowed]
    if unknown or not items:
        raise SystemExit(f"error: unknown {what} {unknown}; choose from {', '.join(allowed)}")
    return list(dict.fromkeys(items))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="example: PYTHONPATH=. python bench/bench_scale.py --datasets "
        "ml-latest-small,1M --k 50 --repeat 3 --memory-limit 8GB",
    )
    parser.add_argument("--datasets", default=f"{ML_SMALL},1M", help=", ".join(DATASETS))
    parser.add_argument("--methods", default=",".join(METHODS), help=", ".join(METHODS))
    parser.add_argument("--k", type=int, default=50, help="neighbours per item and user")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each method and task")
    parser.add_argument("--memory-limit", help="DuckDB memory_limit, e.g. 8GB (recsys-duck)")
    parser.add_argument("--threads", type=int, help="DuckDB threads (recsys-duck)")
    parser.add_argument("--seed", type=int, default=42, help="seed of the synthetic data")
    parser.add_argument("--timeout", type=float, help="seconds before a child is killed")
    parser.add_argument(
        "--out", type=Path, default=RESULTS_DIR / "scale.json", help="JSON file (.md beside it)"
    )
    args = parser.parse_args(argv)
    dataset_names = parse_list(args.datasets, DATASETS, "dataset")
    methods = parse_list(args.methods, METHODS, "method")
    if "scipy" not in methods:
        progress("adding scipy: it is the reference of the ratios and the check")
        methods.insert(0, "scipy")
    if args.k < 1 or args.repeat < 1:
        parser.error("--k and --repeat must be at least 1")
    if ML_SMALL in dataset_names and not (DEFAULT_DATA / "ratings.csv").is_file():
        parser.error(f"no ratings.csv in {DEFAULT_DATA}")

    started = time.perf_counter()
    load_at_start = os.getloadavg()
    datasets: dict[str, Dataset] = {}
    runs: list[Run] = []
    checks: dict[tuple[str, str, str], Check] = {}
    with tempfile.TemporaryDirectory(prefix="recsys-duck-scale-") as tmp:
        workdir = Path(tmp)
        for name in dataset_names:
            dataset = datasets[name] = prepare_dataset(name, args.seed, workdir)
            progress(
                f"{name}: {dataset.n_ratings:,} ratings, {dataset.n_users:,} users, "
                f"{dataset.n_movies:,} movies"
            )
            for repeat in range(args.repeat):
                for method in methods:
                    for task in TASKS:
                        run = run_one(args, dataset, method, task, repeat, workdir)
                        runs.append(run)
                        progress(f"{name} {method} {task} #{repeat + 1}: {describe(run)}")
            checks.update(check_dataset(dataset, methods, workdir, args.k))
            (workdir / f"{name}.npz").unlink()

    rows = summarise(runs, datasets, methods)
    table = results_table(rows, checks)
    verdicts = [
        f"{dataset} {method} {task}: {check.verdict()}"
        for (dataset, method, task), check in checks.items()
    ]
    loads = [
        f"{name}: {median(seconds):.2f} s"
        for name in datasets
        if (
            seconds := [
                r.details["load_wall_seconds"]
                for r in runs
                if r.dataset == name and r.method == "recsys-duck" and r.details
            ]
        )
    ]
    failed = [r for r in runs if r.status in ("failed", "timed out")]
    mismatched = [key for key, check in checks.items() if not check.ok]
    machine = machine_info()
    machine["load_average_1_5_15_min"] = {"start": load_at_start, "end": os.getloadavg()}
    header = (
        f"k = {args.k}, median of {args.repeat} run(s), nproc {machine['nproc']}, "
        f"DuckDB {machine['versions']['duckdb']}, implicit {machine['versions']['implicit']}, "
        f"{machine['date']}; 1-min load average {load_at_start[0]:.2f} at start, "
        f"{machine['load_average_1_5_15_min']['end'][0]:.2f} at end"
    )
    notes = (
        "wall s and CPU s (user + system, all threads) cover the method's work only. "
        "peak RSS is the child process's peak resident set size during that work (Linux "
        "VmHWM, reset when the work starts); in brackets its RSS at the start (interpreter, "
        "libraries, ratings; for recsys-duck the open database). recsys-duck total = "
        "item + user, each in its own process."
    )
    if loads:
        notes += (
            " Loading the ratings into recsys-duck's tables (not in the timings): "
            + "; ".join(loads)
            + "."
        )
    result = {
        "settings": {
            "datasets": dataset_names,
            "methods": methods,
            "k": args.k,
            "repeat": args.repeat,
            "memory_limit": args.memory_limit,
            "threads": args.threads,
            "seed": args.seed,
            "timeout": args.timeout,
        },
        "machine": machine,
        "datasets": {name: asdict(d) for name, d in datasets.items()},
        "rows": rows,
        "checks": {" ".join(key): asdict(check) for key, check in checks.items()},
        "runs": [asdict(r) for r in runs],
        "benchmark_seconds": time.perf_counter() - started,
        "ok": not failed and not mismatched,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    markdown = "\n\n".join(
        ["## Cosine top-k neighbours by method and scale", header, table, notes]
        + ["Check against scipy:\n\n" + "\n".join(f"* {v}" for v in verdicts)]
    )
    args.out.with_suffix(".md").write_text(markdown + "\n", encoding="utf-8")

    print(header + "\n")
    print(table + "\n")
    print("check against scipy (similarity by rank to 1e-9, neighbours equal up to ties):")
    for verdict in verdicts:
        print(f"  {verdict}")
    for run in failed:
        print(f"  {run.dataset} {run.method} {run.task} #{run.repeat + 1}: {run.message}")
    print(
        f"benchmark took {result['benchmark_seconds']:.0f} s; written to {args.out} "
        f"and {args.out.with_suffix('.md')}"
    )
    return 0 if result["ok"] else 1


def run_one(
    args: argparse.Namespace, dataset: Dataset, method: str, task: str, repeat: int, workdir: Path
) -> Run:
    """One child run, or a skipped run for a dense matrix too large to hold, or for
    user-user neighbours whose pairs no method could hold (see PAIR_LIMIT_BYTES)."""
    if task == "user":
        pairs = dataset.n_users * (dataset.n_users - 1) / 2
        if pairs * PAIR_BYTES >= PAIR_LIMIT_BYTES:
            message = (
                f"skipped (up to {pairs:.2g} user pairs, {pairs * PAIR_BYTES / 1e9:.0f} GB as "
                "a sparse product)"
            )
            return Run(dataset.name, method, task, repeat, "skipped", message)
    if method == "dense":
        need = dense_bytes(dataset.n_users, dataset.n_movies, task)
        if need >= DENSE_LIMIT_BYTES:
            message = f"skipped (dense matrix would need {need / 1e9:.1f} GB)"
            return Run(dataset.name, method, task, repeat, "skipped", message)
    scratch = workdir / f"scratch_{dataset.name}_{method}_{task}_{repeat}"
    scratch.mkdir()
    spec = {
        "dataset": dataset.name,
        "method": method,
        "task": task,
        "repeat": repeat,
        "k": args.k,
        "data": str(workdir / f"{dataset.name}.npz"),
        "out": str(workdir / f"{dataset.name}_{method}_{task}.npz"),
        "result": str(scratch / "result.json"),
        "workdir": str(scratch),
        "memory_limit": args.memory_limit,
        "threads": args.threads,
    }
    try:
        return run_child(spec, workdir, args.timeout)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def describe(run: Run) -> str:
    if run.status != "ok":
        return run.message
    return (
        f"{run.wall_seconds:.2f} s wall, {run.cpu_seconds:.2f} s CPU, "
        f"peak RSS {run.peak_rss_mib:.0f} MiB"
    )


def check_dataset(
    dataset: Dataset, methods: list[str], workdir: Path, k: int
) -> dict[tuple[str, str, str], Check]:
    """Every method's lists (of its last successful run) against scipy's."""
    checks: dict[tuple[str, str, str], Check] = {}
    for task in TASKS:
        reference_path = workdir / f"{dataset.name}_scipy_{task}.npz"
        if not reference_path.is_file():
            continue
        reference = load_neighbors(reference_path)
        for method in methods:
            path = workdir / f"{dataset.name}_{method}_{task}.npz"
            if method != "scipy" and path.is_file():
                checks[(dataset.name, method, task)] = compare(reference, load_neighbors(path), k)
    return checks


if __name__ == "__main__":
    sys.exit(main())
