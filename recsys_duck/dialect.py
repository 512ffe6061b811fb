"""The project's SQL, written for DuckDB, as Spark SQL: sqlglot's transpiler plus the
project's own rewrites, each for one construct that Spark's default catalog lacks or
that sqlglot renders wrongly.

The files under ``sql/`` stay the one source: :func:`to_spark` turns one DuckDB
statement into the Spark statements that do the same thing. The rewrites:

* **Tables are Parquet tables.** Spark's default (v1) catalog has no ``CREATE OR
  REPLACE TABLE``, no temporary tables and no PRIMARY KEY / CHECK / UNIQUE constraints.
  ``CREATE [OR REPLACE] [TEMP] TABLE t ...`` becomes ``DROP TABLE IF EXISTS t`` (when it
  replaces) and ``CREATE TABLE t ... USING PARQUET`` without those constraints (NOT NULL
  stays: Spark checks it on insert). A temporary table becomes a table of the run's
  database: the plan's cleanup parts drop it like the DuckDB one.
* **DELETE keeps the other rows.** Parquet tables take no ``DELETE``:
  ``DELETE FROM t WHERE c`` writes the rows where ``c`` is not true to a new table that
  then takes the name ``t`` (``DELETE FROM t`` without a condition truncates).
* **range with column names.** DuckDB's ``range(a, b) AS r(k)`` becomes an exploded
  ``sequence`` (sqlglot renders an invalid EXPLODE; Spark's ``range`` takes constants
  only).
* Parameters: DuckDB's ``$name`` is Spark's ``:name``, bound by ``spark.sql(args=...)``.

Anything sqlglot cannot render raises (``unsupported_level=RAISE``) rather than run as
something else.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp

#: Constraints that Spark's Parquet tables do not take (NOT NULL is kept).
_DROPPED_CONSTRAINTS = (
    exp.PrimaryKey,
    exp.PrimaryKeyColumnConstraint,
    exp.CheckColumnConstraint,
    exp.UniqueColumnConstraint,
    exp.Constraint,
)

#: The suffix of the table that a rewritten DELETE fills with the rows it keeps.
KEPT_SUFFIX = "__kept"


class NotPortableError(ValueError):
    """A statement that the Spark engine cannot run (it names the construct)."""


def to_spark(statement: str) -> list[str]:
    """The Spark SQL statements that do what one DuckDB ``statement`` does."""
    tree = sqlglot.parse_one(statement, read="duckdb")
    if not isinstance(tree, exp.Expression):
        return []
    return [
        part.sql(dialect="spark", unsupported_level=sqlglot.ErrorLevel.RAISE)
        for part in rewrite(tree)
    ]


def returns_rows(statement: str) -> bool:
    """Whether a DuckDB statement is a query (its rows are fetched)."""
    return isinstance(sqlglot.parse_one(statement, read="duckdb"), exp.Query)


def rewrite(tree: exp.Expression) -> list[exp.Expression]:
    """The project's rewrites of one parsed DuckDB statement (see the module doc)."""
    tree = tree.transform(_range_with_columns)
    if isinstance(tree, exp.Create) and str(tree.args.get("kind", "")).upper() == "TABLE":
        return _parquet_table(tree)
    if isinstance(tree, exp.Delete):
        return _delete(tree)
    return [tree]


def _parquet_table(create: exp.Create) -> list[exp.Expression]:
    create = create.copy()
    table = create.this.this if isinstance(create.this, exp.Schema) else create.this
    statements: list[exp.Expression] = []
    if create.args.get("replace"):
        statements.append(_drop(table))
        create.set("replace", False)
    if isinstance(create.this, exp.Schema):
        columns = [
            column
            for column in create.this.expressions
            if not isinstance(column, _DROPPED_CONSTRAINTS)
        ]
        for column in columns:
            if isinstance(column, exp.ColumnDef):
                kept = [
                    c
                    for c in column.args.get("constraints") or []
                    if not isinstance(c.args.get("kind"), _DROPPED_CONSTRAINTS)
                ]
                column.set("constraints", kept)
        create.this.set("expressions", columns)
    properties = [
        prop
        for prop in (create.args.get("properties") or exp.Properties(expressions=[])).expressions
        if not isinstance(prop, exp.TemporaryProperty)
    ]
    properties.append(exp.FileFormatProperty(this=exp.Var(this="PARQUET")))
    create.set("properties", exp.Properties(expressions=properties))
    statements.append(create)
    return statements


def _delete(delete: exp.Delete) -> list[exp.Expression]:
    table = delete.this
    if not isinstance(table, exp.Table) or table.alias:
        raise NotPortableError(f"DELETE on Spark needs a plain table name: {delete.sql()}")
    where = delete.args.get("where")
    if where is None:
        return [exp.TruncateTable(expressions=[table.copy()])]
    kept_name = exp.to_identifier(table.name + KEPT_SUFFIX)
    kept = exp.Table(this=kept_name, db=table.args.get("db"))
    # Rows where the condition is false or unknown stay, as DELETE leaves them.
    condition = exp.Not(this=exp.Coalesce(this=where.this.copy(), expressions=[exp.false()]))
    select = exp.select("*").from_(table.copy()).where(condition)
    return [
        _drop(kept),
        exp.Create(
            this=kept.copy(),
            kind="TABLE",
            expression=select,
            properties=exp.Properties(
                expressions=[exp.FileFormatProperty(this=exp.Var(this="PARQUET"))]
            ),
        ),
        _drop(table),
        exp.Alter(
            this=kept.copy(),
            kind="TABLE",
            actions=[exp.AlterRename(this=exp.Table(this=table.this.copy()))],
        ),
    ]


def _range_with_columns(node: exp.Expression) -> exp.Expression:
    """``range(a, b) AS r(k)`` -> ``(SELECT k FROM (SELECT explode(sequence(a,
    greatest(a, b - 1))) AS k) WHERE k < b) AS r``: Spark's own range() takes constants
    only, and a sequence never runs backwards, so an empty range stays empty."""
    if not (isinstance(node, exp.Table) and isinstance(node.this, exp.GenerateSeries)):
        return node
    series = node.this
    alias = node.args.get("alias")
    if alias is None or len(alias.columns) != 1 or not series.args.get("is_end_exclusive"):
        raise NotPortableError(f"only range(a, b) AS name(column) is portable: {node.sql()}")
    start, end = series.args["start"], series.args["end"]
    name = alias.columns[0].name
    before_end = exp.Sub(this=exp.paren(end.copy()), expression=exp.Literal.number(1))
    last = exp.Greatest(this=start.copy(), expressions=[before_end])
    values = exp.Explode(this=exp.Anonymous(this="sequence", expressions=[start.copy(), last]))
    inner = exp.select(exp.alias_(values, name)).subquery("_range")
    outer = (
        exp.select(exp.column(name))
        .from_(inner)
        .where(exp.LT(this=exp.column(name), expression=exp.paren(end.copy())))
    )
    return exp.Subquery(this=outer, alias=exp.TableAlias(this=alias.this.copy()))


def _drop(table: exp.Table) -> exp.Drop:
    return exp.Drop(tables=[table.copy()], kind="TABLE", exists=True)
