"""EXPLAIN ANALYZE of the build's plan on a database of synthetic ratings (item side):
three pair-sum batches (the first, heaviest; one in the middle; the last) and the
top-k of item_neighbors. Writes bench/results/plans_10M.md.

    PYTHONPATH=. python bench/profile_plans.py DATABASE

DATABASE: a DuckDB file holding the project's tables (00_tables, 20_stats) and the
10M synthetic ratings, as bench_scale's recsys-duck child makes one.
"""

import sys
from pathlib import Path

import duckdb

from recsys_duck import pairs
from recsys_duck.sql import batches as sql_batches
from recsys_duck.sql import object_file, part_file, run_file, settings, split_statements

con = duckdb.connect(sys.argv[1])
run_file(con, part_file("pair_entries", "prepare"))
n_ratings = con.execute("select count(*) from _recsys_pair_entries").fetchone()[0]
pairs.allow_array_aggregates(con)
batches = sql_batches(
    con, part_file("item_pair_sums", "work"), pairs.DENSE_TRIPLES_PER_RATING * n_ratings
)
out = []


def analyze(title, sql, params=None):
    con.execute("pragma enable_profiling='query_tree'")
    r = (
        con.execute("explain analyze " + sql, params).fetchall()
        if params
        else con.execute("explain analyze " + sql).fetchall()
    )
    con.execute("pragma disable_profiling")
    out.append(f"### {title}\n\n```\n{r[0][1]}\n```\n")


text = part_file("item_pair_sums", "batch").read_text()
(stmt,) = split_statements(text)
select = stmt[stmt.index("select l.movie_id") :]
for lo, hi in (batches[0], batches[len(batches) // 2], batches[-1]):
    analyze(f"item_pair_sums batch [{lo}, {hi}) of {len(batches)}", select, {"lo": lo, "hi": hi})
# pair sums of every batch, then the top-k as the build runs it
run_file(con, object_file("item_pair_sums"))
for lo, hi in batches:
    run_file(con, part_file("item_pair_sums", "batch"), {"lo": lo, "hi": hi})
run_file(con, part_file("item_neighbors", "scope"))
nb = part_file("item_neighbors", "refresh").read_text()
_, stmt = split_statements(nb)
q = stmt[stmt.index("with ranked") :].replace("$neighbors_k", str(settings(con)["neighbors_k"]))
analyze("item_neighbors top-k over item_similarity", q)
HEADER = (
    "# EXPLAIN ANALYZE at 10M synthetic ratings (item side)\n\nDuckDB {version}, written by "
    "bench/profile_plans.py. The quoted run shared the 2 cores with other work: read the "
    "operators' shares of the time, not the seconds.\n\n"
)
target = Path(__file__).resolve().parent / "results" / "plans_10M.md"
target.write_text(HEADER.format(version=duckdb.__version__) + "\n".join(out), encoding="utf-8")
print("ok", len(batches))
