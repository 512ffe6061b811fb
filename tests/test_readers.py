"""Readers of the database file: hardened read-only connections, and rebuilds that
never break them.

``build`` and ``evaluate`` write a temporary file beside the database and atomically
rename it over the old one (``recsys_duck.storage.write_through``), so a reader either
keeps the snapshot it opened or opens the new file, and never sees a half-written one.
Read-only connections opened for others cannot reach the file system.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path
from typing import Any, get_args

import duckdb
import pandas as pd
import pytest

from recsys_duck import DataError, NotBuiltError, NotFoundError, Recommender, RecsysError
from recsys_duck.params import BuildParams, Method
from recsys_duck.publish import postgres_extension_path
from recsys_duck.storage import HARDENING, write_in_place, write_through
from tests.conftest import TINY

PARAMS = BuildParams(k=3, n_similar_users=2, n_item_neighbors=2, n_recommendations=3)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """The tiny dataset built into a database file of its own folder."""
    path = tmp_path / "db" / "tiny.duckdb"
    with Recommender(path) as rec:
        rec.build(TINY, PARAMS)
    return path


def leftovers(path: Path) -> list[str]:
    """Files beside the database other than the database and the writers' lock file."""
    return sorted(p.name for p in path.parent.iterdir() if p.name not in {path.name, lock(path)})


def lock(path: Path) -> str:
    return f".{path.name}.lock"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tiny_with(folder: Path, *ratings: str) -> Path:
    """A copy of the tiny dataset with rating rows ("user,movie,rating,timestamp") added."""
    shutil.copytree(TINY, folder)
    with open(folder / "ratings.csv", "a", encoding="utf-8") as f:
        f.writelines(row + "\n" for row in ratings)
    return folder


# -- hardened read-only connections -------------------------------------------------


def postgres_extension_file() -> str | None:
    """The postgres extension binary of the duckdb-extension-postgres-scanner wheel."""
    try:
        return str(postgres_extension_path())
    except RecsysError:
        return None


# Each must fail on a hardened connection, for the reason given. {tmp} is a fresh
# folder; {extension} the postgres extension file, which an ordinary connection loads.
NO_FILES = "file system operations are disabled by configuration"
NO_LOADING = "Loading external extensions is disabled through configuration"
LOCKED = "the configuration has been locked"
NOT_AUTOLOADED = "is not in the catalog, but it exists in the postgres_scanner extension"
FORBIDDEN = {
    "read_csv": ("select * from read_csv('/etc/passwd')", NO_FILES),
    "read_text": ("select * from read_text('/etc/passwd')", NO_FILES),
    "read_blob": ("select * from read_blob('/etc/passwd')", NO_FILES),
    "glob": ("select * from glob('/etc/*')", NO_FILES),
    "copy_to": ("copy (select 1) to '{tmp}/x.csv'", NO_FILES),
    "copy_from": ("copy ratings from '/etc/passwd'", NO_FILES),
    "export_database": ("export database '{tmp}/export'", NO_FILES),
    "attach": ("attach '{tmp}/other.duckdb'", NO_FILES),
    "install": ("install httpfs", NO_FILES),
    "load_by_name": ("load postgres_scanner", NO_LOADING),
    "load_file": ("load '{extension}'", NO_LOADING),
    "autoload": ("select * from postgres_scan('', 'public', 'x')", NOT_AUTOLOADED),
    "enable_external_access": ("set enable_external_access = true", LOCKED),
    "reset_external_access": ("reset enable_external_access", LOCKED),
    "unlock": ("set lock_configuration = false", LOCKED),
    "reset_lock": ("reset lock_configuration", LOCKED),
    "autoload_on": ("set autoload_known_extensions = true", LOCKED),
    "autoinstall_on": ("set autoinstall_known_extensions = true", LOCKED),
    "community_extensions": ("set allow_community_extensions = true", LOCKED),
    "unsigned_extensions": ("set allow_unsigned_extensions = true", LOCKED),
}


@pytest.mark.parametrize("name", sorted(FORBIDDEN))
def test_hardened_connection_refuses(db: Path, tmp_path: Path, name: str) -> None:
    sql, reason = FORBIDDEN[name]
    extension = postgres_extension_file()
    if "{extension}" in sql and extension is None:
        message = "duckdb-extension-postgres-scanner is not installed (the test extra has it)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    target = tmp_path / "written"
    target.mkdir()
    with Recommender(db, read_only=True) as rec:
        with pytest.raises(duckdb.Error, match=reason):
            rec.con.execute(sql.format(tmp=target, extension=extension)).fetchall()
        for setting, wanted in {**HARDENING, "lock_configuration": True}.items():
            (value,) = rec.con.execute("select current_setting(?)", [setting]).fetchone() or ()
            assert value == wanted, setting
    assert list(target.iterdir()) == []  # nothing was written


def test_the_refused_statements_work_on_an_ordinary_connection(tmp_path: Path) -> None:
    """The hardening, not some other failure, is what stops them."""
    extension = postgres_extension_file()
    con = duckdb.connect()
    con.execute("create table ratings (line varchar)")
    for name in ("read_text", "glob", "copy_to", "attach", "export_database", "load_file"):
        if name == "load_file" and extension is None:
            continue
        sql, _ = FORBIDDEN[name]
        con.execute(sql.format(tmp=tmp_path, extension=extension)).fetchall()
    assert (tmp_path / "x.csv").exists() and (tmp_path / "other.duckdb").exists()


def test_every_macro_and_view_works_on_a_hardened_connection(db: Path, tiny: Recommender) -> None:
    """Hardening takes nothing the analyst-facing objects need: the results equal those
    of an ordinary in-memory build of the same data."""
    with Recommender(db, read_only=True) as rec:
        for method in get_args(Method):
            got = rec.recommend(1, n=3, method=method, k=2)
            assert not got.empty
            pd.testing.assert_frame_equal(got, tiny.recommend(1, n=3, method=method, k=2))
        for movie, method in (("Gamma", "content"), (3, "item"), ("Beta, The (2001)", "item")):
            pd.testing.assert_frame_equal(
                rec.similar(movie, n=2, method=method), tiny.similar(movie, n=2, method=method)
            )
        lookups = "select movie_id_of('Gamma') as m, user_id_of(2) as u, stored_k_at_least(3) as k"
        pd.testing.assert_frame_equal(rec.sql(lookups), tiny.sql(lookups))
        with pytest.raises(NotFoundError, match="unknown user_id 99"):
            rec.recommend(99, method="user", k=2)
        with pytest.raises(NotFoundError, match="unknown user_id 99"):
            rec.recommend(99)
        with pytest.raises(NotFoundError, match="did you mean 'Beta, The"):
            rec.similar("Beta", n=2)
        for name in ("stats", "user_stats", "movie_stats", "recommendations"):
            pd.testing.assert_frame_equal(getattr(rec, name)(), getattr(tiny, name)())
        assert all(found.empty for found in rec.audit().values())
        assert rec.sql("select count(*) as n from eval_rating_metrics")["n"].tolist() == [0]


def test_read_only_recommender_refuses_to_write(db: Path) -> None:
    before = sha256(db)
    with Recommender(db, read_only=True) as rec:
        with pytest.raises(RecsysError, match="opened read-only"):
            rec.build()
        with pytest.raises(RecsysError, match="opened read-only"):
            rec.evaluate("holdout")
    assert sha256(db) == before


def test_two_hardened_recommenders_in_one_process(db: Path) -> None:
    """DuckDB gives both the same, already locked, database instance."""
    with Recommender(db, read_only=True) as first, Recommender(db, read_only=True) as second:
        assert first.stats().equals(second.stats())


def test_cli_sql_verb_is_hardened(db: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "recsys_duck.cli", "--db", str(db)]
        + ["sql", "select * from read_text('/etc/passwd')"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        'Error: Permission Error: Cannot access file "/etc/passwd" - file system operations '
        "are disabled by configuration"
    ]
    assert "root" not in done.stdout


# -- writing through a temporary file ------------------------------------------------


def test_build_replaces_the_file_and_leaves_nothing_behind(db: Path) -> None:
    inode = db.stat().st_ino
    with Recommender(db) as rec:
        rec.build(TINY, PARAMS)
        assert rec.stats()["n_ratings"].tolist() == [7]
    assert db.stat().st_ino != inode  # a new file, renamed over the old one
    assert leftovers(db) == []  # no temporary file, no WAL


def test_rebuild_without_data_carries_the_raw_tables_over(db: Path, tmp_path: Path) -> None:
    """The raw tables are copied from the old file; evaluation results are dropped, as
    they describe the old models."""
    params = BuildParams(k=3, n_similar_users=1, n_item_neighbors=1, n_recommendations=2)
    with Recommender(db) as rec:
        rec.evaluate("holdout", test_fraction=0.5)
        assert len(rec.sql("select * from eval_predictions")) > 0
        raw = {t: rec.sql(f"select * from {t} order by all") for t in ("movies", "ratings")}  # noqa: S608
        report = rec.build(None, params)
        assert "copy" in report.seconds and "load" not in report.seconds
        for table, before in raw.items():
            pd.testing.assert_frame_equal(rec.sql(f"select * from {table} order by all"), before)  # noqa: S608
        assert rec.sql("select count(*) as n from eval_predictions")["n"].tolist() == [0]
        got = rec.recommendations()
    with Recommender(":memory:") as fresh:
        fresh.build(TINY, params)
        pd.testing.assert_frame_equal(got, fresh.recommendations())
    assert leftovers(db) == []


def test_failed_rebuild_leaves_the_file_unchanged(db: Path, tmp_path: Path) -> None:
    bad = tiny_with(tmp_path / "bad", "1,3,7.0,1100")  # line 9: rating out of range
    before = sha256(db)
    with Recommender(db) as rec:
        with pytest.raises(DataError, match="line 9, column rating"):
            rec.build(bad, PARAMS)
        assert rec.stats()["n_ratings"].tolist() == [7]  # reopened on the same file
    assert sha256(db) == before
    assert leftovers(db) == []


def test_failed_evaluation_leaves_the_file_unchanged(db: Path) -> None:
    before = sha256(db)
    with Recommender(db) as rec:
        with pytest.raises(RecsysError, match="holds out no rating"):
            rec.evaluate("temporal")  # 2 or 3 ratings per user: 20% holds out none
    assert sha256(db) == before
    assert leftovers(db) == []


def test_rebuild_of_a_never_built_file_fails_cleanly(tmp_path: Path) -> None:
    path = tmp_path / "new.duckdb"
    with Recommender(path) as rec:
        with pytest.raises(NotBuiltError, match="no ratings to build on"):
            rec.build()
    # A failed first build leaves nothing behind: no database, no lock file.
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(NotBuiltError, match="no database at"):
        Recommender(path, read_only=True)


def test_write_is_refused_while_another_connection_of_the_process_has_the_file(
    db: Path,
) -> None:
    """Regression: that connection pins DuckDB's instance of the old file, so this
    Recommender would have gone on reading the old data after the rebuild."""
    before = sha256(db)
    other = duckdb.connect(str(db), read_only=True)
    try:
        with Recommender(db) as rec:
            with pytest.raises(RecsysError, match="also open by another connection"):
                rec.build(TINY, PARAMS)
    finally:
        other.close()
    assert sha256(db) == before
    assert leftovers(db) == []


def test_write_through_clears_what_a_killed_writer_left(tmp_path: Path) -> None:
    target = tmp_path / "t.duckdb"
    with write_through(target, purpose="build", copy=False) as con:
        con.execute("create table t as select 1 as x")
    stale = [".t.duckdb.build-dead", ".t.duckdb.build-dead.wal", ".t.duckdb.evaluate-0"]
    for name in stale:
        (tmp_path / name).write_bytes(b"half a database")
    (tmp_path / ".t.duckdb.build-dead.tmp").mkdir()  # a spill folder
    (tmp_path / "t.duckdb.wal").write_bytes(b"not this file's log")
    with write_through(target, purpose="evaluate", copy=True) as con:
        con.execute("insert into t values (2)")
    assert leftovers(target) == []
    with duckdb.connect(str(target), read_only=True) as con:
        assert con.execute("select x from t order by x").fetchall() == [(1,), (2,)]


def test_a_writer_in_place_clears_what_a_killed_writer_left(tmp_path: Path) -> None:
    # add-ratings and refresh write in place; an evaluate or tune killed before them
    # left its copy, log and spill folder.
    target = tmp_path / "t.duckdb"
    with write_through(target, purpose="build", copy=False) as con:
        con.execute("create table t as select 1 as x")
    for name in (".t.duckdb.evaluate-dead", ".t.duckdb.evaluate-dead.wal"):
        (tmp_path / name).write_bytes(b"half a database")
    (tmp_path / ".t.duckdb.evaluate-dead.tmp").mkdir()
    with write_in_place(target) as con:
        con.execute("insert into t values (2)")
    assert leftovers(target) == []
    with duckdb.connect(str(target), read_only=True) as con:
        assert con.execute("select x from t order by x").fetchall() == [(1,), (2,)]


def test_writers_wait_for_each_other(tmp_path: Path) -> None:
    """A second writer enters only when the first has replaced the file, so it copies
    the first one's result instead of overwriting it."""
    target = tmp_path / "t.duckdb"
    with write_through(target, purpose="build", copy=False) as con:
        con.execute("create table t (x integer)")
    entered = threading.Event()
    failures: list[BaseException] = []

    def second_writer() -> None:
        try:
            with write_through(target, purpose="evaluate", copy=True) as con:
                entered.set()
                con.execute("insert into t values (2)")
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)

    with write_through(target, purpose="evaluate", copy=True) as con:
        con.execute("insert into t values (1)")
        thread = threading.Thread(target=second_writer)
        thread.start()
        assert not entered.wait(0.5)
    thread.join(60)
    assert entered.is_set() and not failures
    with duckdb.connect(str(target), read_only=True) as con:
        assert con.execute("select x from t order by x").fetchall() == [(1,), (2,)]


# -- readers in other processes during rebuilds --------------------------------------

# One query, so one snapshot. A consistent snapshot has the ratings count of its stats
# view, and no list longer than its n_recommendations; the test then checks that the
# whole row is exactly what one of the builds produced.
FINGERPRINT = """
select
    (select n_ratings from rating_matrix_stats) as stats_n_ratings,
    (select count(*) from ratings) as n_ratings,
    (select n_recommendations from recsys_params) as n_recommendations,
    (select count(*) from recommendations) as n_recommendation_rows,
    (select max(rank) from recommendations) as max_rank,
    (select bit_xor(hash(method, user_id, rank, movie_id)) from recommendations) as lists_hash
"""

Fingerprint = tuple[int, ...]


def fingerprint(con: duckdb.DuckDBPyConnection) -> Fingerprint:
    row = con.execute(FINGERPRINT).fetchone()
    assert row is not None
    return tuple(int(value) for value in row)


def snapshot_key(fp: Fingerprint) -> int:
    """Tells the builds of the test apart: n_ratings and n_recommendations."""
    return fp[1] * 1000 + fp[2]


def is_consistent(fp: Fingerprint) -> bool:
    stats_n_ratings, n_ratings, n_recommendations, _, max_rank, _ = fp
    return stats_n_ratings == n_ratings and max_rank <= n_recommendations


def read_loop(
    path: str,
    hold: bool,
    stop: Any,
    ready: Any,
    last_seen: Synchronized[int],
    results: Any,
) -> None:
    """A reader process: query the file until ``stop`` is set, then report.

    A ``hold`` reader opens one hardened connection and queries it throughout; the
    others open a hardened connection, query and close it, again and again.
    """
    seen: Counter[Fingerprint] = Counter()
    errors: list[str] = []
    inconsistent: list[Fingerprint] = []
    held = Recommender(path, read_only=True) if hold else None
    while True:
        stopping = stop.is_set()
        try:
            if held is not None:
                fp = fingerprint(held.con)
            else:
                with Recommender(path, read_only=True) as rec:
                    fp = fingerprint(rec.con)
            seen[fp] += 1
            if not is_consistent(fp):
                inconsistent.append(fp)
            last_seen.value = snapshot_key(fp)
            ready.set()
        except Exception as exc:  # every failure is reported to the test
            errors.append(repr(exc))
        if stopping:
            break
    after_reopen = None
    if held is not None:
        held.close()
        with Recommender(path, read_only=True) as rec:
            after_reopen = fingerprint(rec.con)
    results.put(
        {
            "hold": hold,
            "seen": list(seen.items()),
            "errors": errors,
            "inconsistent": inconsistent,
            "after_reopen": after_reopen,
        }
    )


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def all_at(last_seen: list[Synchronized[int]], key: int) -> Callable[[], bool]:
    """A condition: the last read of every reader was of snapshot ``key``."""
    return lambda: all(seen.value == key for seen in last_seen)


def test_readers_in_other_processes_never_fail_during_rebuilds(tmp_path: Path) -> None:
    path = tmp_path / "db" / "recsys.duckdb"
    plus = tiny_with(tmp_path / "plus", "1,3,4.0,1100", "2,2,3.5,1101", "1,4,2.5,1102")
    plus2 = tiny_with(
        tmp_path / "plus2", "1,3,4.0,1100", "2,2,3.5,1101", "3,1,2.0,1103", "2,5,1.5,1104"
    )
    rebuilds: list[tuple[Path | None, BuildParams]] = [
        (plus, BuildParams(k=3, n_similar_users=2, n_item_neighbors=2, n_recommendations=2)),
        # the same ratings, carried over from the file being read, other settings
        (None, BuildParams(k=3, n_similar_users=2, n_item_neighbors=2, n_recommendations=1)),
        (plus2, PARAMS),
    ]
    n_reopening, n_holding = 4, 2
    ctx = multiprocessing.get_context("spawn")
    stop = ctx.Event()
    results = ctx.Queue()
    readers = []
    built: dict[int, Fingerprint] = {}
    with Recommender(path) as rec:
        rec.build(TINY, PARAMS)
        first = fingerprint(rec.con)
        built[snapshot_key(first)] = first
        try:
            for i in range(n_reopening + n_holding):
                ready = ctx.Event()
                last_seen = ctx.Value("q", 0)
                process = ctx.Process(
                    target=read_loop,
                    args=(str(path), i >= n_reopening, stop, ready, last_seen, results),
                    daemon=True,
                )
                process.start()
                readers.append((process, ready, last_seen))
            wait_for(lambda: all(ready.is_set() for _, ready, _ in readers), "the readers")
            for data_dir, params in rebuilds:
                rec.build(data_dir, params)
                fp = fingerprint(rec.con)
                assert snapshot_key(fp) not in built
                built[snapshot_key(fp)] = fp
                # every re-opening reader sees the new file before the next rebuild
                wait_for(
                    all_at([seen for _, _, seen in readers[:n_reopening]], snapshot_key(fp)),
                    f"the readers to see snapshot {fp}",
                )
            stop.set()
            reports = [results.get(timeout=120) for _ in readers]
        finally:
            stop.set()
            for process, _, _ in readers:
                process.join(30)
                if process.is_alive():
                    process.terminate()
    final = built[snapshot_key(fp)]
    assert all(is_consistent(fp) for fp in built.values())
    queries = {True: 0, False: 0}
    for report in reports:
        seen = dict(report["seen"])
        queries[report["hold"]] += sum(seen.values())
        assert report["errors"] == []
        assert report["inconsistent"] == []
        assert set(seen) <= set(built.values())  # each read is exactly one build's snapshot
        if report["hold"]:
            assert set(seen) == {first}  # the old snapshot, consistent throughout
            assert report["after_reopen"] == final  # a new connection sees the new file
        else:
            assert set(seen) == set(built.values())  # every build was seen
    times_seen = Counter[Fingerprint]()
    for report in reports:
        times_seen.update(dict(report["seen"]))
    print(
        f"\nreaders during {len(rebuilds)} rebuilds: {n_reopening} re-opening processes "
        f"({queries[False]} queries), {n_holding} holding processes ({queries[True]} "
        "queries), 0 errors, 0 inconsistent; snapshots (ratings, n_recommendations, times "
        "read): " + ", ".join(f"({fp[1]}, {fp[2]}, {times_seen[fp]})" for fp in built.values())
    )
    assert leftovers(path) == []


def test_reader_holding_the_file_keeps_its_snapshot_across_processes(tmp_path: Path) -> None:
    """A BI tool with the file open read-only keeps reading the old snapshot after a
    rebuild in another process (here, the command line); a new connection sees the new
    data."""
    path = tmp_path / "bi.duckdb"
    with Recommender(path) as rec:
        rec.build(TINY, PARAMS)
    plus = tiny_with(tmp_path / "plus", "1,3,4.0,1100")
    with Recommender(path, read_only=True) as bi:
        before = fingerprint(bi.con)
        done = subprocess.run(
            [sys.executable, "-m", "recsys_duck.cli", "--db", str(path), "--quiet"]
            + ["build", "--data", str(plus), "--k", "10"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert fingerprint(bi.con) == before
        assert bi.stats()["n_ratings"].tolist() == [7]
    with Recommender(path, read_only=True) as after:
        assert after.stats()["n_ratings"].tolist() == [8]


def test_add_ratings_through_a_copy_does_not_wait_for_readers(tmp_path: Path) -> None:
    """With a reader holding the file, add-ratings (exact weights) writes a copy that
    replaces the file, as a build does; --defer-weights writes in place and refuses in
    one line, leaving the file as it was."""
    path = tmp_path / "db" / "bi.duckdb"
    with Recommender(path) as rec:
        rec.build(TINY, PARAMS)
    new = tmp_path / "new.csv"
    new.write_text("userId,movieId,rating,timestamp\n1,3,4.0,1100\n")

    def add(*flags: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "recsys_duck.cli", "--db", str(path), "--quiet"]
            + ["add-ratings", str(new), *flags],
            capture_output=True,
            text=True,
            timeout=120,
        )

    before = sha256(path)
    with Recommender(path, read_only=True) as bi:
        # Not read here: closing any descriptor of the file drops this process's lock.
        stat = path.stat()
        refused = add("--defer-weights")
        assert refused.returncode == 1
        assert refused.stderr.count("\n") == 1 and "is open in another process" in refused.stderr
        assert (path.stat().st_mtime_ns, path.stat().st_size) == (stat.st_mtime_ns, stat.st_size)
        done = add()
        assert done.returncode == 0, done.stderr
        assert bi.stats()["n_ratings"].tolist() == [7]  # its snapshot
    with Recommender(path, read_only=True) as after:
        assert after.stats()["n_ratings"].tolist() == [8]
    assert sha256(path) != before
    assert leftovers(path) == []
