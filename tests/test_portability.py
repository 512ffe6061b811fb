"""The core similarity and recommendation SQL stays portable (it is to run on Spark,
transpiled with sqlglot): it parses as DuckDB, transpiles to Spark SQL, uses no
DuckDB-only list/struct functions, breaks ties in every window ORDER BY, and guards
every division with NULLIF."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from recsys_duck.sql import layer_files, part_file, split_statements

CORE_LAYERS = (
    "20_stats",
    "25_baseline",
    "30_similarity",
    "40_neighbors",
    "50_recommend",
    "60_marts",
    "70_evaluation",
    "75_report",
)
# The parts that compute core tables piecewise (pair sums, neighbour rankings, content
# neighbours, the recommendations mart).
CORE_PARTS = (
    ("item_pair_sums", "batch"),
    ("user_pair_sums", "batch"),
    ("item_neighbors", "refresh"),
    ("user_neighbors", "refresh"),
    ("content_profiles", "fill"),
    ("content_neighbors", "batch"),
    ("recommendations", "batch"),
)
CORE_FILES = [
    *(path for layer in CORE_LAYERS for path in layer_files(layer)),
    *(part_file(name, part) for name, part in CORE_PARTS),
]
DUCKDB_ONLY = ("list_", "struct_", "array_agg", "unnest", "max_by", "arg_max", "string_split")


def _statements(path: Path) -> list[exp.Expression]:
    parsed = []
    for statement in split_statements(path.read_text(encoding="utf-8")):
        tree = sqlglot.parse_one(statement, read="duckdb")
        assert tree is not None
        parsed.append(tree)
    return parsed


@pytest.mark.parametrize("path", CORE_FILES, ids=lambda p: p.stem)
def test_transpiles_to_spark(path: Path) -> None:
    for tree in _statements(path):
        spark = tree.sql(dialect="spark", unsupported_level=sqlglot.ErrorLevel.RAISE)
        declares_table = isinstance(tree, exp.Create) and isinstance(tree.this, exp.Schema)
        assert declares_table or "select" in spark.lower()
        lowered = tree.sql(dialect="duckdb").lower()
        for name in DUCKDB_ONLY:
            assert f"{name}(" not in lowered, f"{path.name} uses DuckDB-only {name}"


@pytest.mark.parametrize("path", CORE_FILES, ids=lambda p: p.stem)
def test_window_orders_have_a_tie_breaker(path: Path) -> None:
    """Two keys or more, or one ``rank_key``: a key that packs its own tie-breaker, or
    one id that no other row of the partition shares (``movie_id`` within a content
    profile: a movie belongs to one profile; ``model``, the key of ranking_models)."""
    unique_ids = {("movie_id", ("profile_id",)), ("model", ())}
    for tree in _statements(path):
        for window in tree.find_all(exp.Window):
            order = window.args.get("order")
            if order is None:
                continue
            keys = [ordered.this for ordered in order.expressions]
            single = keys[0].name if len(keys) == 1 and isinstance(keys[0], exp.Column) else None
            partition = tuple(
                c.name for c in window.args.get("partition_by") or () if isinstance(c, exp.Column)
            )
            packed = single == "rank_key" or (single, partition) in unique_ids
            assert len(keys) >= 2 or packed, f"{path.name}: {window.sql()}"


def test_every_rank_key_breaks_ties_by_id() -> None:
    """Each ``rank_key`` the core SQL defines is the rounded similarity (score) scaled past
    the id range, minus the ranked id: unique within a partition, smaller id first."""
    found = 0
    for path in CORE_FILES:
        for tree in _statements(path):
            for alias in tree.find_all(exp.Alias):
                if alias.alias != "rank_key":
                    continue
                found += 1
                key = alias.this
                assert isinstance(key, exp.Sub), f"{path.name}: {key.sql()}"
                assert isinstance(key.expression, exp.Column), f"{path.name}: {key.sql()}"
                ranked_id = key.expression.name
                # a content profile is named by a movie_id (content_profiles)
                ranked = ("neighbor_id", "movie_id", "neighbor_profile_id")
                assert ranked_id in ranked, f"{path.name}: {key.sql()}"
                scaled = key.this.sql(dialect="duckdb").lower()
                assert "round(" in scaled and "4194304" in scaled, f"{path.name}: {scaled}"
    assert found >= 4


@pytest.mark.parametrize("path", CORE_FILES, ids=lambda p: p.stem)
def test_every_division_is_guarded(path: Path) -> None:
    for tree in _statements(path):
        for division in tree.find_all(exp.Div):
            denominator = division.expression
            while isinstance(denominator, exp.Paren):
                denominator = denominator.this
            guarded = isinstance(denominator, exp.Nullif | exp.Literal)
            assert guarded, f"{path.name}: {division.sql()} divides without NULLIF"
