"""Co-rating pair sums, the one expensive step of the similarity layer, filled in batches.

``item_pair_sums`` holds one row per unordered pair of movies ``movie_id < neighbor_id``
that some user rated both, with ``n_common`` and ``dot_product`` (the sum of the two
ratings' products over those users); ``user_pair_sums`` the same for users. The layer
``sql/30_similarity`` declares both tables (and mirrors them into ordered pairs in its
views); this module fills them with the parts beside them: ``pair_entries.prepare.sql``
stages the ratings by position, ``<side>_pair_sums.work.sql`` gives each position's work
and ``<side>_pair_sums.batch.sql`` fills one range of positions.

Why batches: the cost of the self-join is the GROUP BY over pairs, whose hash table is
far larger than the CPU cache when all pairs are aggregated at once. A batch aggregates
the pairs whose first member lies in a range of consecutive positions (movies or users
numbered 0 .. n-1), cut so that each batch joins about the same number of co-rated
triples: :data:`BATCH_TRIPLES` on sparse data; on dense data (many triples per possible
pair) :data:`DENSE_TRIPLES_PER_RATING` per rating, aggregated in DuckDB's perfect-hash
arrays. Threads: small rating tables are staged in a scratch database file whose small
row groups let every thread scan a share (DuckDB scans one row group per task). Memory:
DuckDB allocates the perfect-hash arrays outside the pool that memory_limit governs, so a
dense side lowers memory_limit by their size meanwhile. The measurements behind each
constant are in ``bench/results/`` (scale_*.md, plans_10M.md) and the commit history.

Sums are exact: ratings are half stars, so each product is a multiple of 1/4 and every
sum is exactly representable whatever the order of addition. Batches, threads and the
increments of add-ratings therefore give bit-identical sums.
"""

from __future__ import annotations

import logging
import math
import shutil
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Literal

import duckdb

from recsys_duck.errors import RecsysError
from recsys_duck.progress import tracked
from recsys_duck.sql import batches as sql_batches
from recsys_duck.sql import cleaned_up, execute, object_file, part_file, run_file, string_literal

logger = logging.getLogger(__name__)

SIDES = ("item", "user")
Mode = Literal["auto", "dense", "sparse"]

#: The neighbour tables rank by a BIGINT key that packs an id into 22 bits.
MAX_ID = 2**22 - 1
#: A side is dense when its co-rated triples are at least this many per possible pair.
DENSE_TRIPLES_PER_PAIR = 4.0
#: DuckDB's perfect_ht_threshold for dense sides: arrays of up to 2^24 slots, fewer when
#: memory_limit is small (no fewer than DuckDB's default of 2^12).
PERFECT_HASH_BITS = 24
MIN_PERFECT_HASH_BITS = 12
#: Bytes per slot of those arrays: the states of count(*) (8) and of a sum of doubles (16),
#: and the byte that marks a slot as used.
ARRAY_SLOT_BYTES = 25
#: The arrays of all threads together take at most this share of memory_limit.
ARRAY_SHARE_OF_LIMIT = 0.25
#: The units of DuckDB's current_setting('memory_limit'), e.g. '7.4 GiB'.
_BYTE_UNITS = {"bytes": 0, "KiB": 1, "MiB": 2, "GiB": 3, "TiB": 4, "PiB": 5}
#: Triples per batch: at least this many, and for dense sides this many per rating.
BATCH_TRIPLES = 2_500_000
DENSE_TRIPLES_PER_RATING = 16
#: DuckDB's default rows per row group (its unit of parallel scanning), and the row
#: groups per thread the scratch staging aims for.
DEFAULT_ROW_GROUP = 122_880
ROW_GROUPS_PER_THREAD = 4
#: Row group sizes are multiples of DuckDB's vector size.
VECTOR_SIZE = 2048


def compute(
    con: duckdb.DuckDBPyConnection,
    mode: Mode = "auto",
    sides: Sequence[str] = SIDES,
    *,
    autocommit: bool = False,
    memory_limit: str | None = None,
) -> dict[str, int]:
    """Fill ``item_pair_sums`` and ``user_pair_sums`` from ``ratings``: the tables of
    ``sides`` are declared anew (emptied) by their files in ``sql/30_similarity``, then
    filled; the others are left as they are.

    ``mode`` picks the batches: ``"auto"`` by density as above, or ``"dense"`` /
    ``"sparse"`` for both sides (the sums are the same; only the time differs). Runs in
    the current schema and, unless ``autocommit`` says that the connection has no open
    transaction (then small rating tables are staged in a scratch database file, see
    above), in the caller's transaction. ``memory_limit`` is the connection's memory_limit
    as configured (None: DuckDB's default); dense sides lower it for their arrays and then
    set it back to exactly that (DuckDB reads it back rounded). Returns the number of
    batches per side.
    """
    _check_ids(con)
    start = time.perf_counter()
    for side in sides:
        run_file(con, object_file(f"{side}_pair_sums"))
    run_file(con, part_file("pair_entries", "prepare"))
    scratch = _stage_in_scratch(con) if autocommit else None
    n_batches: dict[str, int] = {}

    def cleanup() -> None:
        if scratch is not None:  # first: it leaves a view where the cleanup drops a table
            _drop_scratch(con, scratch)
        run_file(con, part_file("pair_entries", "cleanup"))

    with cleaned_up(cleanup), array_aggregates_restored(con):
        for side in sides:
            n_batches[side] = _compute_side(con, side, mode, memory_limit)
    logger.info(
        "pair sums: %s batches in %.2f s",
        ", ".join(f"{n} {side}" for side, n in n_batches.items()),
        time.perf_counter() - start,
    )
    return n_batches


def compute_portably(
    con: duckdb.DuckDBPyConnection,
    sides: Sequence[str],
    every: tuple[int, int],
    count: int | None = None,
) -> dict[str, int]:
    """Fill the pair sums of ``sides`` with one statement each, ``every`` being the range
    [lo, hi) that holds every position, or with at most ``count`` statements of about
    equal work: for an engine that plans the whole self-join itself (Spark), where the
    batches, scratch files and array sizes above are DuckDB's tuning. The tables are
    declared by their layer. Returns the number of batches per side."""
    done: dict[str, int] = {}
    with cleaned_up(lambda: run_file(con, part_file("pair_entries", "cleanup"))):
        run_file(con, part_file("pair_entries", "prepare"))
        for side in sides:
            table = f"{side}_pair_sums"
            ranges = (
                [every]
                if count is None
                else sql_batches(con, part_file(table, "work"), None, count=count)
            )
            with tracked(f"pair sums, {side} side", len(ranges), "batches") as advance:
                for lo, hi in ranges:
                    run_file(con, part_file(table, "batch"), {"lo": lo, "hi": hi})
                    advance(1)
            done[side] = len(ranges)
    return done


def allow_array_aggregates(con: duckdb.DuckDBPyConnection, bits: int = PERFECT_HASH_BITS) -> None:
    """Let DuckDB aggregate in arrays of up to 2^``bits`` slots (its
    perfect_ht_threshold); callers restore it with :func:`array_aggregates_restored`."""
    execute(con, f"set perfect_ht_threshold = {int(bits)}")


def memory_limit_bytes(con: duckdb.DuckDBPyConnection) -> int:
    """DuckDB's memory_limit in bytes, as it reads back: rounded down to a tenth of its
    unit ('8GB' reads '7.4 GiB', 7.45 GiB), so at most the limit in force."""
    (text,) = execute(con, "select current_setting('memory_limit')").fetchone() or ("",)
    number, _, unit = str(text).partition(" ")
    if unit not in _BYTE_UNITS:
        raise RecsysError(f"cannot read DuckDB's memory_limit {text!r}")
    return int(float(number) * 1024 ** _BYTE_UNITS[unit])


@contextmanager
def memory_for_arrays(con: duckdb.DuckDBPyConnection, configured: str | None) -> Iterator[int]:
    """Yield the perfect-hash bits a dense side may use, with memory_limit lowered
    meanwhile by the arrays of that size; afterwards (even on error) memory_limit is set
    back to ``configured``, or reset to DuckDB's default when None.

    DuckDB keeps a thread's array until the threads' arrays are combined into one more,
    so threads + 1 arrays live at once. Their bytes are kept within
    :data:`ARRAY_SHARE_OF_LIMIT` of the limit by allowing fewer bits.
    """
    limit = memory_limit_bytes(con)
    (threads,) = execute(con, "select current_setting('threads')").fetchone() or (1,)
    arrays = int(threads) + 1
    bits = PERFECT_HASH_BITS
    while (
        bits > MIN_PERFECT_HASH_BITS
        and arrays * ARRAY_SLOT_BYTES * 2**bits > ARRAY_SHARE_OF_LIMIT * limit
    ):
        bits -= 1
    lowered = max(limit - arrays * ARRAY_SLOT_BYTES * 2**bits, limit // 2)
    # SET takes no bound parameters; the value is an integer.
    execute(con, f"set memory_limit = '{lowered}B'")
    logger.info(
        "pair sums: arrays of up to 2^%d slots, memory_limit %.2f GiB meanwhile (was %.2f)",
        bits,
        lowered / 2**30,
        limit / 2**30,
    )
    try:
        yield bits
    finally:
        if configured is None:
            execute(con, "reset memory_limit")
        else:
            execute(con, f"set memory_limit = {string_literal(configured)}")


@contextmanager
def array_aggregates_restored(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Run the block, then put perfect_ht_threshold back as it was, even on error."""
    (threshold,) = execute(con, "select current_setting('perfect_ht_threshold')").fetchone() or (
        12,
    )
    try:
        yield
    finally:
        execute(con, f"set perfect_ht_threshold = {int(threshold)}")


def _stage_in_scratch(con: duckdb.DuckDBPyConnection) -> Path | None:
    """Move the staged ratings to a scratch database file with row groups small enough
    for every thread to scan its share; returns the file's directory, or None when the
    ratings already fill enough default row groups (or there are none)."""
    (n_rows,) = execute(con, "select count(*) from _recsys_pair_entries").fetchone() or (0,)
    (threads,) = execute(con, "select current_setting('threads')").fetchone() or (1,)
    share = n_rows / (int(threads) * ROW_GROUPS_PER_THREAD)
    row_group = max(VECTOR_SIZE, math.ceil(share / VECTOR_SIZE) * VECTOR_SIZE)
    if n_rows == 0 or row_group >= DEFAULT_ROW_GROUP:
        return None
    directory = Path(tempfile.mkdtemp(prefix="recsys_duck_pairs_"))
    path = string_literal(str(directory / "entries.duckdb"))
    # ATTACH takes no parameters; the path is this function's own temporary file and
    # row_group an int.
    try:
        execute(con, f"attach {path} as _recsys_pair_scratch (row_group_size {row_group})")
        run_file(con, part_file("pair_entries", "scratch"))
    except BaseException:
        _drop_scratch(con, directory)
        raise
    logger.info("pair sums: %d ratings staged in row groups of %d rows", n_rows, row_group)
    return directory


def _drop_scratch(con: duckdb.DuckDBPyConnection, directory: Path) -> None:
    run_file(con, part_file("pair_entries", "scratch_cleanup"))
    shutil.rmtree(directory, ignore_errors=True)


def _compute_side(
    con: duckdb.DuckDBPyConnection, side: str, mode: Mode, memory_limit: str | None
) -> int:
    """Fill ``<side>_pair_sums`` batch by batch; returns the number of batches."""
    position = "movie_idx" if side == "item" else "user_idx"
    group = "user_idx" if side == "item" else "movie_idx"
    return fill_pair_batches(
        con,
        f"{side}_pair_sums",
        "_recsys_pair_entries",
        (position, group),
        mode,
        memory_limit,
        label=f"pair sums, {side} side",
    )


def fill_pair_batches(
    con: duckdb.DuckDBPyConnection,
    table: str,
    entries: str,
    columns: tuple[str, str],
    mode: Mode,
    memory_limit: str | None,
    *,
    label: str,
    params: Mapping[str, object] | None = None,
) -> int:
    """Fill ``table`` by its ``<table>.batch.sql``, a self-join of the staged ratings
    ``entries`` on ``columns[1]`` aggregated by pairs of ``columns[0]`` (positions
    0 .. n-1), over the ranges of positions that ``<table>.work.sql`` cuts: as the pair
    sums are filled (dense or sparse batches, see above). ``params`` are bound in both
    parts besides ``lo`` and ``hi``. Returns the number of batches."""
    position, group = columns
    # entries, position, group are fixed names chosen by the callers, not user input.
    n, n_ratings, triples = execute(
        con,
        f"select (select count(distinct {position}) from {entries}), "  # noqa: S608
        f"coalesce(sum(n), 0), coalesce(sum(n * (n - 1) / 2), 0) from (select count(*) as n "
        f"from {entries} group by {group})",
    ).fetchone() or (0, 0, 0)
    possible = n * (n - 1) / 2
    if mode == "auto":
        dense = possible > 0 and triples >= DENSE_TRIPLES_PER_PAIR * possible
    else:
        dense = mode == "dense"
    work = BATCH_TRIPLES
    if dense:
        work = max(work, DENSE_TRIPLES_PER_RATING * n_ratings)
    batches = sql_batches(con, part_file(table, "work"), work, params)
    logger.info(
        "%s: %d positions, %.3g triples, %s, %d batches",
        label,
        n,
        triples,
        "dense" if dense else "sparse",
        len(batches),
    )
    path = part_file(table, "batch")
    with memory_for_arrays(con, memory_limit) if dense else nullcontext(0) as bits:
        if dense:
            allow_array_aggregates(con, bits)
        with tracked(label, len(batches), "batches") as advance:
            for lo, hi in batches:
                run_file(con, path, {**(params or {}), "lo": lo, "hi": hi})
                advance(1)
    return len(batches)


def _check_ids(con: duckdb.DuckDBPyConnection) -> None:
    """The neighbour tables' sort key holds ids up to :data:`MAX_ID`."""
    row = execute(
        con,
        "select max(user_id), max(movie_id), least(min(user_id), min(movie_id)) from ratings",
    ).fetchone()
    if row is None or row[0] is None:
        return
    max_user, max_movie, min_id = row
    if max(max_user, max_movie) > MAX_ID or min_id < 0:
        raise RecsysError(
            f"user and movie ids must lie in 0 .. {MAX_ID:,} for the neighbour tables' "
            f"ranking (found users up to {max_user:,}, movies up to {max_movie:,}, "
            f"smallest id {min_id:,}); renumber the ids before loading"
        )
