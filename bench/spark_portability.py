"""Every SQL file the Spark engine runs, file by file: does it transpile, does it run on
Spark, are its tables equal to DuckDB's, and what had to change.

Run from the repository root (needs ``pip install -e '.[spark]'`` and Java 17):

    PYTHONPATH=. python bench/spark_portability.py

It builds the tiny hand-worked data (tests/data/tiny) twice: by DuckDB alone, and by the
plan's driver pass on DuckDB and compute pass on Spark ``local[2]``, noting which file
each statement Spark runs comes from (the ``running <file>`` debug lines of
:func:`recsys_duck.sql.run_file`). For each file it lists its statements, the project's
rewrites that apply to them (:mod:`recsys_duck.dialect`), and, for the tables it
creates or fills, whether Spark's rows equal DuckDB's (floats within 1e-12 relative).
The table goes to ``bench/results/spark_portability.md``.
"""

from __future__ import annotations

import logging
import math
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import duckdb
import sqlglot
from sqlglot import exp

from recsys_duck import Recommender, pipeline
from recsys_duck.dialect import rewrite, to_spark
from recsys_duck.params import BuildParams
from recsys_duck.spark import SparkRun, session

REPO_ROOT = Path(__file__).resolve().parent.parent
SQL = REPO_ROOT / "sql"
TINY = REPO_ROOT / "tests" / "data" / "tiny"
OUT = REPO_ROOT / "bench" / "results" / "spark_portability.md"
PARAMS = BuildParams(
    k=3, n_similar_users=2, n_item_neighbors=2, n_recommendations=3, baseline_epochs=3
)
RELATIVE = 1e-12

#: What changed in the SQL itself so that both engines run it the same (the rewrites
#: are listed per file from the code; these are the changes made to the files).
CHANGED = {
    "baseline_biases.sql": "declares the table; the ALS fit moved to the epoch loop below",
    "baseline_biases.prepare.sql": "new: the epoch loop's state (was a WITH RECURSIVE "
    "whose recursive part aggregates, which Spark refuses)",
    "baseline_biases.epoch.sql": "new: one epoch, run baseline_epochs times by the driver",
    "baseline_biases.finish.sql": "new: the last epoch's biases into the table",
    "baseline_biases.cleanup.sql": "new: drops the loop's state",
    "popular_movies.sql": "declares the table (was CREATE OR REPLACE ... AS)",
    "popular_movies.fill.sql": "new: fills it, as every computed table is filled",
    "spark_runs.sql": "new: the warehouse run a Spark-built file reads",
}


class FileLog(logging.Handler):
    """Collects the names of the SQL files run_file runs."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.names: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg == "running %s":
            name = str(record.args[0]) if isinstance(record.args, tuple) else ""
            if name not in self.names:
                self.names.append(name)


def rewrites_of(statement: str) -> set[str]:
    """Which of the project's rewrites change this statement."""
    tree = sqlglot.parse_one(statement, read="duckdb")
    found = set()
    if any(isinstance(t.this, exp.GenerateSeries) for t in tree.find_all(exp.Table)):
        found.add("range -> sequence")
    if isinstance(tree, exp.Create) and str(tree.args.get("kind", "")).upper() == "TABLE":
        found.add("Parquet table")
        if tree.args.get("replace"):
            found.add("OR REPLACE -> DROP")
        if any(isinstance(p, exp.TemporaryProperty) for p in tree.find_all(exp.TemporaryProperty)):
            found.add("TEMP -> run table")
        constraints = (exp.PrimaryKey, exp.PrimaryKeyColumnConstraint, exp.CheckColumnConstraint)
        if any(tree.find_all(*constraints)):
            found.add("constraints dropped")
    if isinstance(tree, exp.Delete):
        found.add("DELETE -> keep + rename" if tree.args.get("where") else "DELETE -> TRUNCATE")
    if rewrite(tree) == [tree] and not found:
        return set()
    return found


def rows_equal(got: list[tuple[Any, ...]], want: list[tuple[Any, ...]]) -> bool:
    def key(row: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple((v is None, round(v, 9) if isinstance(v, float) else str(v)) for v in row)

    if len(got) != len(want):
        return False
    for g, w in zip(sorted(got, key=key), sorted(want, key=key), strict=True):
        for a, b in zip(g, w, strict=True):
            if isinstance(a, float) or isinstance(b, float):
                if a is None or b is None:
                    return False
                if not math.isclose(a, b, rel_tol=RELATIVE, abs_tol=1e-15):
                    return False
            elif str(a) != str(b):
                return False
    return True


def main() -> int:
    log = FileLog()
    logging.getLogger("recsys_duck.sql").addHandler(log)
    logging.getLogger("recsys_duck.sql").setLevel(logging.DEBUG)
    with tempfile.TemporaryDirectory(prefix="portability_") as tmp, Recommender(":memory:") as ref:
        ref.build(TINY, PARAMS)
        spark = session("local[2]", {"spark.sql.shuffle.partitions": "2"}, tmp)
        scope = pipeline.Scope("build", data_dir=TINY, params=PARAMS)
        with duckdb.connect() as driver:
            pipeline.run(driver, replace(scope, phase="driver"))
            run = SparkRun(spark, driver, Path(tmp))
            con = run.start()
            log.names.clear()
            error = None
            try:
                pipeline.run(con, replace(scope, phase="compute", handoff=run))  # type: ignore[arg-type]
            except Exception as failure:  # noqa: BLE001 - reported in the table
                error = f"{type(failure).__name__}: {str(failure)[:200]}"
            lines = [
                "# Every SQL file the Spark engine runs",
                "",
                f"Written by `bench/spark_portability.py`: the tiny data, Spark {spark.version} "
                f"`local[2]`, sqlglot {sqlglot.__version__}. *Rewrites* are the project's own "
                "(recsys_duck/dialect.py) applied at run time to the file's statements; "
                "*equal*: the rows of the table the file creates or fills, on Spark against a "
                "DuckDB build (floats within 1e-12 relative).",
                "",
                "| file | statements | transpiles | runs | equal | rewrites | what changed |",
                "|---|---|---|---|---|---|---|",
            ]
            for name in log.names:
                # The publish step's files share names with the layers' but never run here.
                (path, *_) = [p for p in sorted(SQL.rglob(name)) if "publish" not in p.parts]
                statements = [s.query for s in duckdb.extract_statements(path.read_text())]
                try:
                    for statement in statements:
                        to_spark(statement)
                    transpiles = "yes"
                except Exception as failure:  # noqa: BLE001 - reported in the table
                    transpiles = f"no: {failure}"
                applied = sorted(set().union(*(rewrites_of(s) for s in statements)))
                table = name.split(".")[0]
                try:
                    got = con.execute(f"select * from {table}").fetchall()  # noqa: S608
                    want = ref.con.execute(f"select * from {table}").fetchall()  # noqa: S608
                    equal = f"yes ({len(want)} rows)" if rows_equal(got, want) else "NO"
                except Exception:  # noqa: BLE001 - a helper with no table of its name
                    equal = "- (a helper table, dropped after use)"
                ran = "no" if error and name == log.names[-1] else "yes"
                lines.append(
                    f"| `{path.relative_to(SQL)}` | {len(statements)} | {transpiles} | {ran} | "
                    f"{equal} | {', '.join(applied) or '-'} | {CHANGED.get(name, '-')} |"
                )
            if error:
                lines += ["", f"The compute pass stopped: {error}"]
        spark.stop()
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 1 if error else 0


if __name__ == "__main__":
    sys.exit(main())
