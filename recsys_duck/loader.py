"""Loading a MovieLens folder (movies, ratings, tags, links CSV files) into the raw tables.

:func:`load_movielens` reads each file with DuckDB's CSV reader into a TEMP staging
table, every value as text, and checks it completely before anything is written: the
header, the shape of every row (field count, quotes, UTF-8), and then every value (ids
are whole numbers, ratings lie on the half-star scale 0.5 .. 5.0, no duplicate keys, no
rating, tag or link of a movie missing from ``movies.csv``). Only when all four files pass
are ``movies``, ``ratings``, ``tags`` and ``links`` emptied and refilled, so a bad file
leaves them as they were. The loader never begins, commits or rolls back a transaction:
it runs inside the caller's.

Errors are :class:`~recsys_duck.errors.DataError` naming the file, the 1-based line
(the header is line 1) and the column of the first offending row, how many rows are bad
in total, and how to fix them. Line numbers are physical lines as ``grep -n`` counts
them, also when blank lines or quoted values spanning lines come first:

* rows the CSV reader rejects (wrong field count, bad quotes, invalid UTF-8) are
  located from the byte offset DuckDB stores in its rejects table;
* rows that parse but hold bad values are numbered in scan order (``with
  ordinality``) and mapped to lines by splitting the file into lines and keeping those
  that start a record: not blank, and after an even number of double quotes.

:func:`load_parquet` loads the same tables from Parquet files with MovieLens' column
names (:class:`ParquetInput`): every column is read as text and then staged and
checked by the same steps, and errors name the file, its 1-based row and the column.

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
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from recsys_duck.errors import DataError
from recsys_duck.pairs import MAX_ID
from recsys_duck.sql import cleaned_up, query_file, quote_identifier, run_file, step_file

logger = logging.getLogger(__name__)

GROUPLENS_PAGE = "https://grouplens.org/datasets/movielens/"

# The Unix times a timestamp may take: 0001-01-01 00:00:00 .. 9999-12-31 23:59:59 UTC.
_MIN_EPOCH = -62135596800
_MAX_EPOCH = 253402300799
#: What the check files are run with: the timestamps and ids they accept.
_CHECKS = {"min_epoch": _MIN_EPOCH, "max_epoch": _MAX_EPOCH, "max_id": MAX_ID}


@dataclass(frozen=True)
class _File:
    """One MovieLens file: its target table, header columns, whether it must exist, an
    example row, and where the movies its rows refer to come from."""

    table: str
    name: str
    columns: tuple[str, ...]
    required: bool
    example: str
    #: Where the movies that rows may refer to are listed.
    movies_from: str = "movies.csv"


_FILES = (
    _File(
        "movies",
        "movies.csv",
        ("movieId", "title", "genres"),
        True,
        "1,Toy Story (1995),Adventure|Animation|Children|Comedy|Fantasy",
    ),
    _File(
        "ratings",
        "ratings.csv",
        ("userId", "movieId", "rating", "timestamp"),
        True,
        "1,1,4.0,964982703",
    ),
    _File(
        "tags",
        "tags.csv",
        ("userId", "movieId", "tag", "timestamp"),
        False,
        "2,60756,funny,1445714994",
    ),
    _File("links", "links.csv", ("movieId", "imdbId", "tmdbId"), False, "1,0114709,862"),
)

_NEWLINE = re.compile(rb"\r\n|\r|\n")


@dataclass(frozen=True)
class ParquetInput:
    """Ratings and movies, and optionally tags, as Parquet: each a file, a folder of
    files or a glob, with MovieLens' column names (ratings: userId, movieId, rating,
    timestamp in Unix seconds; movies: movieId, title, genres; tags: userId, movieId,
    tag, timestamp). DuckDB reads local paths; a build on Spark reads any path Spark
    reaches (``s3a://``, ``hdfs://``, ...), and DuckDB checks Spark's copy.
    """

    ratings: str
    movies: str
    tags: str | None = None

    def sources(self) -> dict[str, str]:
        """The path of each table given (movies, ratings and perhaps tags)."""
        found = {"movies": self.movies, "ratings": self.ratings}
        if self.tags is not None:
            found["tags"] = self.tags
        return found


def load_movielens(
    con: duckdb.DuckDBPyConnection, directory: str | os.PathLike[str]
) -> dict[str, int]:
    """Replace the contents of movies, ratings, tags and links with a MovieLens folder.

    ``movies.csv`` and ``ratings.csv`` are required; ``tags.csv`` and ``links.csv`` are
    optional (an absent file leaves its table empty). Every file is checked before any
    table changes; on the first problem a :class:`DataError` is raised and the tables
    are untouched. Runs inside the caller's transaction and never ends it.

    Returns the number of rows loaded per table.
    """
    folder = Path(directory)
    if not folder.is_dir():
        raise DataError(
            "no such folder; download ml-latest-small from "
            f"{GROUPLENS_PAGE}, unzip it and pass the folder holding movies.csv and ratings.csv",
            path=str(folder),
        )
    return _replace_tables(con, lambda spec: _stage(con, folder / spec.name, spec), str(folder))


def _replace_tables(
    con: duckdb.DuckDBPyConnection, stage: Callable[[_File], int], source: str
) -> dict[str, int]:
    """Stage and check every file by ``stage``, then replace the four tables; the
    temporary tables go whatever happens. Returns the rows per table."""
    start = time.perf_counter()
    counts: dict[str, int] = {}
    try:
        for spec in _FILES:
            counts[spec.table] = stage(spec)
        run_file(con, _step("replace_tables"))
    finally:
        _drop_temporaries(con)
    logger.info(
        "loaded %s from %s in %.2f s",
        ", ".join(f"{n} {table}" for table, n in counts.items()),
        source,
        time.perf_counter() - start,
    )
    return counts


def load_parquet(
    con: duckdb.DuckDBPyConnection,
    source: ParquetInput,
    staged: Mapping[str, str] | None = None,
) -> dict[str, int]:
    """Replace the contents of movies, ratings, tags and links with Parquet files, all or
    nothing, as :func:`load_movielens` does with a folder (links stays empty, and tags
    when ``source`` has none). ``staged`` maps a table to the local copy of its files
    that Spark wrote (with each row's file and row index), to read instead.

    Returns the number of rows loaded per table.
    """
    sources = source.sources()

    def stage(spec: _File) -> int:
        path = sources.get(spec.table)
        if path is None:
            run_file(con, _step(f"stage_{spec.table}_empty"))
            return 0
        return _stage_parquet(con, path, spec, None if staged is None else staged.get(spec.table))

    return _replace_tables(con, stage, "Parquet")


def load_new_ratings(con: duckdb.DuckDBPyConnection, path: str | os.PathLike[str]) -> int:
    """Check a ratings file of new ratings (MovieLens' ratings.csv columns) against the
    database and stage it as the temporary table ``_recsys_new_ratings``.

    Every check of :func:`load_movielens` applies, the movies must be in the ``movies``
    table, and no (user, movie) pair may be rated already. On the first problem a
    :class:`DataError` names the file, line and column and nothing is staged. Runs
    inside the caller's transaction. Returns the number of new ratings.
    """
    file = Path(path)
    if not file.is_file():
        raise DataError(
            "no such file; pass a CSV file of new ratings with the header "
            "userId,movieId,rating,timestamp",
            path=str(file),
        )
    (ratings,) = [spec for spec in _FILES if spec.table == "ratings"]
    spec = replace(ratings, name=file.name, movies_from="the database's movies table")
    # In the caller's transaction: a failure there must not be hidden by the cleanup.
    with cleaned_up(lambda: _drop_temporaries(con)):
        run_file(con, _step("stage_movies_from_table"))
        n_rows = _stage(con, file, spec)
        run_file(con, _step("check_new_ratings"))
        _check_problems(con, file, spec, lambda records: _csv_places(con, file, records, n_rows))
        run_file(con, _step("stage_new_ratings"))
    return n_rows


def _stage(con: duckdb.DuckDBPyConnection, path: Path, spec: _File) -> int:
    """Read one file into its staging table, check it, and return its number of rows."""
    if path.is_dir():
        raise DataError(
            f"{spec.name} is a folder, not a file; the MovieLens folder holds {spec.name} "
            f"as a CSV file (its first line: {','.join(spec.columns)})",
            path=str(path),
        )
    if not path.is_file():
        if spec.required:
            raise DataError(
                f"{spec.name} is missing; a MovieLens folder needs movies.csv and "
                f"ratings.csv (download ml-latest-small from {GROUPLENS_PAGE})",
                path=str(path),
            )
        logger.info("%s not found: table %s stays empty", path, spec.table)
        run_file(con, _step(f"stage_{spec.table}_empty"))
        return 0
    header = _read_header(path, spec)
    # Read every column the header names; extra columns get placeholder names.
    columns = {
        (name if name in spec.columns else f"_extra_{i}"): "VARCHAR"
        for i, name in enumerate(header)
    }
    # DuckDB appends to existing rejects tables; start each file with fresh ones.
    run_file(con, _step("drop_rejects"))
    try:
        run_file(con, _step("read_raw"), {"path": str(path), "columns": columns})
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
            "comma-separated UTF-8 text, that every line ends the same way (all CRLF or all LF) "
            "and that every double quote is closed",
            path=str(path),
        ) from exc
    _check_rejects(con, path, len(header))
    run_file(con, _step(f"stage_{spec.table}"))
    (n_rows,) = _one(con, "count_raw")
    if n_rows == 0 and spec.required:
        raise DataError(
            f"{spec.name} has a header but no rows; it needs one line per "
            f"{spec.table[:-1]} after the header, e.g. {spec.example}",
            path=str(path),
            line=2,
        )
    run_file(con, _step(f"check_{spec.table}"), _CHECKS)
    _check_problems(con, path, spec, lambda records: _csv_places(con, path, records, int(n_rows)))
    logger.debug("%s: %d rows pass every check", path, n_rows)
    return int(n_rows)


def _stage_parquet(con: duckdb.DuckDBPyConnection, path: str, spec: _File, copy: str | None) -> int:
    """Read one table's Parquet files (or Spark's ``copy`` of them) into its staging
    table, check it, and return its number of rows."""
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
    found = [
        name
        for (name, *_) in _query(con, "raw_columns").description or ()
        if name not in ("_recsys_file", "_recsys_row", "ordinality")
    ]
    missing = [name for name in spec.columns if name not in found]
    if missing:
        raise DataError(
            f"the Parquet files lack column(s) {', '.join(missing)}: expected "
            f"{', '.join(spec.columns)}, found {', '.join(found)}; rename the columns when "
            "writing the files (names are case-sensitive)",
            path=path,
            column=missing[0],
        )
    run_file(con, _step(f"stage_{spec.table}"))
    (n_rows,) = _one(con, "count_raw")
    if n_rows == 0:
        raise DataError(
            f"the Parquet files hold no rows; {spec.table} needs at least one", path=path
        )
    run_file(con, _step(f"check_{spec.table}"), _CHECKS)
    _check_problems(con, path, spec, lambda records: _parquet_places(con, records))
    return int(n_rows)


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


def _read_header(path: Path, spec: _File) -> list[str]:
    """The column names on line 1, checked against the ones MovieLens uses."""
    expected = ",".join(spec.columns)
    try:
        with path.open("rb") as f:
            head = f.read(64 * 1024)
    except OSError as exc:
        raise DataError(
            f"cannot read the file ({exc.strerror}); check its permissions",
            path=str(path),
        ) from exc
    if not head:
        raise DataError(
            f"the file is empty; it must start with the header line {expected} "
            f"and then hold one row per line, e.g. {spec.example}",
            path=str(path),
            line=1,
        )
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
    found = [name.strip().strip('"') for name in text.split(",")]
    missing = [name for name in spec.columns if name not in found]
    if missing:
        raise DataError(
            f"the header lacks column(s) {', '.join(missing)}: expected {expected}, "
            f"found {','.join(found) or '(an empty line)'}; the first line must name the "
            "columns exactly like that (names are case-sensitive)",
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


def _check_rejects(con: duckdb.DuckDBPyConnection, path: Path, n_columns: int) -> None:
    """Raise for the first row the CSV reader rejected (wrong shape, quotes, encoding)."""
    (n_bad,) = _one(con, "count_rejects")
    if n_bad == 0:
        return
    first = _one(con, "first_reject")
    byte_position, column_name, error_type, error_message = first
    line = _line_at_byte(path, int(byte_position), strip_newline=error_type == "MISSING COLUMNS")
    advice = _REJECT_ADVICE.get(error_type, f"{error_message}; fix or delete the row").format(
        n=n_columns
    )
    raise DataError(
        f"{advice} ({path.name} has {_bad_rows(int(n_bad))} in total that cannot be read)",
        path=str(path),
        line=line,
        column=column_name,
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
    spec: _File,
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
    message = _problem_message(spec, column_name, kind, value, both)
    summary = ", ".join(f"{n} {_KIND_LABELS[k]}" for k, n in breakdown)
    raise DataError(
        f"{message} ({Path(str(path)).name} has {_bad_rows(int(n_bad))} in total: {summary})",
        path=file,
        line=line,
        row=row,
        column=column_name,
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
    con: duckdb.DuckDBPyConnection, path: Path, records: Sequence[int], n_rows: int
) -> dict[int, _Place]:
    lines = _lines_of_records(con, path, records, n_rows)
    return {record: (str(path), line, None) for record, line in lines.items()}


def _parquet_places(con: duckdb.DuckDBPyConnection, records: Sequence[int]) -> dict[int, _Place]:
    rows = _query(con, "parquet_rows", {"records": list(records)}).fetchall()
    return {int(record): (str(file), None, int(row)) for record, file, row in rows}


def _lines_of_records(
    con: duckdb.DuckDBPyConnection, path: Path, records: Sequence[int], n_rows: int
) -> dict[int, int]:
    """Physical line numbers of the given data records (record 1 is the first row)."""
    params = {"path": str(path), "records": list(records)}
    rows = _query(con, "line_map", params).fetchall()
    for map_name in ("quoted", "plain"):
        found = {int(r): int(ln) for m, n, r, ln in rows if m == map_name and n == n_rows}
        if len(found) == len(set(records)):
            return found
    logger.warning("%s: could not map rows to lines exactly; assuming one row per line", path)
    return {r: r + 1 for r in records}


_KIND_LABELS: Mapping[str, str] = {
    "missing": "empty value",
    "missing_genres": "empty genres",
    "not_whole": "not a whole number",
    "id_range": "id outside 0..4,194,303",
    "nul_byte": "NUL byte in text",
    "not_number": "rating not a number",
    "rating_range": "rating outside 0.5..5.0",
    "half_star": "rating not on the half-star scale",
    "timestamp": "bad timestamp",
    "imdb": "bad imdbId",
    "duplicate_movie": "duplicate movieId",
    "duplicate_rating": "duplicate (userId, movieId)",
    "unknown_movie": "movieId not in movies.csv",
    "already_rated": "(userId, movieId) already rated",
}


def _problem_message(
    spec: _File, column: str, kind: str, value: str | None, both: str | None
) -> str:
    """What is wrong with one value, and how to fix it (``both``: where a duplicate and
    its first occurrence are)."""
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
        return f"rating {value!r} is not a number; ratings are numbers from 0.5 to 5.0 such as 3.5"
    if kind == "rating_range":
        return f"rating {value} is outside 0.5..5.0; MovieLens ratings go from 0.5 to 5.0 stars"
    if kind == "half_star":
        return f"rating {value} is not on the half-star scale; use one of 0.5, 1.0, 1.5, ..., 5.0"
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
    if kind == "unknown_movie" and spec.movies_from != "movies.csv":
        return (
            f"movieId {value} is not in {spec.movies_from}; add-ratings takes ratings of "
            f"known movies only: delete this row from {spec.name}, or add the movie to "
            "movies.csv and rebuild"
        )
    if kind == "unknown_movie":
        return (
            f"movieId {value} is not in movies.csv; add the movie to movies.csv or delete "
            f"this row from {spec.name}"
        )
    if kind == "already_rated":
        user_id, movie_id = (value or ",").split(",", 1)
        return (
            f"user {user_id} has already rated movie {movie_id}; add-ratings adds new ratings "
            "only: delete this row, or put the changed rating in ratings.csv and rebuild"
        )
    raise AssertionError(f"unknown problem kind {kind!r}")  # pragma: no cover


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
