"""The project's DuckDB -> Spark rewrites (recsys_duck.dialect), read back by sqlglot's
Spark parser: what each rewrite must produce. tests/test_spark.py runs them on Spark."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from recsys_duck.dialect import NotPortableError, to_spark
from recsys_duck.sql import split_statements
from tests.test_portability import CORE_FILES


def _spark(statement: str) -> list[exp.Expression]:
    parsed = [sqlglot.parse_one(text, read="spark") for text in to_spark(statement)]
    return [tree for tree in parsed if isinstance(tree, exp.Expression)]


def test_a_replaced_table_is_dropped_then_made_a_parquet_table_without_keys() -> None:
    drop, create = _spark(
        "create or replace table t (a integer not null, b double, "
        "primary key (a), check (b > 0), unique (b))"
    )
    assert isinstance(drop, exp.Drop) and drop.args["exists"]
    assert isinstance(create, exp.Create) and not create.args.get("replace")
    text = create.sql(dialect="spark")
    assert "USING PARQUET" in text and "a INT NOT NULL" in text
    for gone in ("PRIMARY KEY", "CHECK", "UNIQUE"):
        assert gone not in text


def test_create_if_not_exists_keeps_the_table_it_finds() -> None:
    (create,) = _spark("create table if not exists t (a integer, primary key (a))")
    assert isinstance(create, exp.Create) and create.args["exists"]


def test_a_temporary_table_becomes_a_table_not_a_view() -> None:
    # sqlglot alone renders a Spark TEMPORARY VIEW: recomputed at every read, and no
    # INSERT into it. The run's database holds it; the plan's cleanup parts drop it.
    drop, create = _spark("create or replace temp table _x as select 1 as a")
    assert isinstance(drop, exp.Drop)
    assert isinstance(create, exp.Create) and str(create.args["kind"]).upper() == "TABLE"
    assert "TEMPORARY" not in create.sql(dialect="spark")


def test_delete_keeps_the_rows_where_the_condition_is_not_true() -> None:
    drop, keep, drop_old, rename = _spark("delete from t where a in (select b from u)")
    assert isinstance(drop, exp.Drop) and isinstance(drop_old, exp.Drop)
    assert isinstance(keep, exp.Create) and isinstance(rename, exp.Alter)
    where = keep.expression.args["where"].this
    # NOT COALESCE(condition, FALSE): a row whose condition is NULL stays, as in DELETE.
    assert isinstance(where, exp.Not) and isinstance(where.this, exp.Coalesce)
    assert rename.this.name == "t__kept" and rename.args["actions"][0].this.name == "t"


def test_delete_without_a_condition_truncates() -> None:
    (truncate,) = _spark("delete from t")
    assert isinstance(truncate, exp.TruncateTable)


def test_range_with_a_column_name_becomes_an_exploded_sequence() -> None:
    (select,) = _spark("select r.k from range(1, (select max(a) from t)) as r(k)")
    text = select.sql(dialect="spark").upper()
    assert "EXPLODE(SEQUENCE(" in text and "RANGE(" not in text


def test_range_without_a_column_name_is_refused() -> None:
    with pytest.raises(NotPortableError):
        to_spark("select * from range(1, 5) as r")


def test_parameters_become_spark_markers() -> None:
    (select,) = to_spark("select * from t where a >= $lo and a < $hi")
    assert ":lo" in select and ":hi" in select and "$" not in select


@pytest.mark.parametrize("path", CORE_FILES, ids=lambda p: p.stem)
def test_every_core_statement_has_a_spark_form(path: Path) -> None:
    for statement in split_statements(path.read_text(encoding="utf-8")):
        for text in to_spark(statement):
            assert sqlglot.parse_one(text, read="spark") is not None
