"""The ``recommendations`` mart (the top-N of every user by each method), stored in
batches of users.

``sql/60_marts/recommendations.sql`` creates the table empty; this module cuts the users
into ranges of consecutive user_ids holding about :data:`MART_BATCH_RATINGS` ratings
(``sql/steps/marts/batch_work.sql``, cut by ``sql/steps/batches.sql``) and runs the ranking of
``sql/steps/marts/recommendations.sql`` once per range.

Why batches (measured on this project's 2-core machine, DuckDB 1.5.5): DuckDB ranks
``row_number() ... <= n`` with a top-n aggregate whose per-user states it keeps in
memory it cannot spill, for every user at once when one statement ranks them all. The
25M-rating synthetic set (162,000 users, 4 methods) held 5.3 GiB of them: the mart ran
out of a 6.4 GB memory_limit (under 8 GB it completed, 113 s). In batches of 20,000
users: 96 s and 2.3 GiB peak RSS under the 6.4 GB limit, in a process of its own
(inside the 25M build, whose buffer pool is full by then: 130 s in 7 batches; 109 s
since popularity_scores stopped joining every user to every movie). At 10M ratings, 3
batches cost about a tenth more time (29.5 s -> 32.6 s for 20,000-user batches) and
halve the peak (3.9 -> 1.8 GiB); since the popularity fix, batches of 2M, 4M and 8M
ratings take 29.5, 29.4 and 28.4 s.
The rows are the same as one statement's: each user's ranking is within one batch.
"""

from __future__ import annotations

import logging

import duckdb

from recsys_duck.sql import batches as sql_batches
from recsys_duck.sql import run_file, settings, step_file

logger = logging.getLogger(__name__)

#: Ratings per batch of users (ml-latest-small: one batch; 10M: 3; 25M: 7).
MART_BATCH_RATINGS = 4_000_000


def fill_recommendations(con: duckdb.DuckDBPyConnection) -> int:
    """Fill ``recommendations`` (created empty by ``sql/60_marts``) batch by batch, in
    the current schema; returns the number of batches."""
    values = settings(con)
    batches = sql_batches(con, "marts/batch_work", MART_BATCH_RATINGS)
    path = step_file("marts/recommendations")
    for lo, hi in batches:
        run_file(con, path, {**values, "lo": lo, "hi": hi})
    logger.info(
        "recommendations: %d %s of users", len(batches), "batch" if len(batches) == 1 else "batches"
    )
    return len(batches)
