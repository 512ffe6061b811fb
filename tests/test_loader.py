"""load_movielens: tiny hand-made MovieLens folders, every kind of bad input, and the real
ml-latest-small (its row counts, and line numbers of errors planted in copies of it)."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import duckdb
import pytest

from recsys_duck.errors import DataError
from recsys_duck.loader import FilesInput, load_files, load_movielens
from recsys_duck.params import BuildParams
from recsys_duck.sql import apply_layers
from tests.conftest import TINY, parquet_copy, require_ml_small

# The shared data folder sits beside the checkout: /work/shared next to /work/main.

SNAPSHOT_SQL = {
    "movies": "select * from movies order by all",
    "ratings": "select * from ratings order by all",
    "tags": "select * from tags order by all",
    "links": "select * from links order by all",
}

MOVIES_HEADER = "movieId,title,genres\r\n"
RATINGS_HEADER = "userId,movieId,rating,timestamp\r\n"
TAGS_HEADER = "userId,movieId,tag,timestamp\r\n"
LINKS_HEADER = "movieId,imdbId,tmdbId\r\n"

# Line endings are CRLF, as in GroupLens' files.
GOOD: dict[str, str] = {
    "movies.csv": MOVIES_HEADER
    + "1,Toy Story (1995),Adventure|Animation|Children|Comedy|Fantasy\r\n"
    + '2,"American President, The (1995)",Comedy|Drama|Romance\r\n'
    + "3,Babylon 5,Sci-Fi\r\n"
    + "4,From Dusk Till Dawn 2: Texas Blood Money (1999) ,Comedy|Crime|Horror\r\n",
    "ratings.csv": RATINGS_HEADER
    + "1,1,4.0,964982703\r\n"
    + "1,2,0.5,964981247\r\n"
    + "2,1,5.0,0\r\n"
    + "2,4,3.5,1493846415\r\n",
    "tags.csv": TAGS_HEADER + "2,1,funny,1445714994\r\n" + '2,1,"""artsy""",1445714996\r\n',
    "links.csv": LINKS_HEADER
    + "1,0114709,862\r\n"
    + "2,0112346,9087\r\n"
    + "3,0105946,\r\n"
    + "4,0138097,\r\n",
}

# A second good dataset, loaded first so that a failed load can be seen to change nothing.
BEFORE: dict[str, str] = {
    "movies.csv": MOVIES_HEADER + "10,Heat (1995),Action\r\n",
    "ratings.csv": RATINGS_HEADER + "7,10,2.5,1000000000\r\n",
    "tags.csv": TAGS_HEADER + "7,10,long,1000000001\r\n",
    "links.csv": LINKS_HEADER + "10,0113277,949\r\n",
}


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory database holding the raw tables of sql/00_tables."""
    connection = duckdb.connect(":memory:")
    apply_layers(connection, ["00_tables"])
    yield connection
    connection.close()


def write_folder(folder: Path, files: Mapping[str, str | bytes | None]) -> Path:
    """Write a MovieLens folder; a value of None leaves that file out."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        if content is None:
            continue
        data = content.encode("utf-8") if isinstance(content, str) else content
        (folder / name).write_bytes(data)
    return folder


def dataset(folder: Path, **changes: str | bytes | None) -> Path:
    """The GOOD dataset with some files replaced (movies="...") or left out (tags=None)."""
    files: dict[str, str | bytes | None] = dict(GOOD)
    files.update({f"{name}.csv": content for name, content in changes.items()})
    return write_folder(folder, files)


def snapshot(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[Any, ...]]]:
    return {table: con.execute(sql).fetchall() for table, sql in SNAPSHOT_SQL.items()}


def temp_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute("select table_name from duckdb_tables() where temporary").fetchall()
    return [name for (name,) in rows]


# --- good input -------------------------------------------------------------------------


def test_good_folder_loads_every_table(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    counts = load_movielens(con, dataset(tmp_path)).rows
    assert counts == {"movies": 4, "ratings": 4, "tags": 2, "links": 4}
    assert con.execute("select * from movies order by movie_id").fetchall() == [
        (1, "Toy Story (1995)", "Adventure|Animation|Children|Comedy|Fantasy", 1995),
        (2, "American President, The (1995)", "Comedy|Drama|Romance", 1995),
        (3, "Babylon 5", "Sci-Fi", None),  # no year in the title
        # a trailing space after the year: year parsed, title kept as in the file
        (4, "From Dusk Till Dawn 2: Texas Blood Money (1999) ", "Comedy|Crime|Horror", 1999),
    ]
    assert con.execute("select * from ratings order by user_id, movie_id").fetchall() == [
        (1, 1, 4.0, dt.datetime(2000, 7, 30, 18, 45, 3)),
        (1, 2, 0.5, dt.datetime(2000, 7, 30, 18, 20, 47)),
        (2, 1, 5.0, dt.datetime(1970, 1, 1, 0, 0, 0)),
        (2, 4, 3.5, dt.datetime(2017, 5, 3, 21, 20, 15)),
    ]
    assert con.execute("select * from tags order by tagged_at").fetchall() == [
        (2, 1, "funny", dt.datetime(2015, 10, 24, 19, 29, 54)),
        (2, 1, '"artsy"', dt.datetime(2015, 10, 24, 19, 29, 56)),
    ]
    assert con.execute("select * from links order by movie_id").fetchall() == [
        (1, "0114709", 862),  # leading zero kept
        (2, "0112346", 9087),
        (3, "0105946", None),  # empty tmdbId is NULL
        (4, "0138097", None),
    ]
    assert temp_tables(con) == []


def test_timestamps_are_utc_whatever_the_session_time_zone(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    con.execute("set TimeZone = 'America/New_York'")
    load_movielens(con, dataset(tmp_path))
    rated_at = con.execute("select rated_at from ratings where user_id = 1 and movie_id = 1")
    assert rated_at.fetchone() == (dt.datetime(2000, 7, 30, 18, 45, 3),)


def test_timestamps_before_1970_are_negative_unix_times(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    ratings = RATINGS_HEADER + "1,1,4.0,-86400\r\n"
    load_movielens(con, dataset(tmp_path, ratings=ratings, tags=None))
    rated_at = con.execute("select rated_at from ratings")
    assert rated_at.fetchall() == [(dt.datetime(1969, 12, 31, 0, 0, 0),)]


def test_column_types(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    load_movielens(con, dataset(tmp_path))
    types = con.execute("select typeof(rated_at), typeof(rating) from ratings limit 1").fetchone()
    assert types == ("TIMESTAMP", "DOUBLE")


def test_optional_files_absent_leave_tables_empty(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    load_movielens(con, dataset(tmp_path / "full"))
    caplog.set_level("INFO", logger="recsys_duck.loader")
    counts = load_movielens(con, dataset(tmp_path / "lean", tags=None, links=None)).rows
    assert counts == {"movies": 4, "ratings": 4, "tags": 0, "links": 0}
    assert con.execute("select count(*) from tags").fetchone() == (0,)
    assert con.execute("select count(*) from links").fetchone() == (0,)
    assert "tags.csv not found" in caplog.text


def test_header_only_optional_files_are_fine(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    counts = load_movielens(con, dataset(tmp_path, tags=TAGS_HEADER, links=LINKS_HEADER)).rows
    assert counts["tags"] == 0 and counts["links"] == 0


def test_reordered_and_extra_columns(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    links = "tmdbId,note,movieId,imdbId\n862,x,1,0114709\n,y,3,0105946\n"
    load_movielens(con, dataset(tmp_path, links=links))
    assert con.execute("select * from links order by movie_id").fetchall() == [
        (1, "0114709", 862),
        (3, "0105946", None),
    ]


def test_lf_line_endings_bom_and_padded_ids(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    movies = "\ufeffmovieId,title,genres\n 1 ,Toy Story (1995),Animation\n"
    ratings = "userId,movieId,rating,timestamp\n1,1,4,964982703"  # no final line break
    counts = load_movielens(
        con, dataset(tmp_path, movies=movies, ratings=ratings, tags=None, links=None)
    ).rows
    assert counts["movies"] == 1 and counts["ratings"] == 1
    assert con.execute("select movie_id, year from movies").fetchall() == [(1, 1995)]


def test_a_second_load_replaces_the_first(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    load_movielens(con, write_folder(tmp_path / "before", BEFORE))
    load_movielens(con, dataset(tmp_path / "good"))
    assert con.execute("select count(*) from movies where movie_id = 10").fetchone() == (0,)
    assert con.execute("select count(*) from ratings").fetchone() == (4,)


def test_runs_inside_the_callers_transaction(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    load_movielens(con, write_folder(tmp_path / "before", BEFORE))
    before = snapshot(con)
    con.execute("begin transaction")
    load_movielens(con, dataset(tmp_path / "good"))
    assert snapshot(con) != before
    con.execute("rollback")  # fails if the loader had committed or ended the transaction
    assert snapshot(con) == before


# --- bad input ------------------------------------------------------------------------


class Bad:
    """One bad input: the files to change, and what the DataError must say."""

    def __init__(
        self,
        changes: Mapping[str, str | bytes | None],
        file: str,
        line: int | None,
        column: str | None,
        *phrases: str,
    ) -> None:
        self.changes = changes
        self.file = file
        self.line = line
        self.column = column
        self.phrases = phrases


BAD: dict[str, Bad] = {
    "missing movies.csv": Bad({"movies": None}, "movies.csv", None, None, "download"),
    "missing ratings.csv": Bad({"ratings": None}, "ratings.csv", None, None, "download"),
    "header lacks a column": Bad(
        {"ratings": "userId,movieId,timestamp\r\n1,1,964982703\r\n"},
        "ratings.csv",
        1,
        "rating",
        "expected userId,movieId,rating,timestamp",
        "found userId,movieId,timestamp",
    ),
    "header misspelt": Bad(
        {"movies": "movieid,title,genres\r\n1,A (1995),Drama\r\n"},
        "movies.csv",
        1,
        "movieId",
        "expected movieId,title,genres",
        "found movieid,title,genres",
        "case-sensitive",
    ),
    "header names a column twice": Bad(
        {"links": "movieId,imdbId,tmdbId,imdbId\r\n1,1,1,1\r\n"},
        "links.csv",
        1,
        "imdbId",
        "more than once",
    ),
    "empty ratings.csv (0 bytes)": Bad(
        {"ratings": ""}, "ratings.csv", 1, None, "empty", "userId,movieId,rating,timestamp"
    ),
    "empty tags.csv (0 bytes)": Bad({"tags": ""}, "tags.csv", 1, None, "must start with"),
    "header-only ratings.csv": Bad(
        {"ratings": RATINGS_HEADER}, "ratings.csv", 2, None, "no rows", "e.g. 1,1,4.0,964982703"
    ),
    "header-only movies.csv": Bad({"movies": MOVIES_HEADER}, "movies.csv", 2, None, "no rows"),
    "non-numeric userId": Bad(
        {"ratings": RATINGS_HEADER + "1,1,4.0,1\r\nabc,2,4.0,1\r\n"},
        "ratings.csv",
        3,
        "userId",
        "'abc' is not a whole number",
        "fix the value or delete the row",
    ),
    "non-integer movieId": Bad(
        {"ratings": RATINGS_HEADER + "1,1.0,4.0,1\r\n"},
        "ratings.csv",
        2,
        "movieId",
        "'1.0' is not a whole number",
    ),
    "non-integer movieId in movies": Bad(
        {"movies": MOVIES_HEADER + "1,A (1999),Drama\r\n1e3,B (1999),Drama\r\n"},
        "movies.csv",
        3,
        "movieId",
        "'1e3' is not a whole number",
    ),
    "empty userId": Bad(
        {"ratings": RATINGS_HEADER + ",1,4.0,1\r\n"}, "ratings.csv", 2, "userId", "is empty"
    ),
    "non-numeric rating": Bad(
        {"ratings": RATINGS_HEADER + "1,1,four,1\r\n"},
        "ratings.csv",
        2,
        "rating",
        "'four' is not a number",
        "from 0.5 to 5.0",
    ),
    "rating above 5": Bad(
        {"ratings": RATINGS_HEADER + "1,1,4.0,1\r\n1,2,5.5,1\r\n"},
        "ratings.csv",
        3,
        "rating",
        "5.5 is outside 0.5..5.0",
    ),
    "rating of zero": Bad(
        {"ratings": RATINGS_HEADER + "1,1,0,1\r\n"}, "ratings.csv", 2, "rating", "outside"
    ),
    "rating off the half-star scale": Bad(
        {"ratings": RATINGS_HEADER + "1,1,3.25,1\r\n"},
        "ratings.csv",
        2,
        "rating",
        "half-star scale",
        "use one of 0.5, 1.0",
    ),
    "duplicate rating": Bad(
        {"ratings": RATINGS_HEADER + "1,1,4.0,1\r\n1,2,4.0,2\r\n2,1,3.0,3\r\n1,1,2.0,4\r\n"},
        "ratings.csv",
        5,
        "userId,movieId",
        "user 1 rated movie 1 twice, on lines 2 and 5",
        "keep one",
    ),
    "rating of a movie missing from movies.csv": Bad(
        {"ratings": RATINGS_HEADER + "1,1,4.0,1\r\n1,99,4.0,1\r\n"},
        "ratings.csv",
        3,
        "movieId",
        "movieId 99 is not in movies.csv",
        "add the movie to movies.csv or delete",
    ),
    "tag of a movie missing from movies.csv": Bad(
        {"tags": TAGS_HEADER + "1,77,funny,1\r\n"},
        "tags.csv",
        2,
        "movieId",
        "movieId 77 is not in movies.csv",
    ),
    "link of a movie missing from movies.csv": Bad(
        {"links": LINKS_HEADER + "1,0114709,862\r\n5,0000005,5\r\n"},
        "links.csv",
        3,
        "movieId",
        "movieId 5 is not in movies.csv",
    ),
    "duplicate movieId": Bad(
        {"movies": MOVIES_HEADER + "1,A (1999),Drama\r\n2,B (1999),Drama\r\n1,C (1999),Drama\r\n"},
        "movies.csv",
        4,
        "movieId",
        "movieId 1 appears twice, on lines 2 and 4",
        "delete or renumber",
    ),
    "duplicate movieId in links": Bad(
        {"links": LINKS_HEADER + "1,0114709,862\r\n1,0114709,862\r\n"},
        "links.csv",
        3,
        "movieId",
        "appears twice, on lines 2 and 3",
    ),
    "empty title": Bad(
        {"movies": MOVIES_HEADER + "1,,Drama\r\n"}, "movies.csv", 2, "title", "title is empty"
    ),
    "empty genres": Bad(
        {"movies": MOVIES_HEADER + "1,A (1999),\r\n"},
        "movies.csv",
        2,
        "genres",
        "(no genres listed)",
    ),
    "empty tag": Bad({"tags": TAGS_HEADER + '1,1,"",1\r\n'}, "tags.csv", 2, "tag", "tag is empty"),
    "bad timestamp": Bad(
        {"tags": TAGS_HEADER + "1,1,funny,2015-10-24\r\n"},
        "tags.csv",
        2,
        "timestamp",
        "not a Unix time",
        "such as 964982703",
    ),
    "bad imdbId": Bad(
        {"links": LINKS_HEADER + "1,tt0114709,862\r\n"},
        "links.csv",
        2,
        "imdbId",
        "without 'tt'",
    ),
    "bad tmdbId": Bad(
        {"links": LINKS_HEADER + "1,0114709,86.2\r\n"},
        "links.csv",
        2,
        "tmdbId",
        "'86.2' is not a whole number",
    ),
    "invalid UTF-8 in a row": Bad(
        {"movies": MOVIES_HEADER.encode() + b"1,A (1999),Drama\r\n2,Caf\xe9 (2001),Comedy\r\n"},
        "movies.csv",
        3,
        "title",
        "not valid UTF-8",
        "re-save the file as UTF-8",
    ),
    "invalid UTF-8 in the header": Bad(
        {"movies": b"movieId,t\xeftle,genres\r\n1,A (1999),Drama\r\n"},
        "movies.csv",
        1,
        None,
        "not valid UTF-8",
    ),
    "too many fields (unquoted comma)": Bad(
        {"movies": MOVIES_HEADER + "1,A (1999),Drama\r\n2,President, The (1995),Drama\r\n"},
        "movies.csv",
        3,
        None,
        "more fields than the header's 3",
        "double quotes",
    ),
    "too few fields": Bad(
        {"ratings": RATINGS_HEADER + "1,1,4.0,1\r\n1,2,4.0\r\n"},
        "ratings.csv",
        3,
        "timestamp",
        "fewer fields than the header's 4",
    ),
    "unterminated quote": Bad(
        {"movies": MOVIES_HEADER + '1,A (1999),Drama\r\n2,"B (1999),Drama\r\n3,C (1999),Drama\r\n'},
        "movies.csv",
        3,
        "title",
        "not closed",
        "close the quote",
    ),
    "mixed line endings": Bad(
        {"links": LINKS_HEADER + "1,0114709,862\n2,0112346,9087\r\n"},
        "links.csv",
        2,
        None,
        "this line ends with LF but the file's first line with CRLF",
        "make every line end the same way",
    ),
    "one LF line appended to a CRLF file": Bad(
        {"ratings": RATINGS_HEADER + "1,1,4.0,1\r\n1,2,4.0,1\r\n2,1,3.0,1\n"},
        "ratings.csv",
        4,
        None,
        "this line ends with LF but the file's first line with CRLF",
    ),
    # The neighbour tables pack ids into 22 bits: every id of every file is checked.
    "negative userId": Bad(
        {"ratings": RATINGS_HEADER + "1,1,4.0,1\r\n-1,2,4.0,1\r\n"},
        "ratings.csv",
        3,
        "userId",
        "userId -1 is outside 0..4,194,303",
        "renumber the ids",
    ),
    "userId beyond INTEGER": Bad(
        {"ratings": RATINGS_HEADER + "3000000000,1,4.0,1\r\n"},
        "ratings.csv",
        2,
        "userId",
        "userId 3000000000 is outside 0..4,194,303",
    ),
    "userId beyond the packed key": Bad(
        {"ratings": RATINGS_HEADER + "4194304,1,4.0,1\r\n"},
        "ratings.csv",
        2,
        "userId",
        "userId 4194304 is outside 0..4,194,303",
    ),
    "movieId beyond the packed key in ratings": Bad(
        {"ratings": RATINGS_HEADER + "1,5000000,4.0,1\r\n"},
        "ratings.csv",
        2,
        "movieId",
        "movieId 5000000 is outside 0..4,194,303",
    ),
    "movieId beyond the packed key in movies": Bad(
        {"movies": MOVIES_HEADER + "1,A (1999),Drama\r\n5000000,B (1999),Drama\r\n"},
        "movies.csv",
        3,
        "movieId",
        "movieId 5000000 is outside 0..4,194,303",
    ),
    "negative userId in tags": Bad(
        {"tags": TAGS_HEADER + "-7,1,funny,1\r\n"},
        "tags.csv",
        2,
        "userId",
        "userId -7 is outside 0..4,194,303",
    ),
    "movieId beyond the packed key in links": Bad(
        {"links": LINKS_HEADER + "4194304,0114709,862\r\n"},
        "links.csv",
        2,
        "movieId",
        "movieId 4194304 is outside 0..4,194,303",
    ),
    "NUL byte in a title": Bad(
        {"movies": MOVIES_HEADER + "1,A (1999),Drama\r\n2,B\x00 (1999),Drama\r\n"},
        "movies.csv",
        3,
        "title",
        "title contains a NUL byte",
        "delete that byte",
    ),
    "NUL byte in a tag": Bad(
        {"tags": TAGS_HEADER + "1,1,fun\x00ny,1\r\n"},
        "tags.csv",
        2,
        "tag",
        "tag contains a NUL byte",
    ),
}


@pytest.mark.parametrize("case", list(BAD.values()), ids=list(BAD))
def test_bad_input_raises_and_changes_nothing(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, case: Bad
) -> None:
    load_movielens(con, write_folder(tmp_path / "before", BEFORE))
    before = snapshot(con)
    folder = tmp_path / "bad"
    changes = {name.removesuffix(".csv"): content for name, content in case.changes.items()}
    dataset(folder, **changes)
    with pytest.raises(DataError) as info:
        load_movielens(con, folder)
    error = info.value
    assert error.path == str(folder / case.file)
    assert (error.line, error.column) == (case.line, case.column)
    for phrase in case.phrases:
        assert phrase in str(error)
    assert snapshot(con) == before
    assert temp_tables(con) == []


def test_missing_folder(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    folder = tmp_path / "nowhere"
    with pytest.raises(DataError, match="no such folder; download ml-latest-small") as info:
        load_movielens(con, folder)
    assert (info.value.path, info.value.line, info.value.column) == (str(folder), None, None)


def test_a_file_that_is_a_folder_is_named_as_such(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    folder = dataset(tmp_path / "data", ratings=None)
    (folder / "ratings.csv").mkdir()
    with pytest.raises(DataError, match="ratings.csv is a folder, not a file") as info:
        load_movielens(con, folder)
    assert info.value.path == str(folder / "ratings.csv")


def test_failed_load_in_a_transaction_leaves_tables_as_they_were(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """The caller's pattern: begin, load, and roll back on error."""
    load_movielens(con, write_folder(tmp_path / "before", BEFORE))
    before = snapshot(con)
    bad = dataset(tmp_path / "bad", links=LINKS_HEADER + "1,0114709,862\n2,0112346,9087\r\n")
    con.execute("begin transaction")
    with pytest.raises(DataError):
        load_movielens(con, bad)
    con.execute("rollback")
    assert snapshot(con) == before


def test_message_counts_every_bad_row_and_shows_the_first(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    ratings = RATINGS_HEADER + "1,1,4.0,1\r\n1,2,9,1\r\n2,1,x,1\r\n2,4,4.0,1\r\n1,1,2.0,1\r\n"
    with pytest.raises(DataError) as info:
        load_movielens(con, dataset(tmp_path, ratings=ratings))
    assert (info.value.line, info.value.column) == (3, "rating")
    message = str(info.value)
    assert "ratings.csv has 3 bad rows in total" in message
    assert "1 rating off the scale 0.5..5.0 in steps of 0.5" in message
    assert "1 rating not a number" in message
    assert "1 duplicate (userId, movieId)" in message


def test_structural_errors_are_counted(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    movies = MOVIES_HEADER + "1,A,B,C\r\n2,A (1999),Drama\r\n3,X\r\n4,Y,Z,W,V\r\n"
    with pytest.raises(DataError, match="movies.csv has 3 bad rows in total") as info:
        load_movielens(con, dataset(tmp_path, movies=movies))
    assert info.value.line == 2


def test_line_numbers_count_blank_lines_and_multiline_values(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """Regression: numbering rows instead of lines is off after a blank line or a
    quoted title spanning two lines (DuckDB's own reject line numbers are too)."""
    movies = (
        MOVIES_HEADER
        + '1,"Two\r\nLines (1999)",Drama\r\n'  # lines 2-3
        + "\r\n"  # line 4, blank
        + "2,B (1999),Drama\r\n"  # line 5
        + "4,C (1999),Drama\r\n"  # line 6
        + "2,D (1999),Drama\r\n"  # line 7, duplicate of line 5
    )
    with pytest.raises(DataError, match="on lines 5 and 7") as info:
        load_movielens(con, dataset(tmp_path / "semantic", movies=movies))
    assert info.value.line == 7
    structural = movies.replace("2,D (1999),Drama", "2,D (1999),Drama,extra")
    with pytest.raises(DataError, match="more fields") as info:
        load_movielens(con, dataset(tmp_path / "structural", movies=structural))
    assert info.value.line == 7


# --- the real ml-latest-small -----------------------------------------------------------


def test_real_ml_latest_small(con: duckdb.DuckDBPyConnection) -> None:
    folder = require_ml_small()
    counts = load_movielens(con, folder).rows
    assert counts == {"movies": 9742, "ratings": 100836, "tags": 3683, "links": 9742}
    assert {table: len(rows) for table, rows in snapshot(con).items()} == counts
    assert con.execute("select count(*) from movies where year is null").fetchone() == (13,)
    assert con.execute("select min(rating), max(rating) from ratings").fetchone() == (0.5, 5.0)


def grep_n(path: Path, needle: bytes) -> list[int]:
    """Line numbers holding ``needle``, counted like ``grep -n``."""
    return [i for i, line in enumerate(path.read_bytes().split(b"\n"), 1) if needle in line]


@pytest.fixture
def real_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "ml"
    shutil.copytree(require_ml_small(), folder)
    return folder


@pytest.mark.parametrize("row", [0, 1, 50_000, 100_834, 100_835])
def test_real_line_numbers_of_a_bad_rating(
    con: duckdb.DuckDBPyConnection, real_copy: Path, row: int
) -> None:
    path = real_copy / "ratings.csv"
    lines = path.read_bytes().split(b"\r\n")
    fields = lines[1 + row].split(b",")
    lines[1 + row] = b",".join([fields[0], fields[1], b"7.5", fields[3]])
    path.write_bytes(b"\r\n".join(lines))
    with pytest.raises(DataError) as info:
        load_movielens(con, real_copy)
    assert grep_n(path, b",7.5,") == [row + 2]
    assert (info.value.line, info.value.column) == (row + 2, "rating")


def test_real_line_numbers_of_a_duplicate_movie_after_quoted_titles(
    con: duckdb.DuckDBPyConnection, real_copy: Path
) -> None:
    path = real_copy / "movies.csv"
    data = path.read_bytes()
    # The last line again, after 2,000 quoted titles holding commas.
    last = data.rstrip(b"\r\n").rsplit(b"\r\n", 1)[1]
    path.write_bytes(data + last + b"\r\n")
    with pytest.raises(DataError) as info:
        load_movielens(con, real_copy)
    assert grep_n(path, last) == [9743, 9744]
    assert info.value.line == 9744
    assert "on lines 9743 and 9744" in str(info.value)


def test_real_line_numbers_of_a_malformed_row(
    con: duckdb.DuckDBPyConnection, real_copy: Path
) -> None:
    path = real_copy / "ratings.csv"
    lines = path.read_bytes().split(b"\r\n")
    lines[90_000] += b",extra"
    path.write_bytes(b"\r\n".join(lines))
    with pytest.raises(DataError) as info:
        load_movielens(con, real_copy)
    assert grep_n(path, b",extra") == [90_001]
    assert info.value.line == 90_001


def test_real_line_numbers_do_not_depend_on_insertion_order(real_copy: Path) -> None:
    """Rows are numbered by ``with ordinality`` in scan order, not by insertion order."""
    con = duckdb.connect(":memory:", config={"threads": 8, "preserve_insertion_order": False})
    apply_layers(con, ["00_tables"])
    path = real_copy / "ratings.csv"
    lines = path.read_bytes().split(b"\r\n")
    fields = lines[99_000].split(b",")
    lines[99_000] = b",".join([fields[0], fields[1], b"3.75", fields[3]])
    path.write_bytes(b"\r\n".join(lines))
    with pytest.raises(DataError) as info:
        load_movielens(con, real_copy)
    assert grep_n(path, b",3.75,") == [99_001]
    assert info.value.line == 99_001


# -- Parquet input ------------------------------------------------------------------------


def test_parquet_files_load_the_same_tables_as_the_csv_folder(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    source = parquet_copy(TINY, tmp_path / "parquet")
    counts = load_files(con, source).rows
    got = snapshot(con)
    load_movielens(con, TINY)
    want = snapshot(con)
    assert got == {**want, "links": []}  # Parquet input has no links
    assert counts == {table: len(rows) for table, rows in got.items()}
    assert temp_tables(con) == []


def _ratings_parquet(
    path: Path, rows: str, columns: str = "userId, movieId, rating, timestamp"
) -> str:
    """A ratings Parquet file of the VALUES ``rows``."""
    duckdb.execute(
        f"copy (select * from (values {rows}) as t({columns})) to '{path}'"  # noqa: S608
    )
    return str(path)


def test_a_bad_parquet_value_is_named_by_file_row_and_column(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    source = parquet_copy(TINY, tmp_path / "parquet")
    load_files(con, source)
    before = snapshot(con)
    bad = _ratings_parquet(tmp_path / "bad.parquet", "(1, 1, 4.0, 5), (1, 2, 7.5, 6)")
    half_stars = BuildParams(rating_min=0.5, rating_max=5.0, rating_step=0.5)
    with pytest.raises(DataError) as info:
        load_files(con, replace(source, ratings=bad), half_stars)
    assert str(info.value).startswith(f"{bad}, row 2, column rating: rating 7.5 is outside")
    assert (info.value.path, info.value.row, info.value.line) == (bad, 2, None)
    assert snapshot(con) == before
    assert temp_tables(con) == []


def test_a_duplicate_across_parquet_files_names_both_files(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    folder = tmp_path / "ratings"
    folder.mkdir()
    _ratings_parquet(folder / "a.parquet", "(1, 1, 4.0, 5), (2, 1, 3.0, 6)")
    second = _ratings_parquet(folder / "b.parquet", "(3, 1, 1.0, 7), (2, 1, 2.5, 8)")
    source = FilesInput(str(folder), str(parquet_copy(TINY, tmp_path / "p").movies))
    with pytest.raises(
        DataError,
        match=r"user 2 rated movie 1 twice, on row 2 of .*a\.parquet "
        "and row 2;",
    ) as info:
        load_files(con, source)
    assert (info.value.path, info.value.row) == (second, 2)


@pytest.mark.parametrize(
    ("rows", "columns", "message"),
    [
        (
            "(1, 1, 5)",
            "userId, movieId, timestamp",
            "lack column(s) rating: expected userId, movieId, rating, timestamp, "
            "found userId, movieId, timestamp;",
        ),
        ("(1, 99, 4.0, 5)", "userId, movieId, rating, timestamp", "movieId 99 is not in"),
    ],
    ids=["missing column", "unknown movie"],
)
def test_bad_parquet_files_raise_one_clear_error(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, rows: str, columns: str, message: str
) -> None:
    path = _ratings_parquet(tmp_path / "ratings.parquet", rows, columns)
    movies = parquet_copy(TINY, tmp_path / "p").movies
    with pytest.raises(DataError) as info:
        load_files(con, FilesInput(path, movies))
    assert message in str(info.value)
    assert info.value.path == path


def test_unreadable_parquet_paths_say_what_to_pass(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    movies = parquet_copy(TINY, tmp_path / "p").movies
    not_parquet = tmp_path / "ratings.parquet"
    not_parquet.write_bytes((TINY / "ratings.csv").read_bytes())
    cases = {
        str(tmp_path / "absent.parquet"): "No files found",
        str(not_parquet): "pass a Parquet file, a folder of Parquet files or a glob",
        "s3a://bucket/ratings": "build with --engine spark to read from this location",
    }
    for path, message in cases.items():
        with pytest.raises(DataError, match=re.escape(message)) as info:
            load_files(con, FilesInput(path, movies))
        assert info.value.path == path
    assert snapshot(con) == {table: [] for table in SNAPSHOT_SQL}
