"""One run of ``bench_scale.py`` in a fresh process: one method, one task, one dataset.

Started by ``bench_scale.py`` as ``python bench/scale_child.py SPEC.json`` so that the
peak memory of every run is its own. The spec (JSON) names the method, the task
('item' or 'user'), ``k``, the ratings (``data``: an .npz of ``user_id``, ``movie_id``,
``rating``), where to write the neighbour lists (``out``: .npz) and the timings
(``result``: JSON), a scratch folder (``workdir``) and, for recsys-duck, DuckDB's
``memory_limit`` and ``threads``.

Only the method's own work is timed: from the ratings as numpy arrays in memory to the
top-k lists as numpy arrays (for recsys-duck: the statement that creates the neighbour
table, with the ratings already in the database; loading them is timed apart). Wall
time is ``time.perf_counter``; CPU time is the process's user + system time
(``getrusage(RUSAGE_SELF)``, every thread included) over the same span.

Memory is Linux's own accounting of this process (``/proc/self/status``): the resident
set size when the timed work starts, and its peak (``VmHWM``) during that work, the
peak having been reset to the current size just before (``/proc/self/clear_refs``).
``ru_maxrss`` would not do: Linux carries the parent's peak over into a child across
``exec``, so every child would report at least the parent's peak.
"""

from __future__ import annotations

import importlib
import json
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from bench import references
from bench.references import Neighbors, Task

T = TypeVar("T")

#: Modules each method needs, imported before the clock starts.
IMPORTS = {
    "scipy": ("scipy.sparse",),
    "implicit": ("scipy.sparse", "implicit.nearest_neighbours"),
    "dense": ("pandas", "sklearn.metrics.pairwise"),
    "recsys-duck": ("duckdb", "pandas", "recsys_duck.sql", "recsys_duck.storage"),
}
REFERENCES: dict[str, Callable[..., Neighbors]] = {
    "scipy": references.scipy_top_k,
    "implicit": references.implicit_top_k,
    "dense": references.dense_top_k,
}
# The loaded ratings get a constant timestamp: the neighbour tables do not read it.
LOAD_RATINGS_SQL = """
insert into ratings (user_id, movie_id, rating, rated_at)
select user_id, movie_id, rating, timestamp '2000-01-01 00:00:00'
from bench_loaded_ratings
"""


def memory_kib() -> dict[str, int]:
    """This process's resident set size now (``VmRSS``) and at its peak (``VmHWM``), KiB."""
    found = {}
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                found[name] = int(value.split()[0])
    return found


def reset_peak_memory() -> bool:
    """Reset ``VmHWM`` to the current resident set size; False where Linux refuses."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as clear_refs:
            clear_refs.write("5")
    except OSError:
        return False
    return True


def measure(fn: Callable[[], T]) -> tuple[T, float, float, dict[str, Any]]:
    """``fn()``, its wall seconds, the CPU seconds (user + system) of this process, and its
    memory: RSS at the start, peak RSS during ``fn`` and the peak before, in KiB."""
    memory: dict[str, Any] = {"peak_before_kib": memory_kib()["VmHWM"]}
    memory["peak_was_reset"] = reset_peak_memory()
    memory["rss_start_kib"] = memory_kib()["VmRSS"]
    before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    value = fn()
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    memory["peak_kib"] = memory_kib()["VmHWM"]
    return value, wall, cpu, memory


def recsys_duck_top_k(
    user_id: np.ndarray,
    movie_id: np.ndarray,
    rating: np.ndarray,
    task: Task,
    k: int,
    spec: dict[str, Any],
) -> tuple[Neighbors, dict[str, Any]]:
    """This project: the ratings loaded into the project's tables in a DuckDB file
    (with ``00_tables`` and the stats views of ``20_stats``), then, timed, what the build
    runs for ``<task>_neighbors``: the plan's steps for that table
    (:func:`recsys_duck.pipeline.neighbor_scope`: the similarity views, the batched pair
    sums of that side and the ranking), statement by statement as a file build runs;
    ``recsys_params.neighbors_k`` is set to ``k``.
    """
    import pandas as pd

    from bench.bench_build import NEIGHBOR_SQL
    from recsys_duck import pipeline
    from recsys_duck.sql import apply_layers, execute
    from recsys_duck.storage import connect

    workdir = Path(spec["workdir"])
    config: dict[str, Any] = {"temp_directory": str(workdir / "duckdb_tmp")}
    if spec.get("memory_limit"):
        config["memory_limit"] = spec["memory_limit"]
    if spec.get("threads"):
        config["threads"] = spec["threads"]
    con = connect(str(workdir / "recsys.duckdb"), config=config)

    def load() -> None:
        apply_layers(con, ["00_tables"])
        frame = pd.DataFrame({"user_id": user_id, "movie_id": movie_id, "rating": rating})
        con.register("bench_loaded_ratings", frame)
        execute(con, LOAD_RATINGS_SQL)
        con.unregister("bench_loaded_ratings")
        execute(con, "update recsys_params set neighbors_k = ?", [k])
        apply_layers(con, ["20_stats"])
        execute(con, "checkpoint")

    table = f"{task}_neighbors"

    scope = pipeline.neighbor_scope(
        task, autocommit=True, memory_limit=spec.get("memory_limit") or None
    )

    def neighbors() -> None:
        pipeline.run(con, scope)

    _, load_wall, load_cpu, load_memory = measure(load)
    _, wall, cpu, memory = measure(neighbors)
    found = execute(con, NEIGHBOR_SQL[table]).fetchnumpy()
    threads, memory_limit = execute(
        con, "select current_setting('threads'), current_setting('memory_limit')"
    ).fetchone() or (None, None)
    con.close()
    neighbors = Neighbors(
        row_id=np.asarray(found["row_id"], dtype=np.int64),
        neighbor_id=np.asarray(found["neighbor_id"], dtype=np.int64),
        similarity=np.asarray(found["similarity"], dtype=np.float64),
    )
    info = {
        "wall_seconds": wall,
        "cpu_seconds": cpu,
        "memory": memory,
        "load_wall_seconds": load_wall,
        "load_cpu_seconds": load_cpu,
        "load_peak_rss_kib": load_memory["peak_kib"],
        "duckdb_threads": threads,
        "duckdb_memory_limit": memory_limit,
        "database_bytes": (workdir / "recsys.duckdb").stat().st_size,
    }
    return neighbors, info


def main(argv: list[str]) -> int:
    (spec_path,) = argv
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    method, task, k = spec["method"], spec["task"], int(spec["k"])
    for module in IMPORTS[method]:
        importlib.import_module(module)
    with np.load(spec["data"]) as data:
        user_id, movie_id, rating = data["user_id"], data["movie_id"], data["rating"]

    if method == "recsys-duck":
        neighbors, info = recsys_duck_top_k(user_id, movie_id, rating, task, k, spec)
    else:
        neighbors, wall, cpu, memory = measure(
            lambda: REFERENCES[method](user_id, movie_id, rating, task, k)
        )
        info = {"wall_seconds": wall, "cpu_seconds": cpu, "memory": memory}

    np.savez(
        spec["out"],
        row_id=neighbors.row_id,
        neighbor_id=neighbors.neighbor_id,
        similarity=neighbors.similarity,
    )
    info["pairs"] = int(neighbors.row_id.size)
    Path(spec["result"]).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
