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
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from recsys_duck.errors import DataError
from recsys_duck.sql import execute

logger = logging.getLogger(__name__)

GROUPLENS_PAGE = "https://grouplens.org/datasets/movielens/"

# The temporary tables the loader creates in the caller's connection, dropped at the end.
_DROP_SQL = (
    "drop table if exists _recsys_load_raw",
    "drop table if exists _recsys_load_reject_errors",
    "drop table if exists _recsys_load_reject_scans",
    "drop table if exists _recsys_load_movies",
    "drop table if exists _recsys_load_ratings",
    "drop table if exists _recsys_load_tags",
    "drop table if exists _recsys_load_links",
    "drop table if exists _recsys_load_problems",
)

# Every value is read as text (all columns VARCHAR), so that a bad value is reported by
# the checks below with its line instead of being dropped by a failed cast. Options are
# explicit: no sniffing. Empty fields become NULL. Rows that do not parse go to the
# rejects tables (store_rejects) instead of stopping the scan, so all of them are counted.
_READ_RAW = """
create or replace temp table _recsys_load_raw as
select *
from read_csv(
    ?,
    columns = ?,
    header = true,
    auto_detect = false,
    delim = ',',
    quote = '"',
    escape = '"',
    encoding = 'utf-8',
    strict_mode = true,
    store_rejects = true,
    rejects_table = '_recsys_load_reject_errors',
    rejects_scan = '_recsys_load_reject_scans'
) with ordinality
"""

_STAGE_SQL = {
    "movies": """
create or replace temp table _recsys_load_movies as
select
    ordinality as record_no,
    "movieId" as movie_id_text,
    case when regexp_full_match("movieId", ' *[0-9]+ *')
        then try_cast(trim("movieId") as integer) end as movie_id,
    title,
    genres
from _recsys_load_raw
""",
    "ratings": """
create or replace temp table _recsys_load_ratings as
select
    ordinality as record_no,
    "userId" as user_id_text,
    "movieId" as movie_id_text,
    rating as rating_text,
    "timestamp" as timestamp_text,
    case when regexp_full_match("userId", ' *[0-9]+ *')
        then try_cast(trim("userId") as integer) end as user_id,
    case when regexp_full_match("movieId", ' *[0-9]+ *')
        then try_cast(trim("movieId") as integer) end as movie_id,
    try_cast(trim(rating) as double) as rating,
    case when regexp_full_match("timestamp", ' *[0-9]+ *')
        then try_cast(trim("timestamp") as bigint) end as epoch_seconds
from _recsys_load_raw
""",
    "tags": """
create or replace temp table _recsys_load_tags as
select
    ordinality as record_no,
    "userId" as user_id_text,
    "movieId" as movie_id_text,
    "timestamp" as timestamp_text,
    case when regexp_full_match("userId", ' *[0-9]+ *')
        then try_cast(trim("userId") as integer) end as user_id,
    case when regexp_full_match("movieId", ' *[0-9]+ *')
        then try_cast(trim("movieId") as integer) end as movie_id,
    tag,
    case when regexp_full_match("timestamp", ' *[0-9]+ *')
        then try_cast(trim("timestamp") as bigint) end as epoch_seconds
from _recsys_load_raw
""",
    "links": """
create or replace temp table _recsys_load_links as
select
    ordinality as record_no,
    "movieId" as movie_id_text,
    "imdbId" as imdb_id_text,
    "tmdbId" as tmdb_id_text,
    case when regexp_full_match("movieId", ' *[0-9]+ *')
        then try_cast(trim("movieId") as integer) end as movie_id,
    case when regexp_full_match("imdbId", ' *[0-9]+ *') then trim("imdbId") end as imdb_id,
    case when regexp_full_match("tmdbId", ' *[0-9]+ *')
        then try_cast(trim("tmdbId") as integer) end as tmdb_id
from _recsys_load_raw
""",
}

# The latest Unix time a TIMESTAMP holds with room to spare: 9999-12-31 23:59:59 UTC.
_MAX_EPOCH = 253402300799

# One row per (record, problem): record_no, priority (orders the problems of one row),
# the CSV column, a problem kind, the offending text and, for duplicates, the record_no
# of the first occurrence. Checks on a row's own values come first, then duplicates,
# then references to movies that movies.csv lacks.
_CHECK_SQL = {
    "movies": """
create or replace temp table _recsys_load_problems as
with firsts as (
    select record_no, movie_id_text,
        min(record_no) over (partition by movie_id) as first_record_no
    from _recsys_load_movies
    where movie_id is not null
)
select record_no, 1 as priority, 'movieId' as column_name,
    case when movie_id_text is null then 'missing' else 'not_whole' end as kind,
    movie_id_text as value, null::bigint as other_record_no
from _recsys_load_movies where movie_id is null
union all
select record_no, 2, 'title', 'missing', null, null
from _recsys_load_movies where title is null
union all
select record_no, 3, 'genres', 'missing_genres', null, null
from _recsys_load_movies where genres is null
union all
select record_no, 4, 'movieId', 'duplicate_movie', movie_id_text, first_record_no
from firsts where record_no > first_record_no
""",
    "ratings": """
create or replace temp table _recsys_load_problems as
with firsts as (
    select record_no, user_id_text, movie_id_text,
        min(record_no) over (partition by user_id, movie_id) as first_record_no
    from _recsys_load_ratings
    where user_id is not null and movie_id is not null
)
select record_no, 1 as priority, 'userId' as column_name,
    case when user_id_text is null then 'missing' else 'not_whole' end as kind,
    user_id_text as value, null::bigint as other_record_no
from _recsys_load_ratings where user_id is null
union all
select record_no, 2, 'movieId',
    case when movie_id_text is null then 'missing' else 'not_whole' end,
    movie_id_text, null
from _recsys_load_ratings where movie_id is null
union all
select record_no, 3, 'rating',
    case
        when rating_text is null then 'missing'
        when rating is null then 'not_number'
        when not (rating between 0.5 and 5.0) then 'rating_range'
        else 'half_star'
    end,
    rating_text, null
from _recsys_load_ratings
where rating is null or not (rating between 0.5 and 5.0) or rating * 2 <> round(rating * 2)
union all
select record_no, 4, 'timestamp',
    case when timestamp_text is null then 'missing' else 'timestamp' end,
    timestamp_text, null
from _recsys_load_ratings where epoch_seconds is null or epoch_seconds > ?
union all
select record_no, 5, 'userId,movieId', 'duplicate_rating',
    user_id_text || ',' || movie_id_text, first_record_no
from firsts where record_no > first_record_no
union all
select r.record_no, 6, 'movieId', 'unknown_movie', r.movie_id_text, null
from _recsys_load_ratings as r
anti join _recsys_load_movies as m on m.movie_id = r.movie_id
where r.movie_id is not null
""",
    "tags": """
create or replace temp table _recsys_load_problems as
select record_no, 1 as priority, 'userId' as column_name,
    case when user_id_text is null then 'missing' else 'not_whole' end as kind,
    user_id_text as value, null::bigint as other_record_no
from _recsys_load_tags where user_id is null
union all
select record_no, 2, 'movieId',
    case when movie_id_text is null then 'missing' else 'not_whole' end,
    movie_id_text, null
from _recsys_load_tags where movie_id is null
union all
select record_no, 3, 'tag', 'missing', null, null
from _recsys_load_tags where tag is null
union all
select record_no, 4, 'timestamp',
    case when timestamp_text is null then 'missing' else 'timestamp' end,
    timestamp_text, null
from _recsys_load_tags where epoch_seconds is null or epoch_seconds > ?
union all
select t.record_no, 6, 'movieId', 'unknown_movie', t.movie_id_text, null
from _recsys_load_tags as t
anti join _recsys_load_movies as m on m.movie_id = t.movie_id
where t.movie_id is not null
""",
    "links": """
create or replace temp table _recsys_load_problems as
with firsts as (
    select record_no, movie_id_text,
        min(record_no) over (partition by movie_id) as first_record_no
    from _recsys_load_links
    where movie_id is not null
)
select record_no, 1 as priority, 'movieId' as column_name,
    case when movie_id_text is null then 'missing' else 'not_whole' end as kind,
    movie_id_text as value, null::bigint as other_record_no
from _recsys_load_links where movie_id is null
union all
select record_no, 2, 'imdbId',
    case when imdb_id_text is null then 'missing' else 'imdb' end,
    imdb_id_text, null
from _recsys_load_links where imdb_id is null
union all
select record_no, 3, 'tmdbId', 'not_whole', tmdb_id_text, null
from _recsys_load_links where tmdb_id_text is not null and tmdb_id is null
union all
select record_no, 4, 'movieId', 'duplicate_movie', movie_id_text, first_record_no
from firsts where record_no > first_record_no
union all
select l.record_no, 6, 'movieId', 'unknown_movie', l.movie_id_text, null
from _recsys_load_links as l
anti join _recsys_load_movies as m on m.movie_id = l.movie_id
where l.movie_id is not null
""",
}

# Replacing the tables' contents, once every file has passed. Rows go in in file order.
# year: the title's trailing "(YYYY)", trailing spaces allowed. Unix seconds become a
# TIMESTAMP in UTC: make_timestamp takes microseconds and involves no time zone.
_REPLACE_SQL = (
    "delete from movies",
    "delete from ratings",
    "delete from tags",
    "delete from links",
    r"""
insert into movies (movie_id, title, genres, year)
select movie_id, title, genres,
    cast(nullif(regexp_extract(title, '\((\d{4})\)\s*$', 1), '') as integer) as year
from _recsys_load_movies
order by record_no
""",
    """
insert into ratings (user_id, movie_id, rating, rated_at)
select user_id, movie_id, rating, make_timestamp(epoch_seconds * 1000000) as rated_at
from _recsys_load_ratings
order by record_no
""",
    """
insert into tags (user_id, movie_id, tag, tagged_at)
select user_id, movie_id, tag, make_timestamp(epoch_seconds * 1000000) as tagged_at
from _recsys_load_tags
order by record_no
""",
    """
insert into links (movie_id, imdb_id, tmdb_id)
select movie_id, imdb_id, tmdb_id
from _recsys_load_links
order by record_no
""",
)

# Physical line of each data record, for the records asked for: the file split into
# lines ('\r\n', '\n' or '\r'); a line starts a record when it is not blank and an even
# number of double quotes precede it (so it does not continue a quoted value). The
# plain map ignores quotes; it serves if stray quotes upset the first. Both also return
# their number of records, to check them against the scan.
_LINE_MAP_SQL = """
with src as (
    select string_split_regex(content, '\\r\\n|\\r|\\n') as parts from read_text($path)
),
lines as (
    select unnest(parts) as text, generate_subscripts(parts, 1) as line_no from src
),
counted as (
    select line_no, text,
        coalesce(sum(length(text) - length(replace(text, '"', ''))) over (
            order by line_no rows between unbounded preceding and 1 preceding
        ), 0) as quotes_before
    from lines
),
quoted_map as (
    select 'quoted' as map_name, line_no, row_number() over (order by line_no) as record_no
    from counted
    where line_no > 1 and text <> '' and quotes_before % 2 = 0
),
plain_map as (
    select 'plain' as map_name, line_no, row_number() over (order by line_no) as record_no
    from counted
    where line_no > 1 and text <> ''
),
both_maps as (
    select * from quoted_map
    union all
    select * from plain_map
)
select map_name, count(*) over (partition by map_name) as n_records, record_no, line_no
from both_maps
qualify list_contains($records, record_no)
"""


@dataclass(frozen=True)
class _File:
    """One MovieLens file: its target table, header columns, and whether it must exist."""

    table: str
    name: str
    columns: tuple[str, ...]
    required: bool
    example: str


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
    start = time.perf_counter()
    folder = Path(directory)
    if not folder.is_dir():
        raise DataError(
            "no such folder; download ml-latest-small from "
            f"{GROUPLENS_PAGE}, unzip it and pass the folder holding movies.csv and ratings.csv",
            path=str(folder),
        )
    counts: dict[str, int] = {}
    try:
        for spec in _FILES:
            counts[spec.table] = _stage(con, folder / spec.name, spec)
        for statement in _REPLACE_SQL:
            execute(con, statement)
    finally:
        _drop_temporaries(con)
    logger.info(
        "loaded %s from %s in %.2f s",
        ", ".join(f"{n} {table}" for table, n in counts.items()),
        folder,
        time.perf_counter() - start,
    )
    return counts


def _stage(con: duckdb.DuckDBPyConnection, path: Path, spec: _File) -> int:
    """Read one file into its staging table, check it, and return its number of rows."""
    if not path.is_file():
        if spec.required:
            raise DataError(
                f"{spec.name} is missing; a MovieLens folder needs movies.csv and "
                f"ratings.csv (download ml-latest-small from {GROUPLENS_PAGE})",
                path=str(path),
            )
        logger.info("%s not found: table %s stays empty", path, spec.table)
        execute(con, _EMPTY_STAGE_SQL[spec.table])
        return 0
    header = _read_header(path, spec)
    # Read every column the header names; extra columns get placeholder names.
    columns = {
        (name if name in spec.columns else f"_extra_{i}"): "VARCHAR"
        for i, name in enumerate(header)
    }
    # DuckDB appends to existing rejects tables; start each file with fresh ones.
    execute(con, "drop table if exists _recsys_load_reject_errors")
    execute(con, "drop table if exists _recsys_load_reject_scans")
    try:
        execute(con, _READ_RAW, [str(path), columns])
    except duckdb.Error as exc:
        reason = str(exc).strip().splitlines()[0]
        raise DataError(
            f"DuckDB's CSV reader could not parse the file ({reason}); check that it is "
            "comma-separated UTF-8 text, that every line ends the same way (all CRLF or all LF) "
            "and that every double quote is closed",
            path=str(path),
        ) from exc
    _check_rejects(con, path, len(header))
    execute(con, _STAGE_SQL[spec.table])
    (n_rows,) = _one(con, "select count(*) from _recsys_load_raw")
    if n_rows == 0 and spec.required:
        raise DataError(
            f"{spec.name} has a header but no rows; it needs one line per "
            f"{spec.table[:-1]} after the header, e.g. {spec.example}",
            path=str(path),
            line=2,
        )
    params = [_MAX_EPOCH] if spec.table in ("ratings", "tags") else None
    execute(con, _CHECK_SQL[spec.table], params)
    _check_problems(con, path, spec, int(n_rows))
    logger.debug("%s: %d rows pass every check", path, n_rows)
    return int(n_rows)


_EMPTY_STAGE_SQL = {
    "tags": """
create or replace temp table _recsys_load_tags as
select null::integer as user_id, null::integer as movie_id, null::varchar as tag,
    null::bigint as epoch_seconds, null::bigint as record_no
where false
""",
    "links": """
create or replace temp table _recsys_load_links as
select null::integer as movie_id, null::varchar as imdb_id, null::integer as tmdb_id,
    null::bigint as record_no
where false
""",
}


def _one(
    con: duckdb.DuckDBPyConnection, statement: str, params: Sequence[Any] | None = None
) -> tuple[Any, ...]:
    row = execute(con, statement, params).fetchone()
    if row is None:  # pragma: no cover - aggregate queries always return a row
        raise RuntimeError(f"no row from {statement!r}")
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
    (n_bad,) = _one(
        con,
        "select count(distinct line) from _recsys_load_reject_errors",
    )
    if n_bad == 0:
        return
    first = _one(
        con,
        """
        select byte_position, column_name, error_type, error_message
        from _recsys_load_reject_errors
        order by byte_position, column_idx
        limit 1
        """,
    )
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


def _check_problems(con: duckdb.DuckDBPyConnection, path: Path, spec: _File, n_rows: int) -> None:
    """Raise for the first row in file order whose values break a rule."""
    (n_bad,) = _one(con, "select count(distinct record_no) from _recsys_load_problems")
    if n_bad == 0:
        return
    record_no, column_name, kind, value, other_record_no = _one(
        con,
        """
        select record_no, column_name, kind, value, other_record_no
        from _recsys_load_problems
        order by record_no, priority
        limit 1
        """,
    )
    breakdown = execute(
        con,
        """
        select kind, count(distinct record_no) as n_rows
        from _recsys_load_problems
        group by kind
        order by n_rows desc, kind
        """,
    ).fetchall()
    records = [int(record_no)] + ([int(other_record_no)] if other_record_no is not None else [])
    lines = _lines_of_records(con, path, records, n_rows)
    line = lines[int(record_no)]
    other_line = lines[int(other_record_no)] if other_record_no is not None else None
    message = _problem_message(spec, column_name, kind, value, (other_line, line))
    summary = ", ".join(f"{n} {_KIND_LABELS[k]}" for k, n in breakdown)
    raise DataError(
        f"{message} ({spec.name} has {_bad_rows(int(n_bad))} in total: {summary})",
        path=str(path),
        line=line,
        column=column_name,
    )


def _lines_of_records(
    con: duckdb.DuckDBPyConnection, path: Path, records: Sequence[int], n_rows: int
) -> dict[int, int]:
    """Physical line numbers of the given data records (record 1 is the first row)."""
    rows = execute(con, _LINE_MAP_SQL, {"path": str(path), "records": list(records)}).fetchall()
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
    "not_number": "rating not a number",
    "rating_range": "rating outside 0.5..5.0",
    "half_star": "rating not on the half-star scale",
    "timestamp": "bad timestamp",
    "imdb": "bad imdbId",
    "duplicate_movie": "duplicate movieId",
    "duplicate_rating": "duplicate (userId, movieId)",
    "unknown_movie": "movieId not in movies.csv",
}


def _problem_message(
    spec: _File, column: str, kind: str, value: str | None, lines: tuple[int | None, int]
) -> str:
    """What is wrong with one value, and how to fix it (``lines``: first occurrence, this)."""
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
    if kind == "not_number":
        return f"rating {value!r} is not a number; ratings are numbers from 0.5 to 5.0 such as 3.5"
    if kind == "rating_range":
        return f"rating {value} is outside 0.5..5.0; MovieLens ratings go from 0.5 to 5.0 stars"
    if kind == "half_star":
        return f"rating {value} is not on the half-star scale; use one of 0.5, 1.0, 1.5, ..., 5.0"
    if kind == "timestamp":
        return (
            f"timestamp {value!r} is not a Unix time; write whole seconds since "
            "1970-01-01 00:00 UTC, such as 964982703"
        )
    if kind == "imdb":
        return (
            f"imdbId {value!r} is not made of digits; write IMDb's number without 'tt', "
            "such as 0114709"
        )
    if kind == "duplicate_movie":
        return (
            f"movieId {value} appears twice, on lines {lines[0]} and {lines[1]}; each movie "
            f"must appear once in {spec.name}: delete or renumber one of the two rows"
        )
    if kind == "duplicate_rating":
        user_id, movie_id = (value or ",").split(",", 1)
        return (
            f"user {user_id} rated movie {movie_id} twice, on lines {lines[0]} and {lines[1]}; "
            "keep one of the two rows"
        )
    if kind == "unknown_movie":
        return (
            f"movieId {value} is not in movies.csv; add the movie to movies.csv or delete "
            f"this row from {spec.name}"
        )
    raise AssertionError(f"unknown problem kind {kind!r}")  # pragma: no cover


def _drop_temporaries(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the loader's temporary tables; after a failed statement the caller's rollback does."""
    try:
        for statement in _DROP_SQL:
            execute(con, statement)
    except duckdb.Error:
        logger.debug("temporary tables left for the caller's rollback to drop")
