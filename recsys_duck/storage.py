"""How the database file is opened and written, so that readers are never broken.

Two rules, each for people other than the process that builds the file:

* **Readers get hardened connections.** A read-only connection that the project opens
  for someone else (the command line's ``stats`` / ``similar`` / ``recommend`` /
  ``sql`` verbs, ``Recommender(path, read_only=True)``, and BI tools through
  :func:`readonly_connect_args`) cannot touch the file system or the network: external
  access is disabled (no ``read_csv('/etc/passwd')``, ``read_text``, ``COPY ... TO``,
  ``ATTACH``, ``INSTALL``), known extensions are neither installed nor loaded
  automatically, and the configuration is then locked so no ``SET`` or ``RESET`` can
  undo any of it. Views, tables and macros need none of that.

* **Writers never write in place.** :func:`write_through` builds the new database in a
  temporary file beside the old one (``.recsys.duckdb.build-<random>``), checkpoints and
  closes it so no WAL is left, and ``os.replace``-s it over the old file. A reader that
  has the old file open keeps reading the old inode (a consistent snapshot, kept alive
  by POSIX until it is closed); the next connection opens the new file. DuckDB's own
  lock would not allow this in place: a reader holds a shared lock on the file and a
  writer opening it read-write needs an exclusive one. Writers are serialised by an
  advisory lock on a sidecar file (``.recsys.duckdb.lock``), so two builds, or a build
  and an evaluation, cannot lose each other's work.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final, Literal

import duckdb
import filelock
import pandas as pd

from recsys_duck.errors import InvalidArgumentError, NotBuiltError, RecsysError
from recsys_duck.spark import run_folders
from recsys_duck.sql import execute, string_literal, transaction

logger = logging.getLogger(__name__)

#: DuckDB settings that keep a connection away from everything but its database file.
#: DuckDB itself refuses to turn external access or community extensions back on while
#: it runs, but not extension autoloading: ``lock_configuration``, set last, forbids
#: every later ``SET`` / ``RESET``.
HARDENING: Final[Mapping[str, bool]] = {
    # read_csv, read_text, glob, COPY TO/FROM, ATTACH, EXPORT DATABASE, INSTALL, LOAD
    # of extension files, persistent secrets, and Python replacement scans.
    "enable_external_access": False,
    # a query naming a function of a known extension must not fetch or load it
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
}

#: What a temporary database file is for; also the part of its name after the target's.
_PURPOSES = ("create", "build", "evaluate", "update")


def readonly_connect_args() -> dict[str, Any]:
    """Keyword arguments that open the database file read-only and hardened.

    For SQLAlchemy with the ``duckdb-sqlalchemy`` dialect::

        engine = sqlalchemy.create_engine(
            "duckdb:///data/recsys.duckdb",
            connect_args=recsys_duck.readonly_connect_args(),
            poolclass=sqlalchemy.pool.NullPool,
        )

    and for plain DuckDB, ``duckdb.connect("data/recsys.duckdb",
    **readonly_connect_args())``. The configuration is locked at connect time, so the
    connection cannot change any setting afterwards (not even the progress bar). Use a
    ``NullPool`` (or recycle pooled connections): a connection kept open keeps reading
    the snapshot it opened, and only a new connection sees a rebuilt file. Within one
    process DuckDB shares one instance per file, so a connection opened while another
    to the same file is open joins that instance and its snapshot (duckdb/duckdb#15912).
    """
    return {"read_only": True, "config": {**HARDENING, "lock_configuration": True}}


def connect(
    path: str,
    *,
    read_only: bool = False,
    harden: bool = False,
    config: Mapping[str, Any] | None = None,
) -> duckdb.DuckDBPyConnection:
    """Open ``path`` (a file or ``:memory:``) with DuckDB's progress bar off.

    With ``harden``, the :data:`HARDENING` settings are applied at connect time and the
    configuration is locked once the progress bar is off (it is a per-connection
    setting that DuckDB refuses as connect-time configuration). External access is
    turned off just before the lock, once the folders of a Spark build's Parquet tables
    (``spark_runs``) are DuckDB's ``allowed_directories``: its pair-sum views read them.
    """
    settings = dict(config or {})
    if harden:
        settings.update(HARDENING)
        # DuckDB takes allowed_directories only once the database has started.
        del settings["enable_external_access"]
    con = duckdb.connect(path, read_only=read_only, config=settings)
    try:
        (locked,) = execute(con, "select current_setting('lock_configuration')").fetchone() or (
            False,
        )
        if locked:
            # DuckDB hands out one database instance per file and process: another
            # connection of this process has already hardened and locked it.
            _check_hardened(con, path)
        else:
            # DuckDB's progress bar would write to stdout; progress is logged instead.
            execute(con, "set enable_progress_bar = false")
            if harden:
                _allow_spark_runs(con)
                execute(con, "set enable_external_access = false")
                execute(con, "set lock_configuration = true")
    except BaseException:
        con.close()
        raise
    return con


def check_not_open(path: str | os.PathLike[str]) -> None:
    """Raise :class:`RecsysError` if a connection of this process has ``path`` open.

    DuckDB's Python client shares one database instance among all the connections of a
    process to the same file, and a new connection joins the open instance. After the
    file is replaced, such a connection, and every connection opened while it stays
    open, would keep reading the old file (duckdb/duckdb#15912). The probe connects with
    a configuration no other connection has: DuckDB refuses that while an instance is
    open, and otherwise opens and closes a fresh one.
    """
    if not Path(path).exists():
        return  # nothing to have open
    probe: dict[str, Any] = {"custom_user_agent": f"recsys-duck-probe-{secrets.token_hex(8)}"}
    try:
        duckdb.connect(os.fspath(path), read_only=True, config=probe).close()
    except duckdb.ConnectionException as exc:
        if "different configuration" not in str(exc):
            raise
        raise RecsysError(
            f"{path} is also open by another connection in this process; close it first "
            "(DuckDB shares one database instance per file and process, so it would keep "
            "reading the old file after this write replaces it)"
        ) from None


def _allow_spark_runs(con: duckdb.DuckDBPyConnection) -> None:
    """Make the run folders of ``spark_runs`` (when the file has that table) the only
    folders a hardened connection may read."""
    folders = run_folders(con)
    if folders:
        # SET takes no bound parameters; the folders are quoted as string literals.
        listed = ", ".join(string_literal(folder.rstrip("/") + "/") for folder in folders)
        execute(con, f"set allowed_directories = [{listed}]")


def _check_hardened(con: duckdb.DuckDBPyConnection, path: str) -> None:
    """Raise unless every :data:`HARDENING` setting is in effect on ``con``."""
    for name, wanted in HARDENING.items():
        (value,) = execute(con, "select current_setting(?)", [name]).fetchone() or (None,)
        if value != wanted:
            raise RuntimeError(
                f"{path} is already open in this process with its configuration locked "
                f"but {name} = {value!r}; close that connection first"
            )


def wal_path(path: str | os.PathLike[str]) -> Path:
    """The write-ahead log DuckDB keeps beside a database file."""
    return Path(f"{os.fspath(path)}.wal")


@contextmanager
def write_through(
    target: str | os.PathLike[str],
    *,
    purpose: str,
    copy: bool,
    config: Mapping[str, Any] | None = None,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Yield a read-write connection to a temporary database that replaces ``target``.

    The temporary file lies in ``target``'s folder (so the rename is atomic) and is
    empty, or with ``copy`` a byte copy of ``target`` (and of its WAL, if one was
    left). When the block ends normally the temporary database is checkpointed and
    closed, and atomically renamed over ``target``; a WAL left beside ``target`` by a
    crashed writer is removed first, as it belongs to the old file. If the block
    raises, the temporary file is removed and ``target`` is untouched.

    The folder must be writable, and the new file gets the old one's permission bits
    (its owner is the writing user).
    """
    if purpose not in _PURPOSES:
        raise InvalidArgumentError(f"unknown purpose {purpose!r}; use one of {_PURPOSES}")
    # Through a symbolic link, replace the file it points to, not the link.
    target = Path(os.path.realpath(target))
    made = _make_folders(target.parent)
    with _removed_on_error(made), _writer_lock(target):
        _remove_stale_temporaries(target)
        temp = target.with_name(f".{target.name}.{purpose}-{secrets.token_hex(6)}")
        try:
            if copy:
                shutil.copyfile(target, temp)
                if wal_path(target).exists():
                    shutil.copyfile(wal_path(target), wal_path(temp))
            logger.debug("writing %s through %s", target, temp.name)
            with _checkpointed(temp, config) as con:
                yield con
            if wal_path(temp).exists():
                raise RuntimeError(f"DuckDB left a WAL beside {temp} after checkpoint and close")
            _fsync(temp)
            if target.exists():
                shutil.copymode(target, temp)
            wal_path(target).unlink(missing_ok=True)
            os.replace(temp, target)
            _fsync(target.parent)
            logger.debug("replaced %s", target)
        finally:
            _remove(temp)


def check_database_file(path: str | os.PathLike[str]) -> None:
    """Raise :class:`InvalidArgumentError` if ``path`` is a file but not a DuckDB
    database (its header has DuckDB's magic bytes): a build would replace it, and DuckDB
    itself says only "Cannot launch in-memory database in read-only mode!"."""
    file = Path(path)
    if not file.is_file() or file.stat().st_size == 0:
        return
    with open(file, "rb") as handle:
        header = handle.read(_MAGIC_END)
    if header[_MAGIC_START:_MAGIC_END] != _MAGIC:
        raise InvalidArgumentError(
            f"{path} is not a DuckDB database file; --db names the database (e.g. "
            "data/recsys.duckdb), --data the MovieLens folder"
        )


#: DuckDB's database files carry b"DUCK" at bytes 8..12.
_MAGIC, _MAGIC_START, _MAGIC_END = b"DUCK", 8, 12


def require_database(path: str | os.PathLike[str]) -> None:
    """Raise :class:`NotBuiltError` if there is no database file at ``path``."""
    if not Path(path).exists():
        raise NotBuiltError(f"no database at {path}; build it first: recsys-duck build --db {path}")


def write_text_atomically(target: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` (UTF-8) to a temporary file beside ``target``, then rename it over
    ``target``: readers see the old file or the new one, never a part. Raises
    :class:`RecsysError` naming the file when it cannot be written (its folder must
    exist: a mistyped folder is not created); no temporary file is left behind."""
    target = Path(target)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise RecsysError(f"cannot write {target}: there is no folder {folder}; create it first")
    temporary: str | None = None
    try:
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
        temporary = None
    except OSError as exc:
        raise RecsysError(f"cannot write {target}: {exc.strerror or exc}") from exc
    finally:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)


@contextmanager
def write_in_place(
    target: str | os.PathLike[str],
    *,
    config: Mapping[str, Any] | None = None,
    wait_seconds: float = 0.0,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Yield a read-write connection to ``target`` itself; the caller makes its changes
    one transaction, and the file is checkpointed when the block ends normally.

    For changes small next to the database (``add-ratings``): a copy, as
    :func:`write_through` makes, would cost time in proportion to the whole file.
    Unlike :func:`write_through`, no other process may have the file open meanwhile:
    while one has, this waits up to ``wait_seconds`` for it to close the file (logging
    the time left), then raises :class:`RecsysError`.
    """
    target = Path(os.path.realpath(target))
    with _writer_lock(target):
        _remove_stale_temporaries(target)
        with _checkpointed(target, config, wait_seconds) as con:
            yield con


def _connect_when_free(
    path: Path, config: Mapping[str, Any] | None, wait_seconds: float
) -> duckdb.DuckDBPyConnection:
    """A read-write connection to ``path`` once no other process holds DuckDB's lock on
    it, waiting up to ``wait_seconds``."""
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            return connect(str(path), config=config)
        except duckdb.IOException as exc:
            if "Could not set lock" not in str(exc):
                raise
            left = deadline - time.monotonic()
            if left <= 0:
                raise RecsysError(
                    f"{path} is open in another process, and add-ratings --defer-weights "
                    "writes the file in place: close the other connections (or wait for "
                    "them with --wait SECONDS), or add the ratings without --defer-weights, "
                    "which writes a copy and never waits for readers"
                ) from None
            logger.info("waiting for other processes to close %s (%.0f s left)", path, left)
            time.sleep(min(_WAIT_STEP_SECONDS, left))


#: How often a waiting writer tries again.
_WAIT_STEP_SECONDS = 1.0


@contextmanager
def _checkpointed(
    path: Path, config: Mapping[str, Any] | None, wait_seconds: float = 0.0
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection to ``path`` (waiting up to ``wait_seconds`` for other
    processes to close it), checkpointed when the block ends normally (so no WAL is
    left) and closed in any case."""
    con = _connect_when_free(path, config, wait_seconds)
    try:
        yield con
        execute(con, "checkpoint")
    finally:
        con.close()


#: What a writer writes for: build, evaluate and update (exact add-ratings, refresh)
#: through a copy, add-ratings (with deferred weights) in place.
Purpose = Literal["build", "evaluate", "update", "add-ratings"]


@contextmanager
def writer(
    target: str | os.PathLike[str],
    purpose: Purpose,
    *,
    config: Mapping[str, Any] | None = None,
    wait_seconds: float = 0.0,
) -> Iterator[tuple[duckdb.DuckDBPyConnection, bool]]:
    """A read-write connection for ``purpose``, and whether its statements commit as they
    go (``autocommit``); else the caller makes its work one transaction.

    ``build`` writes a new file, ``evaluate`` and ``update`` (an add-ratings that keeps
    the ranking weights exact, a refresh) a copy of the file, each replacing the file
    when the block ends without error (:func:`write_through`; statements commit as they
    go: DuckDB scans a table created in a still open transaction from that
    transaction's local storage and plans its joins and aggregates without its
    statistics, which made the batched pair sums 3.5x slower and the ranking weights
    3-5x). ``add-ratings`` writes the file itself (:func:`write_in_place`, waiting up to
    ``wait_seconds`` for other processes to close it). Refused while
    another connection of this process has the file open, as that connection would pin
    DuckDB's instance of the old file.
    """
    check_not_open(target)
    if purpose == "add-ratings":
        with write_in_place(target, config=config, wait_seconds=wait_seconds) as con:
            yield con, False
    else:
        copy = purpose in ("evaluate", "update")
        with write_through(target, purpose=purpose, copy=copy, config=config) as con:
            yield con, True


@contextmanager
def all_or_nothing(con: duckdb.DuckDBPyConnection, autocommit: bool) -> Iterator[None]:
    """One transaction around the block, unless the connection's statements commit as
    they go (a :func:`writer` through a copy, which is all or nothing as a file)."""
    if autocommit:
        yield
    else:
        with transaction(con):
            yield


@contextmanager
def _writer_lock(target: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``.<target name>.lock`` (waits for it), with the
    filelock library: an OS lock on Linux, macOS and Windows alike.

    Without it, a build and an evaluation running at once would each copy the old
    file, and the one that finished last would silently replace the other's work.
    """
    path = target.with_name(f".{target.name}.lock")
    lock = filelock.FileLock(path)
    try:
        lock.acquire(timeout=0)
    except filelock.Timeout:
        logger.info("waiting for another build or evaluation of %s to finish", target)
        lock.acquire()
    try:
        yield
    finally:
        lock.release()
        # A first build that failed leaves no database, and so no lock file either.
        if not target.exists():
            path.unlink(missing_ok=True)


def write_frame_atomically(target: str | os.PathLike[str], frame: pd.DataFrame) -> None:
    """Write ``frame`` as CSV or Parquet (by the suffix of ``target``) to a temporary
    file beside it, then rename it over ``target``, as :func:`write_text_atomically`."""
    target = Path(target)
    kind = {".csv": "csv", ".parquet": "parquet"}.get(target.suffix.lower())
    if kind is None:
        raise InvalidArgumentError(f"cannot tell the format of {target}: name it .csv or .parquet")
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise RecsysError(f"cannot write {target}: there is no folder {folder}; create it first")
    temporary = folder / f".{target.name}.{secrets.token_hex(6)}.tmp"
    try:
        with duckdb.connect() as con:
            con.register("frame", frame)
            # COPY takes no bound parameters; the path is our own, quoted as a literal.
            con.execute(f"copy frame to {string_literal(str(temporary))} (format {kind})")
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except (OSError, duckdb.Error) as exc:
        raise RecsysError(f"cannot write {target}: {exc}") from exc
    finally:
        temporary.unlink(missing_ok=True)


def _make_folders(folder: Path) -> list[Path]:
    """Create ``folder`` and its missing parents; returns those created, innermost first."""
    missing = [p for p in (folder, *folder.parents) if not p.exists()]
    folder.mkdir(parents=True, exist_ok=True)
    return missing


@contextmanager
def _removed_on_error(folders: list[Path]) -> Iterator[None]:
    """Remove the (empty) ``folders`` if the block raises: a first build that failed
    leaves no folder behind either."""
    try:
        yield
    except BaseException:
        for folder in folders:
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise


def _remove_stale_temporaries(target: Path) -> None:
    """Remove temporary files a killed writer left (only called under the writer lock)."""
    for purpose in _PURPOSES:
        for stale in target.parent.glob(f".{_glob_escape(target.name)}.{purpose}-*"):
            logger.info("removing %s, left by an interrupted %s", stale, purpose)
            _remove(stale)


def _glob_escape(name: str) -> str:
    return "".join(f"[{ch}]" if ch in "*?[" else ch for ch in name)


def _remove(path: Path) -> None:
    """Remove a temporary database with its WAL and its spill folder, if they exist."""
    for leftover in (path, wal_path(path), Path(f"{path}.tmp")):
        if leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    """Flush a file, or a folder's entries, to disk so the rename survives a crash."""
    if sys.platform == "win32" and path.is_dir():
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
