"""The Spark engine: the project's SQL files run on a SparkSession.

:class:`SparkConnection` takes the place of a DuckDB connection where the plan runs SQL
(:func:`recsys_duck.sql.run_file` and friends): each DuckDB statement is turned into
Spark SQL by :func:`recsys_duck.dialect.to_spark` and run in one Spark database, with
the same named parameters bound by ``spark.sql(args=...)``. Results are fetched like a
DuckDB cursor's (``fetchone``, ``fetchall``, ``description``); the plan only fetches
small results (counts, settings, batch bounds).

pyspark is an optional extra (``pip install 'recsys-duck[spark]'``, Java 17 on the
machine); this module imports it only when a session is made.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from recsys_duck.errors import DataError, InvalidArgumentError, RecsysError
from recsys_duck.sql import execute, quote_identifier, string_literal

if TYPE_CHECKING:  # pragma: no cover
    from pyspark.sql import SparkSession

logger = logging.getLogger(__name__)
# py4j logs each connection it closes at INFO ("Closing down clientserver connection").
logging.getLogger("py4j").setLevel(logging.WARNING)

#: Settings every session gets unless the caller sets them: timestamps in UTC as DuckDB
#: keeps them, and no web UI (its port is one more thing to fail on a shared machine).
DEFAULT_CONF: dict[str, str] = {
    "spark.sql.session.timeZone": "UTC",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.driver.extraJavaOptions": "-Dlog4j2.configurationFile="
    + (Path(__file__).parent / "spark_log4j2.properties").as_uri(),
}


#: The tables that stay in the warehouse as Parquet: the DuckDB file reads them through
#: views (the pair sums: 13M rows at ml-latest-small, 1.3 billion at 25M ratings).
KEPT_IN_PARQUET = frozenset({"item_pair_sums", "user_pair_sums"})
#: Where a warehouse keeps its runs: ``runs/<id>.partial`` while Spark writes,
#: ``runs/<id>`` once it has succeeded (renamed: readers never see half a run).
RUNS = "runs"
PARTIAL = ".partial"
#: The run's copy of Parquet input, which DuckDB loads before it is removed.
INPUT = "_input"


def run_folders(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The warehouse run folders the database file reads (``spark_runs``; none for a
    DuckDB build, or a file made before the table existed)."""
    (has_table,) = execute(
        con,
        "select count(*) from duckdb_tables() "
        "where database_name = current_database() and table_name = 'spark_runs'",
    ).fetchone() or (0,)
    if not has_table:
        return []
    return [str(row[0]) for row in execute(con, "select run_folder from spark_runs").fetchall()]


class SparkUnavailableError(RecsysError):
    """pyspark or Java is missing."""


class SparkError(RecsysError):
    """A statement failed on Spark (the message is Spark's first line)."""


def _first_line(error: BaseException) -> str:
    """The line of a Spark or py4j error that says what went wrong: the last ``Caused
    by``, else the Java exception's message, without the Java class name."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    causes = [line for line in lines if line.startswith("Caused by:")]
    if causes:
        line = causes[-1].removeprefix("Caused by:").strip()
    elif len(lines) > 1 and lines[0].startswith("An error occurred while calling"):
        line = lines[1].lstrip(": ")
    else:
        line = lines[0] if lines else type(error).__name__
    return re.sub(r"^[\w.$]+(Exception|Error): ", "", line)


@dataclass(frozen=True)
class SparkOptions:
    """Where and how a build runs on Spark: the master URL (``local[*]``,
    ``spark://host:7077``, ``yarn``, ``k8s://...``), Spark settings (``conf``), the
    warehouse folder whose ``runs/`` hold each run's tables as Parquet (None: beside the
    database file, ``<file>.warehouse``), and ``batches``: None runs each batched step
    (pair sums, content neighbours, the recommendations mart) as one statement, which
    Spark plans and spills itself; a number cuts each into at most that many statements
    of about equal work, for a cluster where one statement's shuffle would not fit."""

    master: str = "local[*]"
    conf: Mapping[str, str] = field(default_factory=dict)
    warehouse: Path | None = None
    batches: int | None = None

    def __post_init__(self) -> None:
        if self.batches is not None and self.batches < 1:
            raise InvalidArgumentError(f"Spark batches must be at least 1, not {self.batches}")

    def warehouse_for(self, database: str) -> Path:
        if self.warehouse is not None:
            folder = Path(self.warehouse).resolve()
        elif database == ":memory:":
            raise RecsysError("a Spark build of an in-memory database needs a warehouse folder")
        else:
            folder = Path(f"{database}.warehouse").resolve()
        # Spark SQL reads backslashes in a string literal as escapes, and the folder is
        # one (CREATE DATABASE ... LOCATION takes no parameter).
        if any(c in str(folder) for c in "'\\`"):
            raise InvalidArgumentError(
                f"the warehouse folder {folder} has a quote or backslash in its path, which "
                "Spark SQL would misread; choose another with --warehouse"
            )
        return folder


def session(
    master: str = "local[*]",
    conf: Mapping[str, str] | None = None,
    warehouse: str | None = None,
) -> SparkSession:
    """A SparkSession on ``master`` (``local[*]``, ``spark://host:7077``, ``yarn``,
    ``k8s://...``) with :data:`DEFAULT_CONF`, ``conf`` over it, and its warehouse
    folder. An existing session of this process is reused (Spark allows one)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as error:
        raise SparkUnavailableError(
            "the Spark engine needs pyspark: pip install 'recsys-duck[spark]' (and Java 17)"
        ) from error
    builder = SparkSession.builder.master(master).appName("recsys-duck")
    settings = {**DEFAULT_CONF, **(conf or {})}
    if warehouse is not None:
        settings["spark.sql.warehouse.dir"] = warehouse
    for key, value in settings.items():
        builder = builder.config(key, value)
    try:
        with warnings.catch_warnings():
            # pyspark 4.3 warns that it does not yet fully support pandas 3; the engine
            # hands tables over as Parquet files, never as pandas frames.
            warnings.simplefilter("ignore", FutureWarning)
            spark = builder.getOrCreate()
    except Exception as error:  # py4j raises plain exceptions when Java is missing
        raise SparkUnavailableError(
            f"cannot start Spark on {master}: {_first_line(error)}"
        ) from error
    spark.sparkContext.setLogLevel("OFF")  # failures reach the caller as exceptions
    return spark


class SparkConnection:
    """Runs DuckDB-dialect statements on ``spark`` in ``database`` (see the module doc)."""

    def __init__(self, spark: SparkSession, database: str) -> None:
        self.spark = spark
        self.database = database
        self._rows: list[tuple[Any, ...]] = []
        self.description: list[tuple[str, ...]] | None = None
        spark.sql(f"USE {database}")

    def execute(
        self, statement: str, params: Sequence[Any] | Mapping[str, Any] | None = None
    ) -> SparkConnection:
        from recsys_duck.dialect import returns_rows, to_spark  # sqlglot: the spark extra

        if params is not None and not isinstance(params, Mapping):
            raise TypeError("the Spark engine binds named parameters only")
        parts = to_spark(statement)
        args = dict(params) if params else None
        frame = None
        for part in parts:
            logger.debug("Spark SQL %s | args=%r", part, args)
            try:
                frame = self.spark.sql(part, args=_used(part, args))
            except Exception as error:  # pyspark's and py4j's errors share no base class
                raise SparkError(f"Spark failed: {_first_line(error)}") from error
        self._rows, self.description = [], None
        if frame is not None and returns_rows(statement):
            self._rows = [tuple(row) for row in frame.collect()]
            self.description = [(name,) for name in frame.columns]
        return self

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._rows.pop(0) if self._rows else None

    def fetchall(self) -> list[tuple[Any, ...]]:
        rows, self._rows = self._rows, []
        return rows


def _used(statement: str, args: dict[str, Any] | None) -> dict[str, Any] | None:
    """The arguments a Spark statement names (Spark refuses unused ones in some forms)."""
    if not args:
        return None
    used = {name: value for name, value in args.items() if re.search(rf":{name}\b", statement)}
    return used or None


class SparkRun:
    """One build's tables on Spark, and their way into and out of DuckDB (the
    :class:`recsys_duck.pipeline.Handoff` of a build that Spark computes).

    Spark's tables live in a database of their own at ``<warehouse>/runs/<id>.partial``;
    :meth:`publish` renames the folder to ``runs/<id>`` and points the DuckDB views of
    :data:`KEPT_IN_PARQUET` at it. Until then nothing outside the ``.partial`` folder has
    changed, and :meth:`abandon` removes it.
    """

    def __init__(
        self, spark: SparkSession, duck: duckdb.DuckDBPyConnection, warehouse: Path
    ) -> None:
        self.spark = spark
        self.duck = duck
        self.run_id = f"{time.strftime('%Y%m%dT%H%M%S')}_{os.getpid()}_{time.monotonic_ns()}"
        self.partial = warehouse / RUNS / f"{self.run_id}{PARTIAL}"
        self.final = warehouse / RUNS / self.run_id
        self.database = f"recsys_{self.run_id}"
        self.kept: list[str] = []
        # The folders this run creates, removed again if it fails.
        self._created = [p for p in (warehouse / RUNS, warehouse) if not p.exists()]

    def start(self) -> SparkConnection:
        """Create the run's Spark database; returns a connection that uses it. Removes
        the ``.partial`` folders of runs that were killed (a warehouse serves one database
        file, whose writers take turns: see :func:`recsys_duck.storage.writer`)."""
        for stale in self.partial.parent.glob(f"*{PARTIAL}"):
            logger.info("removing %s, left by a build that did not finish", stale)
            shutil.rmtree(stale, ignore_errors=True)
        self.partial.mkdir(parents=True)
        location = string_literal(str(self.partial))
        try:
            self.spark.sql(f"CREATE DATABASE {self.database} LOCATION {location}")
        except Exception as error:  # a setting refused when the session's state is made
            raise SparkError(f"Spark failed: {_first_line(error)}") from error
        return SparkConnection(self.spark, self.database)

    def to_spark(self, tables: Sequence[str]) -> None:
        """The DuckDB tables, by Parquet files, into the Spark tables of the same names
        (declared by the same ``00_tables`` files, so their columns are in one order), replacing
        what the layers put there (the default settings row)."""
        handoff = self.partial / "_handoff"
        handoff.mkdir(exist_ok=True)
        for table in tables:
            path = handoff / f"{table}.parquet"
            # COPY takes no bound parameters: the path is this run's own file.
            execute(
                self.duck,
                f"copy {quote_identifier(table)} to {string_literal(str(path))} (format parquet)",
            )
            # By position, as the tables are declared alike (no path inside SQL text).
            self.spark.read.parquet(str(path)).write.insertInto(table, overwrite=True)

    def read_input(self, sources: Mapping[str, str]) -> dict[str, str]:
        """Spark reads each table's Parquet files where they live and writes them to the
        run folder, with each row's file and 0-based row index (``filename``,
        ``file_row_number``, as DuckDB's reader names them) for the loader's messages;
        returns the glob of each copy. The copies go when the run is published."""
        copies = {}
        for table, path in sources.items():
            target = self.partial / INPUT / table
            try:
                frame = self.spark.read.parquet(path)
                located = frame.select(
                    "*",
                    frame["_metadata.file_path"].alias("filename"),
                    frame["_metadata.row_index"].alias("file_row_number"),
                )
                located.write.parquet(str(target))
            except Exception as error:  # pyspark's and py4j's errors share no base class
                raise DataError(
                    f"Spark cannot read it as Parquet ({_first_line(error)}); pass a Parquet "
                    "file, a folder of Parquet files or a glob Spark reads",
                    path=path,
                ) from error
            copies[table] = str(target / "*.parquet")
        return copies

    def to_duckdb(self, tables: Sequence[str]) -> None:
        """The Spark tables into the DuckDB tables of the same names (their layer files
        declare them alike); the pair sums stay in Parquet (see :meth:`publish`)."""
        for table in tables:
            if table in KEPT_IN_PARQUET:
                self.kept.append(table)
                continue
            files = _parquet_files(self.partial / table)
            if files:
                execute(
                    self.duck,
                    f"insert into {quote_identifier(table)} "  # noqa: S608 - own names
                    "select * from read_parquet(?)",
                    [[str(f) for f in files]],
                )

    def publish(self) -> None:
        """Rename the run's folder into place, then make each table kept in Parquet a
        DuckDB view of its files there."""
        for scratch in ("_handoff", INPUT):
            shutil.rmtree(self.partial / scratch, ignore_errors=True)
        os.replace(self.partial, self.final)
        execute(
            self.duck,
            "insert into spark_runs (run_folder, master, built_at) values (?, ?, now()::timestamp)",
            [str(self.final), self.spark.sparkContext.master],
        )
        for table in self.kept:
            files = _parquet_files(self.final / table)
            if not files:
                continue  # not computed (that side's neighbours were left out): stays empty
            name = quote_identifier(table)
            execute(self.duck, f"drop table {name}")
            execute(
                self.duck,
                f"create view {name} as select * from read_parquet("  # noqa: S608
                f"{string_literal(str(self.final / table / '*.parquet'))})",
            )

    def abandon(self) -> None:
        """Remove whatever this run wrote to the warehouse."""
        for folder in (self.partial, self.final):
            shutil.rmtree(folder, ignore_errors=True)
        for folder in self._created:
            with contextlib.suppress(OSError):  # not empty: another run's
                folder.rmdir()


def _parquet_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.parquet"))


@contextmanager
def spark_run(
    duck: duckdb.DuckDBPyConnection, options: SparkOptions, database: str
) -> Iterator[SparkRun]:
    """A :class:`SparkRun` in the warehouse of ``options`` for the DuckDB ``database``;
    removed from the warehouse if the block raises."""
    warehouse = options.warehouse_for(database)
    spark = session(options.master, options.conf, str(warehouse))
    run = SparkRun(spark, duck, warehouse)
    try:
        yield run
    except BaseException:
        run.abandon()
        raise


def forget_older_runs(warehouse: Path, keep: str) -> list[str]:
    """Delete the runs of ``warehouse`` other than ``keep`` (the one the database file now
    reads); returns their ids. Run after the database file is committed."""
    removed = []
    for folder in sorted((warehouse / RUNS).glob("*")):
        if folder.name != keep:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder.name)
    return removed
