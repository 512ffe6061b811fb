"""Co-rating pair sums, the one expensive step of the similarity layer, computed in batches.

``item_pair_sums`` holds one row per unordered pair of movies ``movie_id < neighbor_id``
that some user rated both, with ``n_common`` and ``dot_product`` (the sum of the two
ratings' products over those users); ``user_pair_sums`` the same for users. The views of
``sql/30_similarity`` mirror them into ordered pairs and divide by the norms. The SQL is
in ``sql/steps/pairs``; this module only decides the batches and runs them.

Why batches (measured on this project's 2-core machine, DuckDB 1.5.5): the cost of the
self-join is the GROUP BY over pairs, whose hash table is far larger than the CPU cache
when all pairs are aggregated at once. A batch aggregates the pairs whose first member
lies in a range of consecutive positions (movies or users numbered 0 .. n-1), cut so
that each batch joins about the same number of co-rated triples:

* sparse data (ml-latest-small, where only 28% of movie pairs exist): about 2.5 million
  triples a batch (one statement 5.6 s, 25 batches 3.8 s);
* dense data (many triples per possible pair, as the synthetic sets): 16 triples per
  rating a batch, so that scanning the ratings once per batch stays a small share, and
  DuckDB's perfect-hash GROUP BY (an array indexed by the two positions) allowed up to
  2^24 slots: it takes every batch narrow enough (the popular movies), hashing the
  rest. 10M ratings: 46.7 s, against 49.5 s with fixed 64-movie batches, 72.8 s with
  16-movie ones and 69.7 s with arrays capped at 2^22 slots; 1M: 4.2 s.

Sums are exact: ratings are half stars, so each product is a multiple of 1/4 and every
sum is exactly representable whatever the order of addition. Batches, threads and the
incremental update of :mod:`recsys_duck.increment` therefore give bit-identical sums.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Literal

import duckdb

from recsys_duck.errors import RecsysError
from recsys_duck.sql import execute, query_file, run_file, step_file

logger = logging.getLogger(__name__)

SIDES = ("item", "user")
Mode = Literal["auto", "dense", "sparse"]

#: The neighbour tables rank by a BIGINT key that packs an id into 22 bits.
MAX_ID = 2**22 - 1
#: A side is dense when its co-rated triples are at least this many per possible pair.
DENSE_TRIPLES_PER_PAIR = 4.0
#: DuckDB's perfect_ht_threshold for dense sides: arrays of up to 2^24 slots.
PERFECT_HASH_BITS = 24
#: Triples per batch: at least this many, and for dense sides this many per rating.
BATCH_TRIPLES = 2_500_000
DENSE_TRIPLES_PER_RATING = 16


def compute(
    con: duckdb.DuckDBPyConnection, mode: Mode = "auto", sides: Sequence[str] = SIDES
) -> dict[str, int]:
    """(Re)create ``item_pair_sums`` and ``user_pair_sums`` from ``ratings``; only the
    tables of ``sides`` are filled (the others are left empty).

    ``mode`` picks the batches: ``"auto"`` by density as above, or ``"dense"`` /
    ``"sparse"`` for both sides (the sums are the same; only the time differs). Runs in
    the current schema and the caller's transaction. Returns the number of batches per
    side.
    """
    _check_ids(con)
    start = time.perf_counter()
    run_file(con, step_file("pairs/prepare"))
    (threshold,) = execute(con, "select current_setting('perfect_ht_threshold')").fetchone() or (
        12,
    )
    n_batches: dict[str, int] = {}
    try:
        for side in sides:
            n_batches[side] = _compute_side(con, side, mode)
    finally:
        execute(con, f"set perfect_ht_threshold = {int(threshold)}")
        run_file(con, step_file("pairs/cleanup"))
    logger.info(
        "pair sums: %s batches in %.2f s",
        ", ".join(f"{n} {side}" for side, n in n_batches.items()),
        time.perf_counter() - start,
    )
    return n_batches


def _compute_side(con: duckdb.DuckDBPyConnection, side: str, mode: Mode) -> int:
    """Fill ``<side>_pair_sums`` batch by batch; returns the number of batches."""
    position = "movie_idx" if side == "item" else "user_idx"
    group = "user_idx" if side == "item" else "movie_idx"
    # position, group are fixed column names chosen above, not user input.
    n, n_ratings, triples = execute(
        con,
        f"select (select count(distinct {position}) from _recsys_pair_entries), "  # noqa: S608
        f"coalesce(sum(n), 0), coalesce(sum(n * (n - 1) / 2), 0) from (select count(*) as n "
        f"from _recsys_pair_entries group by {group})",
    ).fetchone() or (0, 0, 0)
    possible = n * (n - 1) / 2
    if mode == "auto":
        dense = possible > 0 and triples >= DENSE_TRIPLES_PER_PAIR * possible
    else:
        dense = mode == "dense"
    work = BATCH_TRIPLES
    if dense:
        work = max(work, DENSE_TRIPLES_PER_RATING * n_ratings)
        execute(con, f"set perfect_ht_threshold = {PERFECT_HASH_BITS}")
    batches = query_file(
        con,
        step_file("pairs/batches"),
        {"side": side, "work": work},
    ).fetchall()
    logger.info(
        "pair sums: %s side, %d positions, %.3g triples, %s, %d batches",
        side,
        n,
        triples,
        "dense" if dense else "sparse",
        len(batches),
    )
    path = step_file(f"pairs/{side}_pair_sums")
    for lo, hi in batches:
        run_file(con, path, {"lo": lo, "hi": hi})
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
