"""Loading ratings and movies (a MovieLens release's folder, or files of your own) into
the raw tables.

:func:`load_movielens` recognises the release by its files
(:func:`recsys_duck.layouts.detect`: ml-latest-small, ml-latest, ml-32m, ml-25m and
ml-20m as CSV; ml-10m and ml-1m as ``::``-separated ``.dat``; ml-100k's ``u.data`` and
``u.item``), reads each file with DuckDB's CSV reader into a TEMP staging table, every
value as text, and checks it completely before anything is written: the header, the
shape of every row (field count, quotes, encoding), and then every value (ids are whole
numbers, ratings lie on the rating scale, no duplicate keys, no rating, tag or link of a
movie missing from the movies file). Only when every file passes are ``movies``,
``ratings``, ``tags`` and ``links`` emptied and refilled, and the scale stored in
``recsys_params``, so a bad file leaves them as they were. The loader never begins,
commits or rolls back a transaction: it runs inside the caller's.

:func:`load_files` loads files of your own (:class:`FilesInput`): ratings as CSV,
Parquet or a MovieLens ``.dat`` / ``u.data`` file, with your column names, and
optionally items (id, title, genres). The rating scale is the one given, else the
release's, else the one the ratings show (:func:`_inferred_scale`).

Errors are :class:`~recsys_duck.errors.DataError` naming the file, the 1-based line
(the header, if any, is line 1) and the column of the first offending row, how many rows
are bad in total, and how to fix them. Line numbers are physical lines as ``grep -n``
counts them, also when blank lines or quoted values spanning lines come first:

* rows the CSV reader rejects (wrong field count, bad quotes, invalid UTF-8) are
  located from the byte offset DuckDB stores in its rejects table;
* rows that parse but hold bad values are numbered in scan order (``with
  ordinality``) and mapped to lines by splitting the file into lines and keeping those
  that start a record: not blank, and (in a quoted format) after an even number of
  double quotes.

Parquet files are read with every column as text and then staged and checked by the
same steps; errors name the file, its 1-based row and the column.

The SQL lives in ``sql/steps/load/``, one file per statement or family of statements
(``read_raw``, ``stage_<table>``, ``check_<table>``, ``replace_tables``, ``line_map``,
...); this module only runs them in order and turns what they find into messages.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from recsys_duck.errors import DataError
from recsys_duck.layouts import (
    CSV,
    GROUPLENS_PAGE,
    LAYOUTS,
    TableFile,
    TextFormat,
    detect,
    file_kind,
    items_file,
    ratings_file,
    table_name,
)
from recsys_duck.pairs import MAX_ID
from recsys_duck.params import MOVIELENS_SCALE, BuildParams, RatingScale, read_params
from recsys_duck.sql import (
    cleaned_up,
    query_file,
    quote_identifier,
    run_file,
    step_file,
    string_literal,
)

logger = logging.getLogger(__name__)

# The Unix times a timestamp may take: 0001-01-01 00:00:00 .. 9999-12-31 23:59:59 UTC.
_MIN_EPOCH = -62135596800
_MAX_EPOCH = 253402300799
#: What the check files are run with: the timestamps and ids they accept.
_CHECKS = {"min_epoch": _MIN_EPOCH, "max_epoch": _MAX_EPOCH, "max_id": MAX_ID}

#: The raw tables, in the order they are staged (ratings, tags and links refer to movies).
_TABLES = ("movies", "ratings", "tags", "links")
#: The files of MovieLens' CSV layout, by table: what a tags file of your own looks like.
_CSV_FILES = {spec.table: spec for spec in LAYOUTS["csv"].files}

_NEWLINE = re.compile(rb"\r\n|\r|\n")


@dataclass(frozen=True)
class Loaded:
    """What a load put in the raw tables: the rows of each, and the rating scale the
    ratings were checked against (which the build stores, and clips predictions to)."""

    rows: dict[str, int]
    scale: RatingScale


@dataclass(frozen=True)
class FilesInput:
    """Ratings, and optionally items (movies) and tags, as files of your own.

    ``ratings`` is a CSV file (with a header line), a Parquet file, folder or glob, or
    a MovieLens ``.dat`` / ``u.data`` file (see :func:`recsys_duck.layouts.file_kind`);
    ``columns`` maps MovieLens' column names (userId, movieId, rating, timestamp,
    title, genres) to the files' own (``--columns user=...``). The timestamp (Unix
    seconds or a date-time) may be absent. ``movies`` (items: an id, and optionally a
    title and ``|``-separated genres) may be absent too: the items are then the movies
    the ratings name, with no content features. DuckDB reads local paths; a build on
    Spark reads Parquet from any path Spark reaches (``s3a://``, ``hdfs://``, ...), and
    DuckDB checks Spark's copy.
    """

    ratings: str
    movies: str | None = None
    tags: str | None = None
    columns: Mapping[str, str] = field(default_factory=dict)
    #: Databases to read tables from (name -> what DuckDB's ATTACH takes: a DuckDB file,
    #: or ``postgresql://...``), attached read-only: ``ratings="shop.orders"``.
    attach: Mapping[str, str] = field(default_factory=dict)

    def sources(self) -> dict[str, str]:
        """The path of each table given (ratings, and perhaps movies and tags)."""
        found = {"ratings": self.ratings}
        if self.movies is not None:
            found["movies"] = self.movies
        if self.tags is not None:
            found["tags"] = self.tags
        return found

    def has_content(self) -> bool:
        """Whether the items have genres (or there are tags) to build content features
        from: the items file must name a genres column."""
        if self.tags is not None:
            return True
        if self.movies is None:
            return False
        return self.columns.get("genres", "genres") in _column_names(self.movies, self.attach)


def load_movielens(
    con: duckdb.DuckDBPyConnection,
    directory: str | os.PathLike[str],
    params: BuildParams | None = None,
) -> Loaded:
    """Replace the contents of movies, ratings, tags and links with a MovieLens folder
    of any release (:func:`recsys_duck.layouts.detect`), checking the ratings against
    its scale (the release's, with the fields ``params`` gives instead).

    The movies and ratings files are required; tags and links are optional (an absent
    file leaves its table empty). Every file is checked before any table changes; on
    the first problem a :class:`DataError` is raised and the tables are untouched. Runs
    inside the caller's transaction and never ends it.

    Returns the number of rows loaded per table and the scale.
    """
    folder = Path(directory)
    if not folder.is_dir():
        raise DataError(
            "no such folder; download ml-latest-small from "
            f"{GROUPLENS_PAGE}, unzip it and pass the folder holding movies.csv and ratings.csv",
            path=str(folder),
        )
    layout = detect(folder)
    scale = (params or BuildParams()).given_scale(layout.scale)

    def stage(table: str) -> int:
        spec = layout.file(table)
        if spec is None:
            run_file(con, _step(f"stage_{table}_empty"))
            return 0
        path = folder / spec.name
        flags = folder / layout.genre_names if layout.genre_names and table == "movies" else None
        n_rows = _read_csv(con, path, spec, genre_names=flags)
        if n_rows:
            _check(con, path, spec, scale, _csv_locator(con, path, spec, n_rows))
        return n_rows

    logger.info("%s: %s layout (%s)", folder, layout.name, layout.releases)
    return _replace_tables(con, stage, str(folder), lambda: scale)


def load_files(
    con: duckdb.DuckDBPyConnection,
    source: FilesInput,
    params: BuildParams | None = None,
    staged: Mapping[str, str] | None = None,
) -> Loaded:
    """Replace the contents of movies, ratings, tags and links with files of your own,
    all or nothing, as :func:`load_movielens` does with a folder (links stays empty,
    and tags when ``source`` has none). The rating scale is the one ``params`` gives,
    else the one the ratings show (:func:`_inferred_scale`). ``staged`` maps a table to
    the local copy of its files that Spark wrote (with each row's file and row index),
    to read instead.

    Returns the number of rows loaded per table and the scale.
    """
    params = params or BuildParams()
    sources = source.sources()
    found_scale: list[RatingScale] = []
    items = "the ratings" if source.movies is None else Path(source.movies).name

    def stage(table: str) -> int:
        path = sources.get(table)
        if table == "movies" and path is None:
            return 0  # made from the ratings' movies, once they are read
        if path is None:
            run_file(con, _step(f"stage_{table}_empty"))
            return 0
        databases = source.attach
        spec = (
            items_file(path, source.columns, databases)
            if table == "movies"
            else replace(ratings_file(path, source.columns, databases), movies_from=items)
            if table == "ratings"
            else replace(_CSV_FILES[table], name=Path(path).name, movies_from=items)
        )
        copy = None if staged is None else staged.get(table)
        n_rows, locate = _read_source(con, path, spec, databases, copy)
        if table == "ratings":
            if source.movies is None:
                run_file(con, _step("stage_movies_from_ratings"))
            found_scale.append(params.given_scale(_inferred_scale(con)))
        _check(con, path, spec, found_scale[0] if found_scale else None, locate)
        return n_rows

    return _replace_tables(con, stage, source.ratings, lambda: found_scale[0])


def _replace_tables(
    con: duckdb.DuckDBPyConnection,
    stage: Callable[[str], int],
    source: str,
    scale: Callable[[], RatingScale],
) -> Loaded:
    """Stage and check every table by ``stage``, then replace the four tables; the
    temporary tables go whatever happens. Returns the rows per table and the rating
    ``scale`` (known once the ratings are staged)."""
    start = time.perf_counter()
    counts: dict[str, int] = {}
    try:
        for table in _TABLES:
            counts[table] = stage(table)
        run_file(con, _step("replace_tables"))
        # Items that the ratings alone name were not staged from a file of their own.
        (counts["movies"],) = _one(con, "count_movies")
        found = scale()
    finally:
        _drop_temporaries(con)
    logger.info(
        "loaded %s from %s in %.2f s (ratings on %s)",
        ", ".join(f"{n} {table}" for table, n in counts.items()),
        source,
        time.perf_counter() - start,
        found,
    )
    return Loaded(counts, found)


def load_new_ratings(con: duckdb.DuckDBPyConnection, path: str | os.PathLike[str]) -> int:
    """Check a ratings file of new ratings (MovieLens' ratings.csv columns) against the
    database and stage it as the temporary table ``_recsys_new_ratings``.

    Every check of :func:`load_movielens` applies (the rating scale is the database's),
    the movies must be in the ``movies`` table, and no (user, movie) pair may be rated
    already. On the first problem a :class:`DataError` names the file, line and column
    and nothing is staged. Runs inside the caller's transaction. Returns the number of
    new ratings.
    """
    file = Path(path)
    if not file.is_file():
        raise DataError(
            "no such file; pass a CSV file of new ratings with the header "
            "userId,movieId,rating,timestamp",
            path=str(file),
        )
    spec = replace(_CSV_FILES["ratings"], name=file.name, movies_from="the database's movies table")
    # The stored settings give every field of the scale; MovieLens' only stands in.
    scale = read_params(con).given_scale(MOVIELENS_SCALE)
    # In the caller's transaction: a failure there must not be hidden by the cleanup.
    with cleaned_up(lambda: _drop_temporaries(con)):
        run_file(con, _step("stage_movies_from_table"))
        n_rows = _read_csv(con, file, spec)
        locate = _csv_locator(con, file, spec, n_rows)
        if n_rows:
            _check(con, file, spec, scale, locate)
        run_file(con, _step("check_new_ratings"))
        _check_problems(con, file, spec, scale, locate)
        run_file(con, _step("stage_new_ratings"))
    return n_rows


def load_split_files(
    con: duckdb.DuckDBPyConnection,
    pairs: Sequence[tuple[str, str]],
    columns: Mapping[str, str] | None = None,
) -> list[tuple[int, int]]:
    """Fill ``eval_given_ratings`` with a split given as files: for each (train, test)
    pair, fold 1, 2, ... Each file is a ratings file of your own (CSV, Parquet, or a
    MovieLens ``.dat`` / ``u.data``-style file such as ml-100k's ``u1.base``; the
    names of ``columns``) checked as :func:`load_movielens` checks ratings, against the
    database's rating scale and movies. On the first problem a :class:`DataError` names
    the file, line and column. Runs inside the caller's transaction. Returns the
    (train, test) row counts of each fold.
    """
    scale = read_params(con).given_scale(MOVIELENS_SCALE)
    run_file(con, _step("clear_given_ratings"))
    counts = []
    for fold, pair in enumerate(pairs, start=1):
        sizes = []
        for path, is_test in zip(pair, (False, True), strict=True):
            spec = replace(
                ratings_file(path, columns or {}), movies_from="the database's movies table"
            )
            with cleaned_up(lambda: _drop_temporaries(con)):
                run_file(con, _step("stage_movies_from_table"))
                n_rows, locate = _read_source(con, path, spec)
                _check(con, path, spec, scale, locate)
                run_file(
                    con,
                    step_file("evaluate/add_given_ratings"),
                    {"fold": fold, "is_test": is_test},
                )
            sizes.append(n_rows)
        counts.append((sizes[0], sizes[1]))
    return counts


def _read_source(
    con: duckdb.DuckDBPyConnection,
    path: str,
    spec: TableFile,
    databases: Mapping[str, str] | None = None,
    copy: str | None = None,
) -> tuple[int, Callable[[Sequence[int]], dict[int, _Place]]]:
    """Read a source of your own into its staging table: a table of an attached database
    (``databases``), Parquet (or Spark's ``copy`` of it), or a text file (CSV, ``.dat``,
    ``u.data``); return its number of rows and how to locate a record. A missing or
    empty file is an error."""
    parts = table_name(path, databases or {})
    if parts is not None:
        n_rows, locate = _read_table(con, parts, spec)
    elif file_kind(path) == "parquet":
        n_rows, locate = _read_parquet(con, path, spec, copy)
    else:
        if not Path(path).is_file():
            raise DataError(
                "no such file; pass a CSV file with a header line, Parquet, a .dat file or a "
                "tab-separated u.data-style file such as u1.base",
                path=path,
            )
        n_rows = _read_csv(con, Path(path), spec)
        locate = _csv_locator(con, Path(path), spec, n_rows)
    if n_rows == 0:
        raise DataError(f"the file holds no rows; {spec.table} needs at least one", path=path)
    return n_rows, locate


def _read_csv(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    spec: TableFile,
    *,
    genre_names: Path | None = None,
) -> int:
    """Read one text file into its staging table (every value as text) and return its
    number of rows; the rows the reader rejects (shape, quotes, encoding) raise.
    ``genre_names`` (ml-100k's u.genre) names the genre flags of the file's fields."""
    if path.is_dir():
        raise DataError(
            f"{spec.name} is a folder, not a file; it must be {spec.format.describe()}, "
            f"e.g. {spec.example}",
            path=str(path),
        )
    if not path.is_file():
        if spec.required:
            raise DataError(
                f"{spec.name} is missing; a MovieLens folder needs its movies and ratings "
                f"files (download ml-latest-small from {GROUPLENS_PAGE})",
                path=str(path),
            )
        logger.info("%s not found: table %s stays empty", path, spec.table)
        run_file(con, _step(f"stage_{spec.table}_empty"))
        return 0
    if spec.format.header:
        header = _read_header(path, spec)
        wanted = {spec.source_name(c): c for c in spec.columns}
        # Read every column the header names; extra columns get placeholder names.
        names = [wanted.get(name, f"_extra_{i}") for i, name in enumerate(header)]
    else:
        _check_not_empty(path, spec)
        names = list(spec.fields)
    fmt = spec.format
    # DuckDB appends to existing rejects tables; start each file with fresh ones.
    run_file(con, _step("drop_rejects"))
    try:
        run_file(
            con,
            _step("read_raw"),
            {
                "path": str(path),
                "columns": {name: "VARCHAR" for name in names},
                "header": fmt.header,
                "delim": fmt.delim,
                "quote": '"' if fmt.quoted else "",
                "encoding": fmt.encoding,
            },
        )
    except duckdb.OutOfMemoryException as exc:
        reason = str(exc).strip().splitlines()[0]
        raise DataError(
            f"DuckDB ran out of memory reading the file ({reason}); raise --memory-limit",
            path=str(path),
        ) from exc
    except duckdb.Error as exc:
        mixed = _first_other_line_end(path)
        if mixed is not None:
            line, found, first = mixed
            raise DataError(
                f"this line ends with {found} but the file's first line with {first}; "
                "make every line end the same way (e.g. convert the file with dos2unix)",
                path=str(path),
                line=line,
            ) from exc
        reason = str(exc).strip().splitlines()[0]
        raise DataError(
            f"DuckDB's CSV reader could not parse the file ({reason}); check that it is "
            f"{fmt.describe()}, that every line ends the same way (all CRLF or all LF)"
            + (" and that every double quote is closed" if fmt.quoted else ""),
            path=str(path),
        ) from exc
    _check_rejects(con, path, spec, len(names))
    if genre_names is not None:
        _genres_from_flags(con, genre_names)
    _add_absent_columns(con, spec, names)
    run_file(con, _step(f"stage_{spec.table}"))
    (n_rows,) = _one(con, "count_raw")
    if n_rows == 0 and spec.required:
        raise DataError(
            f"{spec.name} has no rows; it needs one line per {spec.table[:-1]}"
            + (" after the header" if spec.format.header else "")
            + f", e.g. {spec.example}",
            path=str(path),
            line=2 if spec.format.header else 1,
        )
    return int(n_rows)


def _add_absent_columns(
    con: duckdb.DuckDBPyConnection, spec: TableFile, present: Sequence[str]
) -> None:
    """Give the raw table the optional columns the file lacks (a time, a title, genres),
    filled as ``sql/steps/load/fill_absent_<column>.sql`` says."""
    for column in spec.optional:
        if column not in present:
            run_file(con, _step(f"fill_absent_{column}"))


def _csv_locator(
    con: duckdb.DuckDBPyConnection, path: Path, spec: TableFile, n_rows: int
) -> Callable[[Sequence[int]], dict[int, _Place]]:
    """How to find the lines of records of a text file."""
    return lambda records: _csv_places(con, path, spec, records, n_rows)


def _check(
    con: duckdb.DuckDBPyConnection,
    path: Path | str,
    spec: TableFile,
    scale: RatingScale | None,
    locate: Callable[[Sequence[int]], dict[int, _Place]],
) -> None:
    """Check the staged rows of one file (ratings against ``scale``); raise for the first
    bad one."""
    params: dict[str, Any] = dict(_CHECKS)
    if scale is not None:
        params.update(rating_min=scale.low, rating_max=scale.high, rating_step=scale.step)
    run_file(con, _step(f"check_{spec.table}"), params)
    _check_problems(con, path, spec, scale, locate)
    logger.debug("%s: every row passes every check", path)


def _inferred_scale(con: duckdb.DuckDBPyConnection) -> RatingScale:
    """The scale the staged ratings show: their lowest to their highest value, in whole
    steps if all are whole, half steps if all are halves, else any value between."""
    low, high, step = _one(con, "inferred_scale")
    if low is None or high is None or not low < high:
        # One value only (or none that reads as a number): MovieLens' scale stands in,
        # and the check then names any value off it.
        return RatingScale(0.5, 5.0, 0.5)
    return RatingScale(float(low), float(high), float(step))


def _genres_from_flags(con: duckdb.DuckDBPyConnection, names: Path) -> None:
    """ml-100k: turn u.item's 19 genre flags into MovieLens' ``|``-separated genres, by
    the names u.genre gives them."""
    if not names.is_file():
        raise DataError(
            "u.genre is missing; MovieLens 100K names the genre flags of u.item in it "
            "(lines such as Action|1)",
            path=str(names),
        )
    try:
        run_file(con, _step("genres_from_flags"), {"path": str(names)})
    except duckdb.Error as exc:
        reason = str(exc).strip().splitlines()[0]
        raise DataError(
            f"cannot read the genre names ({reason}); u.genre holds lines such as Action|1",
            path=str(names),
        ) from exc


def attach_databases(con: duckdb.DuckDBPyConnection, attach: Mapping[str, str]) -> None:
    """Attach each database of ``attach`` (name -> a DuckDB file, or a PostgreSQL URL
    ``postgresql://...`` / ``postgres:dbname=...``) read-only under its name."""
    for name, url in attach.items():
        options = "read_only"
        if url.startswith(("postgres:", "postgresql:")):
            from recsys_duck.publish import load_postgres_extension  # the [bi] extra

            load_postgres_extension(con)
            options = "type postgres, read_only"
        try:
            # ATTACH takes no bound parameters; the URL is quoted as a string literal.
            con.execute(f"attach {string_literal(url)} as {quote_identifier(name)} ({options})")
        except duckdb.Error as exc:
            reason = str(exc).strip().splitlines()[0]
            raise DataError(
                f"cannot attach database {name} ({reason}); give --attach NAME=FILE.duckdb "
                "or NAME=postgresql://user@host/db"
            ) from exc


def _read_table(
    con: duckdb.DuckDBPyConnection, parts: Sequence[str], spec: TableFile
) -> tuple[int, Callable[[Sequence[int]], dict[int, _Place]]]:
    """Read a table of an attached database into the staging table, as Parquet files are
    read (rows numbered in scan order); return its number of rows and how to locate a
    record."""
    qualified = ".".join(map(quote_identifier, parts))
    try:
        # Identifiers quoted; the table's name for messages is a bound parameter.
        statement = (
            "create or replace temp table _recsys_load_raw as select columns(*)::varchar, "
            "$name as _recsys_file, row_number() over () - 1 as _recsys_row, "
            "row_number() over () as ordinality from TABLE"
        ).replace("TABLE", qualified)
        con.execute(statement, {"name": ".".join(parts)})
    except duckdb.Error as exc:
        reason = str(exc).strip().splitlines()[0]
        raise DataError(
            f"cannot read the table ({reason}); name a table of an attached database as "
            "DB.TABLE or DB.SCHEMA.TABLE",
            path=".".join(parts),
        ) from exc
    return _stage_read_rows(con, ".".join(parts), spec, "table")


def _read_parquet(
    con: duckdb.DuckDBPyConnection, path: str, spec: TableFile, copy: str | None
) -> tuple[int, Callable[[Sequence[int]], dict[int, _Place]]]:
    """Read one table's Parquet files (or Spark's ``copy`` of them) into its staging
    table; return its number of rows and how to locate a record."""
    if copy is None:
        if "://" in path:
            raise DataError(
                "DuckDB reads local Parquet files here; build with --engine spark to read "
                "from this location",
                path=path,
            )
        local = Path(path)
        paths, locate = [str(local / "**" / "*.parquet") if local.is_dir() else path], True
    else:
        paths, locate = [copy], False
    try:
        run_file(con, _step("read_raw_parquet"), {"paths": paths, "locate": locate})
    except duckdb.Error as exc:
        reason = str(exc).strip().splitlines()[0]
        raise DataError(
            f"cannot read it as Parquet ({reason}); pass a Parquet file, a folder of "
            f"Parquet files or a glob such as ratings/*.parquet",
            path=path,
        ) from exc
    return _stage_read_rows(con, path, spec, "Parquet files")


def _stage_read_rows(
    con: duckdb.DuckDBPyConnection, path: str, spec: TableFile, what: str
) -> tuple[int, Callable[[Sequence[int]], dict[int, _Place]]]:
    """Rename the read rows' columns to MovieLens' (``spec.renamed``), add the absent
    optional ones and stage them; return their number and how to locate a record."""
    found = [
        name
        for (name, *_) in _query(con, "raw_columns").description or ()
        if name not in ("_recsys_file", "_recsys_row", "ordinality")
    ]
    expected = [spec.source_name(c) for c in spec.columns]
    missing = [
        spec.source_name(c)
        for c in spec.columns
        if spec.source_name(c) not in found and c not in spec.optional
    ]
    if missing:
        raise DataError(
            f"the {what} lack column(s) {', '.join(missing)}: expected "
            f"{', '.join(expected)}, found {', '.join(found)}; name the columns with "
            "--columns (e.g. user=customer_id,item=sku); names are case-sensitive",
            path=path,
            column=missing[0],
        )
    for column in spec.columns:
        name = spec.source_name(column)
        if name != column and name in found:
            con.execute(
                f"alter table _recsys_load_raw rename column {quote_identifier(name)} "
                f"to {quote_identifier(column)}"
            )
    _add_absent_columns(con, spec, [c for c in spec.columns if spec.source_name(c) in found])
    run_file(con, _step(f"stage_{spec.table}"))
    (n_rows,) = _one(con, "count_raw")
    return int(n_rows), lambda records: _parquet_places(con, records)


def _step(name: str) -> Path:
    """The loader's step file ``sql/steps/load/<name>.sql``."""
    return step_file(f"load/{name}")


def _query(
    con: duckdb.DuckDBPyConnection, name: str, params: Mapping[str, Any] | None = None
) -> duckdb.DuckDBPyConnection:
    """Run the single query of step file ``load/<name>.sql``; fetch its rows from the result."""
    return query_file(con, _step(name), params)


def _one(con: duckdb.DuckDBPyConnection, name: str) -> tuple[Any, ...]:
    """The one row of step query ``load/<name>.sql`` (a count, or the first offender)."""
    row = _query(con, name).fetchone()
    if row is None:  # pragma: no cover - callers ask for it only when a row exists
        raise RuntimeError(f"no row from step load/{name}")
    return tuple(row)


def _column_names(path: str, attach: Mapping[str, str]) -> list[str]:
    """The column names of a CSV file's header, of Parquet files or of a table of an
    attached database (none if unreadable: the load then says what is wrong)."""
    parts = table_name(path, attach)
    if parts is not None:
        try:
            with duckdb.connect() as con:
                attach_databases(con, attach)
                query = "describe select * from TABLE".replace(
                    "TABLE", ".".join(map(quote_identifier, parts))
                )
                return [row[0] for row in con.execute(query).fetchall()]
        except (duckdb.Error, DataError):
            return []
    if file_kind(path) != "parquet":
        try:
            with open(path, "rb") as f:
                first = _NEWLINE.split(f.read(64 * 1024), maxsplit=1)[0]
            return [n.strip().strip('"') for n in first.decode("utf-8-sig").split(",")]
        except (OSError, UnicodeDecodeError):
            return []
    local = Path(path)
    glob = str(local / "**" / "*.parquet") if local.is_dir() else path
    try:
        with duckdb.connect() as con:
            return [
                row[0]
                for row in con.execute("describe select * from read_parquet(?)", [glob]).fetchall()
            ]
    except duckdb.Error:
        return []


def _read_header(path: Path, spec: TableFile) -> list[str]:
    """The column names on line 1, checked against the ones the file must have."""
    expected = ",".join(spec.source_name(c) for c in spec.columns if c not in spec.optional)
    head = _head(path, spec)
    first = _NEWLINE.split(head, maxsplit=1)[0]
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(
            f"the header line is not valid UTF-8 ({exc.reason} at byte {exc.start}); "
            f"re-save the file as UTF-8 with the header {expected}",
            path=str(path),
            line=1,
        ) from exc
    found = [name.strip().strip('"') for name in text.split(spec.format.delim)]
    missing = [
        spec.source_name(c)
        for c in spec.columns
        if spec.source_name(c) not in found and c not in spec.optional
    ]
    if missing:
        advice = (
            "name them with --columns (e.g. user=customer_id,item=sku,rating=stars)"
            if spec.renamed or spec.optional
            else "the first line must name the columns exactly like that (names are case-sensitive)"
        )
        raise DataError(
            f"the header lacks column(s) {', '.join(missing)}: expected {expected}, "
            f"found {','.join(found) or '(an empty line)'}; {advice}",
            path=str(path),
            line=1,
            column=missing[0],
        )
    duplicated = sorted({name for name in found if found.count(name) > 1})
    if duplicated:
        raise DataError(
            f"the header names column(s) {', '.join(duplicated)} more than once: "
            f"expected {expected}, found {','.join(found)}; keep one of each",
            path=str(path),
            line=1,
            column=duplicated[0],
        )
    return found


def _head(path: Path, spec: TableFile) -> bytes:
    """The file's first 64 KiB; an empty file is an error that shows a valid start."""
    try:
        with path.open("rb") as f:
            head = f.read(64 * 1024)
    except OSError as exc:
        raise DataError(
            f"cannot read the file ({exc.strerror}); check its permissions",
            path=str(path),
        ) from exc
    if not head:
        start = (
            "start with the header line "
            + ",".join(spec.source_name(c) for c in spec.columns)
            + " and then hold"
            if spec.format.header
            else "hold"
        )
        raise DataError(
            f"the file is empty; it must {start} one row per line, e.g. {spec.example}",
            path=str(path),
            line=1,
        )
    return head


def _check_not_empty(path: Path, spec: TableFile) -> None:
    """Raise for an empty or unreadable file without a header."""
    _head(path, spec)


_REJECT_ADVICE = {
    "TOO MANY COLUMNS": (
        "this row has more fields than the header's {n}; enclose a value that contains a "
        'comma in double quotes ("Beta, The (2001)") or remove the extra field'
    ),
    "MISSING COLUMNS": (
        "this row has fewer fields than the header's {n}; give every column a value, "
        "separated by commas, or delete the row"
    ),
    "UNQUOTED VALUE": (
        "a quoted value is not closed properly (an unterminated or stray double quote); "
        'close the quote, and write a double quote inside a quoted value as two ("")'
    ),
    "INVALID ENCODING": (
        "this row is not valid UTF-8 (the file looks like another encoding, e.g. Latin-1); "
        "re-save the file as UTF-8"
    ),
    "LINE SIZE OVER MAXIMUM": (
        "this row is longer than DuckDB's maximum line size, usually because a double quote "
        "is never closed and the rest of the file became one value; close the quote"
    ),
}


#: The advice for a file without quoting (MovieLens' .dat and u.data forms).
_PLAIN_REJECT_ADVICE = {
    "TOO MANY COLUMNS": (
        "this row has more fields than the {n} of the format ({format}), e.g. {example}; "
        "remove the extra field"
    ),
    "MISSING COLUMNS": (
        "this row has fewer fields than the {n} of the format ({format}), e.g. {example}; "
        "give every field a value or delete the row"
    ),
    "INVALID ENCODING": "this row is not valid UTF-8; re-save the file as UTF-8",
}


def _check_rejects(
    con: duckdb.DuckDBPyConnection, path: Path, spec: TableFile, n_columns: int
) -> None:
    """Raise for the first row the CSV reader rejected (wrong shape, quotes, encoding)."""
    (n_bad,) = _one(con, "count_rejects")
    if n_bad == 0:
        return
    first = _one(con, "first_reject")
    byte_position, column_name, error_type, error_message = first
    line = _line_at_byte(path, int(byte_position), strip_newline=error_type == "MISSING COLUMNS")
    advices = _REJECT_ADVICE if spec.format == CSV else _PLAIN_REJECT_ADVICE
    advice = advices.get(error_type, f"{error_message}; fix or delete the row").format(
        n=n_columns, format=spec.format.describe(), example=spec.example
    )
    raise DataError(
        f"{advice} ({path.name} has {_bad_rows(int(n_bad))} in total that cannot be read)",
        path=str(path),
        line=line,
        column=None if column_name is None else spec.label(column_name),
    )


def _line_at_byte(path: Path, offset: int, *, strip_newline: bool) -> int:
    """The 1-based line holding byte ``offset`` of the file.

    DuckDB reports a row that ends too early at the byte just after its line break, so
    ``strip_newline`` steps back over the line breaks that precede the offset.
    """
    with path.open("rb") as f:
        prefix = f.read(offset)
    if strip_newline:
        prefix = prefix.rstrip(b"\r\n")
    return len(_NEWLINE.findall(prefix)) + 1


def _bad_rows(n: int) -> str:
    return "1 bad row" if n == 1 else f"{n} bad rows"


#: Where a record is: the file, and its line (CSV) or row (Parquet).
_Place = tuple[str, int | None, int | None]


def _check_problems(
    con: duckdb.DuckDBPyConnection,
    path: Path | str,
    spec: TableFile,
    scale: RatingScale | None,
    places: Callable[[Sequence[int]], dict[int, _Place]],
) -> None:
    """Raise for the first row in file order whose values break a rule (``places``
    locates records)."""
    (n_bad,) = _one(con, "count_problems")
    if n_bad == 0:
        return
    record_no, column_name, kind, value, other_record_no = _one(con, "first_problem")
    breakdown = _query(con, "problem_breakdown").fetchall()
    records = [int(record_no)] + ([int(other_record_no)] if other_record_no is not None else [])
    found = places(records)
    file, line, row = found[int(record_no)]
    both = (
        None
        if other_record_no is None
        else _both(found[int(other_record_no)], found[int(record_no)])
    )
    message = _problem_message(spec, scale, spec.label(column_name), kind, value, both)
    summary = ", ".join(f"{n} {_KIND_LABELS[k].format(scale=scale)}" for k, n in breakdown)
    raise DataError(
        f"{message} ({Path(str(path)).name} has {_bad_rows(int(n_bad))} in total: {summary})",
        path=file,
        line=line,
        row=row,
        column=spec.label(column_name),
    )


def _both(first: _Place, this: _Place) -> str:
    """Where a duplicate and its first occurrence are: "lines 2 and 5" ("rows" in Parquet),
    or "row 2 of <file> and row 9" when they are in different files."""
    (first_file, first_line, first_row), (file, line, row) = first, this
    unit = "line" if line is not None else "row"
    if first_file == file:
        return f"{unit}s {first_line or first_row} and {line or row}"
    return f"{unit} {first_line or first_row} of {first_file} and {unit} {line or row}"


def _csv_places(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    spec: TableFile,
    records: Sequence[int],
    n_rows: int,
) -> dict[int, _Place]:
    lines = _lines_of_records(con, path, spec.format, records, n_rows)
    return {record: (str(path), line, None) for record, line in lines.items()}


def _parquet_places(con: duckdb.DuckDBPyConnection, records: Sequence[int]) -> dict[int, _Place]:
    rows = _query(con, "parquet_rows", {"records": list(records)}).fetchall()
    return {int(record): (str(file), None, int(row)) for record, file, row in rows}


def _lines_of_records(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    fmt: TextFormat,
    records: Sequence[int],
    n_rows: int,
) -> dict[int, int]:
    """Physical line numbers of the given data records (record 1 is the first row)."""
    params = {"path": str(path), "records": list(records), "header_lines": int(fmt.header)}
    rows = _query(con, "line_map", params).fetchall()
    # Where quotes are plain text (.dat titles), only the map that ignores them holds.
    for map_name in ("quoted", "plain") if fmt.quoted else ("plain",):
        found = {int(r): int(ln) for m, n, r, ln in rows if m == map_name and n == n_rows}
        if len(found) == len(set(records)):
            return found
    logger.warning("%s: could not map rows to lines exactly; assuming one row per line", path)
    return {r: r + int(fmt.header) for r in records}


_KIND_LABELS: Mapping[str, str] = {
    "missing": "empty value",
    "missing_genres": "empty genres",
    "not_whole": "not a whole number",
    "id_range": "id outside 0..4,194,303",
    "nul_byte": "NUL byte in text",
    "not_number": "rating not a number",
    "rating_range": "rating off the scale {scale}",
    "off_step": "rating off the scale {scale}",
    "timestamp": "bad timestamp",
    "imdb": "bad imdbId",
    "duplicate_movie": "duplicate movieId",
    "duplicate_rating": "duplicate (userId, movieId)",
    "unknown_movie": "movieId not among the movies",
    "already_rated": "(userId, movieId) already rated",
}


def _problem_message(
    spec: TableFile,
    scale: RatingScale | None,
    column: str,
    kind: str,
    value: str | None,
    both: str | None,
) -> str:
    """What is wrong with one value, and how to fix it (``column`` as the file names it;
    ``both``: where a duplicate and its first occurrence are; ``scale``: the ratings')."""
    if kind == "missing":
        return (
            f"{column} is empty; every row of {spec.name} needs a {column} "
            "(fill it in or delete the row)"
        )
    if kind == "missing_genres":
        return "genres is empty; write (no genres listed) for a movie without genres"
    if kind == "not_whole":
        return (
            f"{column} {value!r} is not a whole number; MovieLens ids are whole numbers "
            "such as 42 (fix the value or delete the row)"
        )
    if kind == "nul_byte":
        return (
            f"{column} contains a NUL byte (\\0), which PostgreSQL and most tools cannot "
            "store; delete that byte from the file"
        )
    if kind == "id_range":
        return (
            f"{column} {value.strip() if value else value} is outside 0..{MAX_ID:,}, the ids "
            "the neighbour tables rank; renumber the ids (e.g. by rank) before loading"
        )
    if kind == "not_number":
        assert scale is not None
        return (
            f"rating {value!r} is not a number; ratings are numbers from "
            f"{scale.show(scale.low)} to {scale.show(scale.high)}"
        )
    if kind in ("rating_range", "off_step"):
        return _off_scale_message(value, kind, scale)
    if kind == "timestamp":
        return (
            f"timestamp {value!r} is not a Unix time; write whole seconds since "
            "1970-01-01 00:00 UTC (negative before), such as 964982703, within years 1..9999"
        )
    if kind == "imdb":
        return (
            f"imdbId {value!r} is not made of digits; write IMDb's number without 'tt', "
            "such as 0114709"
        )
    if kind == "duplicate_movie":
        return (
            f"movieId {value} appears twice, on {both}; each movie "
            f"must appear once in {spec.name}: delete or renumber one of the two rows"
        )
    if kind == "duplicate_rating":
        user_id, movie_id = (value or ",").split(",", 1)
        return f"user {user_id} rated movie {movie_id} twice, on {both}; keep one of the two rows"
    if kind == "unknown_movie" and spec.movies_from == "the database's movies table":
        return (
            f"movieId {value} is not in {spec.movies_from}; only ratings of the built "
            f"movies can be added or scored: delete this row from {spec.name}, or add the "
            "movie to the movies file and rebuild"
        )
    if kind == "unknown_movie":
        return (
            f"movieId {value} is not in {spec.movies_from}; add the movie to "
            f"{spec.movies_from} or delete this row from {spec.name}"
        )
    if kind == "already_rated":
        user_id, movie_id = (value or ",").split(",", 1)
        return (
            f"user {user_id} has already rated movie {movie_id}; add-ratings adds new ratings "
            "only: delete this row, or put the changed rating in ratings.csv and rebuild"
        )
    raise AssertionError(f"unknown problem kind {kind!r}")  # pragma: no cover


def _off_scale_message(value: str | None, kind: str, scale: RatingScale | None) -> str:
    """A rating off the scale: outside its ends, or between its steps."""
    assert scale is not None
    shown = value.strip() if value else value
    other_scale = f"give the scale with --rating-scale LOW:HIGH:STEP (this one is {scale.flag()})"
    if kind == "rating_range":
        return (
            f"rating {shown} is outside {scale.show(scale.low)}..{scale.show(scale.high)}, "
            "the rating scale; "
            f"fix the rating, or {other_scale}"
        )
    levels = ", ".join(scale.show(scale.low + i * scale.step) for i in range(3))
    name = "half-star scale" if scale.step == 0.5 else f"scale {scale}"
    return (
        f"rating {shown} is not on the {name}: use one of {levels}, ..., "
        f"{scale.show(scale.high)}; "
        f"or {other_scale}"
    )


def _first_other_line_end(path: Path) -> tuple[int, str, str] | None:
    """The first line of ``path`` that ends otherwise than its first line (CRLF or LF),
    with both endings; None when every line ends alike. Read only after DuckDB's reader
    has failed, to name the line (DuckDB's own message gives none); a final line without
    an end counts as either."""
    with open(path, "rb") as handle:
        first: str | None = None
        for number, line in enumerate(handle, start=1):
            if not line.endswith(b"\n"):
                return None
            ending = "CRLF" if line.endswith(b"\r\n") else "LF"
            if first is None:
                first = ending
            elif ending != first:
                return number, ending, first
    return None


def _drop_temporaries(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the loader's temporary tables; after a failed statement the caller's rollback does."""
    try:
        run_file(con, _step("drop_temporaries"))
    except duckdb.Error:
        logger.debug("temporary tables left for the caller's rollback to drop")


#: The id columns of a pairs file, by MovieLens' names or the tables' own.
_PAIR_COLUMNS = {"user_id": ("userId", "user_id"), "movie_id": ("movieId", "movie_id")}


def read_pairs(path: str | os.PathLike[str]) -> pd.DataFrame:
    """The (user_id, movie_id) pairs of a CSV or Parquet file (by its suffix) whose
    columns include userId and movieId (or user_id and movie_id); other columns are
    ignored. A missing column or an id that is not a whole number raises
    :class:`DataError` naming the file, line (row, for Parquet) and column."""
    file = Path(path)
    parquet = file.suffix.lower() == ".parquet"
    if not file.is_file():
        raise DataError(
            "no such file; pass a CSV or Parquet file with columns userId,movieId",
            path=str(file),
        )
    reader = "read_parquet" if parquet else "read_csv"
    with duckdb.connect() as con:
        try:
            # The reader is one of two fixed names; the path is a bound parameter.
            query = "create temp table pairs as select * from READER(?)".replace("READER", reader)
            con.execute(query, [str(file)])
        except duckdb.Error as exc:
            reason = str(exc).strip().splitlines()[0]
            raise DataError(f"cannot read it ({reason})", path=str(file)) from exc
        present = [row[0] for row in con.execute("describe pairs").fetchall()]
        chosen: dict[str, str] = {}
        for target, names in _PAIR_COLUMNS.items():
            found = [name for name in names if name in present]
            if not found:
                raise DataError(
                    f"no {names[0]} column (found {', '.join(present)}); the file needs "
                    "the columns userId,movieId",
                    path=str(file),
                    line=None if parquet else 1,
                )
            chosen[target] = found[0]
        for name in chosen.values():
            column = quote_identifier(name)
            # The first row whose id is not a whole number, in file order.
            bad = con.execute(
                f"select row_no, text from (select row_number() over () as row_no, "  # noqa: S608
                f"{column}::varchar as text, try_cast({column} as integer) as id from pairs) "
                "where id is null order by row_no limit 1"
            ).fetchone()
            if bad is not None:
                row, text = int(bad[0]), bad[1]
                where: dict[str, int] = {"row": row} if parquet else {"line": row + 1}
                raise DataError(
                    f"{name} {text!r} is not a whole number; ids are whole numbers such as 42",
                    path=str(file),
                    column=name,
                    **where,
                )
        columns = ", ".join(
            f"cast({quote_identifier(name)} as integer) as {target}"
            for target, name in chosen.items()
        )
        frame = con.execute(f"select {columns} from pairs").df()  # noqa: S608
    return frame[["user_id", "movie_id"]].astype("int64")
