"""The Spark engine, run for real: every core SQL file on a local Spark, compared value by
value with DuckDB on the tiny hand-worked data; a whole ``build --engine spark`` served
by DuckDB to every command; a failed Spark build that leaves everything as it was; and a
``local-cluster`` smoke test.

Spark needs pyspark (``pip install -e '.[spark]'``) and Java 17: under CI=true these tests
fail when either is missing (``.ci/run`` installs both); elsewhere they skip.
"""

from __future__ import annotations

import hashlib
import math
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from recsys_duck import Recommender, pipeline
from recsys_duck.loader import FilesInput
from recsys_duck.params import BuildParams
from recsys_duck.sql import layer_files
from tests.conftest import TINY, parquet_copy
from tests.test_publish import Postgres, pg  # noqa: F401 - the PostgreSQL server fixture

# Three baseline epochs, not ten: each is two Spark jobs (about a second each here).
PARAMS = BuildParams(
    k=3, n_similar_users=2, n_item_neighbors=2, n_recommendations=3, baseline_epochs=3
)
#: The layers Spark runs (the macros are DuckDB's).
SPARK_LAYERS = [step.name for step in pipeline.PLAN if step.is_layer and step.spark]
#: Similarities and scores agree to this relative error (sums in another order).
RELATIVE = 1e-12


def _require_spark() -> None:
    missing = []
    try:
        import pyspark  # noqa: F401
    except ImportError:
        missing.append("pyspark (pip install -e '.[spark]')")
    if shutil.which("java") is None:
        missing.append("Java 17")
    if missing:
        message = "the Spark engine needs " + " and ".join(missing)
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (.ci/run installs them)")
        pytest.skip(message)


@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    _require_spark()
    from recsys_duck.spark import session

    warehouse = tmp_path_factory.mktemp("spark_warehouse")
    yield session("local[2]", {"spark.sql.shuffle.partitions": "1"}, str(warehouse))


@pytest.fixture(scope="module")
def reference() -> Iterator[duckdb.DuckDBPyConnection]:
    """The tiny data built by DuckDB alone."""
    with Recommender(":memory:") as rec:
        rec.build(TINY, PARAMS)
        yield rec.con


def _objects() -> list[str]:
    """Every object of the layers Spark runs, and every table the plan fills."""
    names = [path.stem for layer in SPARK_LAYERS for path in layer_files(layer)]
    return sorted(set(names))


def _canonical(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _sort_key(row: tuple[Any, ...]) -> tuple[Any, ...]:
    # Floats are rounded for the order only, so that rows equal within RELATIVE pair up.
    return tuple(
        (v is None, round(v, 9) if isinstance(v, float) else v if v is not None else 0) for v in row
    )


def _same_rows(name: str, got: list[tuple[Any, ...]], want: list[tuple[Any, ...]]) -> None:
    assert len(got) == len(want), f"{name}: {len(got)} rows on Spark, {len(want)} on DuckDB"
    got = sorted((tuple(_canonical(v) for v in row) for row in got), key=_sort_key)
    want = sorted((tuple(_canonical(v) for v in row) for row in want), key=_sort_key)
    for g, w in zip(got, want, strict=True):
        for a, b in zip(g, w, strict=True):
            if isinstance(a, float) or isinstance(b, float):
                assert a is not None and b is not None, f"{name}: {g} != {w}"
                assert math.isclose(a, b, rel_tol=RELATIVE, abs_tol=1e-15), f"{name}: {g} != {w}"
            else:
                assert a == b, f"{name}: {g} != {w}"


BATCHED = {"item_pair_sums", "user_pair_sums", "content_neighbors", "recommendations"}
#: Tables that record when they were computed: two builds agree on all but that time.
WHEN_COMPUTED_LEFT_OUT = {"freshness": "table_name, is_stale, stale_since, ratings_added_since"}


@pytest.mark.parametrize(("partitions", "adaptive", "batches"), [(1, False, None), (7, True, 3)])
def test_every_core_file_runs_on_spark_and_agrees_with_duckdb(
    spark: Any,
    reference: duckdb.DuckDBPyConnection,
    partitions: int,
    adaptive: bool,
    batches: int | None,
    tmp_path: Path,
) -> None:
    """The plan's driver pass on DuckDB, its compute pass on Spark (every layer but the
    macros, every filling step), then each object's rows on Spark against DuckDB's. Twice
    in one session: other shuffle partitions and adaptive execution give other plans, and
    the second run cuts the batched steps into batches as a cluster build may ask."""
    from recsys_duck.spark import SparkRun

    spark.conf.set("spark.sql.shuffle.partitions", str(partitions))
    spark.conf.set("spark.sql.adaptive.enabled", str(adaptive).lower())
    scope = pipeline.Scope("build", data_dir=TINY, params=PARAMS, spark_batches=batches)
    with duckdb.connect() as driver:
        pipeline.run(driver, replace(scope, phase="driver"))
        run = SparkRun(spark, driver, tmp_path)
        con = run.start()
        compute = replace(scope, phase="compute", handoff=run)
        report = pipeline.run(con, compute)  # type: ignore[arg-type]
    assert set(report.batches) == BATCHED
    if batches is None:
        assert set(report.batches.values()) == {1}
    else:
        # Every step is cut, and none into more statements than asked for.
        assert all(2 <= n <= batches for n in report.batches.values()), report.batches
    compared = 0
    for name in _objects():
        columns = WHEN_COMPUTED_LEFT_OUT.get(name, "*")
        got = con.execute(f"select {columns} from {name}").fetchall()  # noqa: S608 - our own names
        cursor = reference.execute(f"select {columns} from {name}")  # noqa: S608
        want = cursor.fetchall()
        assert [d[0] for d in con.description or []] == [d[0] for d in cursor.description]
        _same_rows(name, got, want)
        compared += bool(want)
    # The tiny data leaves the evaluation tables empty, and nothing else.
    assert compared >= 40


REWRITTEN = (
    "create or replace table t (a integer not null, b double, primary key (a))",
    "insert into t values (1, 1.0), (2, null), (3, 3.0), (4, 4.0)",
    "create or replace temp table _gone as select 2 as a union all select 3 as a",
    # NULL conditions (b > 2 on row 2) keep their row, as DELETE does.
    "delete from t where a in (select g.a from _gone as g) and b > 2",
    "create or replace table r as select s.k from range(2, (select max(a) from t)) as s(k) "
    "union all select e.k from range(5, 5) as e(k)",
)


def test_the_rewritten_statements_do_on_spark_what_they_do_on_duckdb(
    spark: Any, tmp_path: Path
) -> None:
    from recsys_duck.spark import SparkConnection

    spark.sql(f"CREATE DATABASE rewrites LOCATION '{tmp_path}'")
    con = SparkConnection(spark, "rewrites")
    with duckdb.connect() as duck:
        for statement in REWRITTEN:
            con.execute(statement)
            duck.execute(statement)
        for table in ("t", "r"):
            query = f"select * from {table}"  # noqa: S608 - our own names
            got, want = con.execute(query).fetchall(), duck.execute(query).fetchall()
            assert sorted(got, key=_sort_key) == sorted(want, key=_sort_key)
        assert len(want) == 2  # range(2, 4) and the empty range(5, 5)


def _cli(*args: str, db: Path, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "recsys_duck.cli", "--db", str(db), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


SPARK_BUILD = (
    "build",
    "--engine",
    "spark",
    "--spark-master",
    "local[2]",
    "--spark-conf",
    "spark.sql.shuffle.partitions=2",
    # Adaptive execution re-plans each small job; off, the tiny build takes 15% less.
    "--spark-conf",
    "spark.sql.adaptive.enabled=false",
    "--data",
    str(TINY),
)


def _from_parquet(source: FilesInput) -> tuple[str, ...]:
    """SPARK_BUILD reading ``source`` instead of the folder, on the folder's scale (files
    of your own are otherwise on the scale their ratings show)."""
    paths = (
        "--ratings",
        source.ratings,
        "--movies",
        str(source.movies),
        "--tags",
        str(source.tags),
    )
    scale = ("--rating-scale", "0.5:5:0.5")
    return (*SPARK_BUILD[: SPARK_BUILD.index("--data")], *paths, *scale)


@pytest.fixture(scope="module")
def spark_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny data built by ``recsys-duck build --engine spark`` from Parquet files that
    Spark reads (ratings: a folder of two files), as from a data lake."""
    _require_spark()
    folder = tmp_path_factory.mktemp("spark_cli")
    source = parquet_copy(TINY, folder / "parquet")
    path = folder / "spark.duckdb"
    done = _cli(*_from_parquet(source), db=path)
    assert done.returncode == 0, done.stderr
    return path


@pytest.fixture(scope="module")
def duckdb_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("duckdb_cli") / "duck.duckdb"
    done = _cli("build", *SPARK_BUILD[SPARK_BUILD.index("--data") :], db=path)  # on DuckDB
    assert done.returncode == 0, done.stderr
    return path


SERVED = (
    "movies",
    "ratings",
    "recsys_params",
    "movie_terms",
    "baseline_biases",
    "item_pair_sums",
    "user_pair_sums",
    "item_neighbors",
    "user_neighbors",
    "content_neighbors",
    "popular_movies",
    "recommendations",
)


def test_a_spark_build_serves_the_tables_of_a_duckdb_build(spark_db: Path, duckdb_db: Path) -> None:
    with (
        duckdb.connect(str(spark_db), read_only=True) as got,
        duckdb.connect(str(duckdb_db), read_only=True) as want,
    ):
        for table in SERVED:
            query = f"select * from {table}"  # noqa: S608 - our own names
            _same_rows(table, got.execute(query).fetchall(), want.execute(query).fetchall())
        # Half-star products are exact: the pair sums are bit-identical, not just close.
        query = "select * from item_pair_sums order by all"
        assert got.execute(query).fetchall() == want.execute(query).fetchall()
        (folder,) = got.execute("select run_folder from spark_runs").fetchone() or ("",)
    runs = Path(folder).parent
    assert [p.name for p in runs.iterdir()] == [Path(folder).name]  # no .partial left


def test_every_command_reads_a_spark_build(
    spark_db: Path,
    duckdb_db: Path,
    pg: Postgres,  # noqa: F811 - the fixture imported above
    tmp_path: Path,
) -> None:
    for args in (
        ("recommend", "1", "--method", "item", "-n", "3"),
        ("similar", "1", "-n", "2"),
        # The hardened reader may read the run folder's pair sums, and nothing else.
        ("sql", "select count(*) as n from item_similarity"),
    ):
        got, want = _cli(*args, db=spark_db), _cli(*args, db=duckdb_db)
        assert got.returncode == 0, got.stderr
        assert got.stdout == want.stdout
    refused = _cli("sql", "select * from read_csv('/etc/passwd')", db=spark_db)
    assert refused.returncode == 1 and "Permission Error" in refused.stderr
    report = _cli("report", "--out", str(tmp_path / "report.html"), db=spark_db)
    assert report.returncode == 0, report.stderr
    assert (tmp_path / "report.html").stat().st_size > 10_000
    published = _cli("publish", "--postgres", pg.publisher, "--schema", "spark", db=spark_db)
    assert published.returncode == 0, published.stderr
    with pg.connect(pg.publisher) as con:
        (n,) = con.execute("select count(*) from spark.item_neighbors").fetchone() or (0,)
    with duckdb.connect(str(spark_db), read_only=True) as db:
        assert (n,) == db.execute("select count(*) from item_neighbors").fetchone()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_failed_spark_build_leaves_the_file_and_the_warehouse_as_they_were(
    spark_db: Path,
) -> None:
    before = _digest(spark_db)
    runs = Path(f"{spark_db}.warehouse") / "runs"
    runs_before = sorted(p.name for p in runs.iterdir())
    # Results of 1 byte at most: the first Spark job fails, after DuckDB has loaded the
    # data and Spark has made the run's database in the warehouse.
    failed = _cli(*SPARK_BUILD, "--spark-conf", "spark.driver.maxResultSize=1", db=spark_db)
    assert failed.returncode == 1
    last = failed.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: Spark failed: Job aborted") and "maxResultSize" in last
    assert "Traceback" not in failed.stderr
    assert _digest(spark_db) == before
    assert sorted(p.name for p in runs.iterdir()) == runs_before
    added = _cli("add-ratings", str(TINY / "ratings.csv"), db=spark_db)
    assert added.returncode == 1 and "built on Spark" in added.stderr


def test_a_bad_parquet_value_read_by_spark_is_named_by_file_row_and_column(
    spark_db: Path, tmp_path: Path
) -> None:
    source = parquet_copy(TINY, tmp_path / "parquet")
    bad = tmp_path / "parquet" / "ratings" / "part-1.parquet"
    duckdb.execute(
        f"copy (select * replace (if(movieId = 3, 9.0, rating) as rating) "  # noqa: S608
        f"from '{bad}') to '{tmp_path / 'bad.parquet'}'"
    )
    (tmp_path / "bad.parquet").replace(bad)
    before = _digest(spark_db)
    runs = Path(f"{spark_db}.warehouse") / "runs"
    runs_before = sorted(p.name for p in runs.iterdir())
    failed = _cli(*_from_parquet(source), db=spark_db)
    assert failed.returncode == 1
    (last,) = failed.stderr.strip().splitlines()[-1:]
    # Spark's copy keeps each row's file and row: the message names the user's file.
    # (user 2, movie 3) is the second row of part-1, the even users' file.
    assert last.startswith(f"Error: file:{bad}, row 2, column rating: rating 9.0 is outside")
    assert _digest(spark_db) == before
    assert sorted(p.name for p in runs.iterdir()) == runs_before


LOCAL_CLUSTER = """
import sys
from pathlib import Path
import duckdb
from recsys_duck import pairs, pipeline
from recsys_duck.loader import load_movielens
from recsys_duck.spark import SparkRun, session
from recsys_duck.sql import object_file, run_file

spark = session("local-cluster[2,1,1024]", {"spark.sql.shuffle.partitions": "2"}, sys.argv[2])
driver = duckdb.connect()
for table in ("movies", "ratings", "tags", "links"):
    run_file(driver, object_file(table))
load_movielens(driver, Path(sys.argv[1]))
run = SparkRun(spark, driver, Path(sys.argv[2]))
con = run.start()
for table in ("ratings", "user_pair_sums"):
    run_file(con, object_file(table))
run.to_spark(["ratings"])
pairs.compute_portably(con, ["user"], pipeline.EVERY_POSITION)
print(spark.sparkContext.master, spark.sparkContext._jsc.sc().getExecutorMemoryStatus().size())
for row in sorted(con.execute("select * from user_pair_sums").fetchall()):
    print(*row)
spark.stop()
"""


def test_a_local_cluster_computes_the_same_pair_sums(
    reference: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """Two executor JVMs started from the pip wheel, as on a standalone cluster."""
    _require_spark()
    done = subprocess.run(
        [sys.executable, "-c", LOCAL_CLUSTER, str(TINY), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    header, *rows = done.stdout.strip().splitlines()
    master, processes = header.split()
    assert master == "local-cluster[2,1,1024]" and int(processes) == 3  # driver + 2 executors
    want = sorted(reference.execute("select * from user_pair_sums").fetchall())
    assert rows == [" ".join(str(v) for v in row) for row in want]


def test_parameters_are_matched_by_whole_name() -> None:
    from recsys_duck.spark import _used

    args = {"k": 1, "k_min": 2, "lo": 3}
    assert _used("select :k_min as a", args) == {"k_min": 2}
    assert _used("select :k, :lo", args) == {"k": 1, "lo": 3}
    assert _used("select 1", args) is None


@pytest.mark.parametrize("name", ["it's", "back\\slash", "tick`"])
def test_a_warehouse_path_that_spark_sql_would_misread_is_refused(
    tmp_path: Path, name: str
) -> None:
    from recsys_duck.errors import InvalidArgumentError
    from recsys_duck.spark import SparkOptions

    with pytest.raises(InvalidArgumentError, match="choose another with --warehouse"):
        SparkOptions(warehouse=tmp_path / name).warehouse_for("x.duckdb")
    assert (
        SparkOptions().warehouse_for(str(tmp_path / "x.duckdb")) == tmp_path / "x.duckdb.warehouse"
    )
