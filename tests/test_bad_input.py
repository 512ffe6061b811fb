"""The catalogue of bad input: every way of using the command line wrongly that an
independent attack found (issue 19), and every loader rule, run as a user runs them.

Each case asserts the exit status, that the failure is one line on stderr saying what
is wrong (and, for data, the file, line and column), that the database file is
byte-for-byte as it was, and that nothing was left beside it. ``test_kill_9_*`` kill
writers at several points and check that the file is the old one or the complete new
one. The README's reliability section gives the counts of this file.
"""

from __future__ import annotations

import hashlib
import shlex
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import psycopg
import pytest
from click.testing import CliRunner

from recsys_duck import Recommender
from recsys_duck.cli import cli
from recsys_duck.errors import InvalidArgumentError, NotBuiltError
from recsys_duck.params import BuildParams
from tests.conftest import TINY
from tests.test_loader import BAD, dataset
from tests.test_publish import Postgres, pg  # noqa: F401 - the PostgreSQL server fixture

PARAMS = BuildParams(k=3, n_similar_users=2, n_item_neighbors=2, n_recommendations=3)
NEW_RATINGS = "userId,movieId,rating,timestamp\n"


@dataclass(frozen=True)
class Case:
    """A command (``{db}`` is the database, ``{dir}`` a scratch folder holding the files
    that ``files`` writes), the exit status, and phrases its one line must hold."""

    args: tuple[str, ...]
    status: int
    phrases: tuple[str, ...]
    files: dict[str, str | bytes] | None = None
    db: str = "built"  # "built": the tiny data built; "none": no file at {db}


def _case(args: str, status: int, *phrases: str, **kwargs: object) -> Case:
    return Case(tuple(shlex.split(args)), status, phrases, **kwargs)  # type: ignore[arg-type]


USAGE = 2  # click's status for a bad argument
CASES: dict[str, Case] = {
    # -- numeric options: one rule each, the same in the Python API (item 13)
    "recommend -n 0": _case("recommend 1 -n 0", USAGE, "'-n': 0 is not in the range x>=1"),
    "recommend -n -5": _case("recommend 1 -n -5", USAGE, "'-n': -5 is not in the range x>=1"),
    "recommend --neighbors-used 0": _case(
        "recommend 1 --method item --neighbors-used 0", USAGE, "x>=1"
    ),
    "recommend --neighbors-used above k": _case(
        "recommend 1 --method item --neighbors-used 9",
        1,
        "asked for 9 neighbours but the build stored 3",
        "recsys-duck build --k 9",
    ),
    "similar -n 0": _case("similar 1 -n 0", USAGE, "x>=1"),
    "evaluate --cutoff 0": _case("evaluate --cutoff 0", USAGE, "'--cutoff': 0 is not"),
    "evaluate --cutoff beyond the lists": _case(
        "evaluate --cutoff 50", USAGE, "50 is beyond the 3 movies", "--n-recommendations 50"
    ),
    "evaluate --test-fraction 1": _case("evaluate --test-fraction 1", USAGE, "0<x<1"),
    "evaluate --folds 1": _case("evaluate --split kfold --folds 1", USAGE, "x>=2"),
    "build --k 0": _case("build --k 0 --data {dir}", USAGE, "'--k': 0 is not"),
    "build --n-recommendations 0": _case("build --n-recommendations 0", USAGE, "x>=1"),
    "build --memory-limit -5GB": _case("build --memory-limit -5GB", USAGE, "is not a size"),
    "build --memory-limit 99999TB": _case(
        "build --memory-limit 99999TB", USAGE, "more than this machine's"
    ),
    "build --memory-limit 5": _case("build --memory-limit 5", USAGE, "give e.g. 8GB"),
    "add-ratings --memory-limit 1XB": _case(
        "add-ratings {dir}/new.csv --memory-limit 1XB", USAGE, "'1XB' is not a size"
    ),
    "build --spark-batches 0": _case("build --spark-batches 0", USAGE, "x>=1"),
    "sql --timeout 0": _case("sql 'select 1' --timeout 0", USAGE, "--timeout"),
    "sql --max-rows 0": _case("sql 'select 1' --max-rows 0", USAGE, "--max-rows"),
    "unknown verb": _case("recomend 1", USAGE, "No such command 'recomend'"),
    "unknown option": _case("recommend 1 --bogus", USAGE, "No such option '--bogus'"),
    "missing argument": _case("recommend", USAGE, "Missing argument 'USER_ID'"),
    "build --data and --ratings": _case(
        "build --data {dir} --ratings {dir}/r.parquet --movies {dir}/m.parquet",
        USAGE,
        "either --data",
    ),
    "evaluate --memory-limit 1XB": _case("evaluate --memory-limit 1XB", USAGE, "not a size"),
    "predict pairs with a bad id": _case(
        "predict --pairs {dir}/pairs.csv",
        1,
        "pairs.csv, line 3, column movieId: movieId 'x' is not a whole number",
        files={"pairs.csv": "userId,movieId\n1,2\n1,x\n"},
    ),
    "predict pairs without userId": _case(
        "predict --pairs {dir}/pairs.csv",
        1,
        "no userId column (found user, movie)",
        files={"pairs.csv": "user,movie\n1,2\n"},
    ),
    "predict into an unknown format": _case(
        "predict --pairs {dir}/pairs.csv --out {dir}/p.txt",
        1,
        "name it .csv or .parquet",
        files={"pairs.csv": "userId,movieId\n1,2\n"},
    ),
    "predict with an unknown model": _case(
        "predict --pairs {dir}/pairs.csv --model nosuch",
        1,
        "unknown model 'nosuch'",
        files={"pairs.csv": "userId,movieId\n1,2\n"},
    ),
    # -- data in: releases by name, files of your own, a split brought as files (issue 20)
    "build --download of an unknown release": _case(
        "build --download ml-5m", 1, "unknown MovieLens release 'ml-5m'", "ml-100k"
    ),
    "build --download with --no-download": _case(
        "build --download ml-1m --no-download", USAGE, "either --download NAME or --no-download"
    ),
    "build --data of no release": _case(
        "build --data {dir}",
        1,
        "holds no MovieLens release",
        "u.data and u.item (ml-100k)",
        files={"notes.txt": "hello\n"},
    ),
    "build --data ml-1m rating off its scale": _case(
        "build --data {dir}",
        1,
        "ratings.dat, line 2, column rating (field 3): rating 6 is outside 1..5",
        files={
            "movies.dat": "1::Toy Story (1995)::Animation\n",
            "ratings.dat": "1::1::5::978300760\n1::1::6::978300761\n",
            "users.dat": "1::F::1::10::48067\n",
        },
    ),
    "build --items without --ratings": _case(
        "build --items {dir}/items.csv", USAGE, "--items go with --ratings FILE"
    ),
    "build --columns with an unknown key": _case(
        "build --ratings {dir}/r.csv --columns product=sku", USAGE, "'product=sku' is not KEY"
    ),
    "build --rating-scale upside down": _case(
        "build --ratings {dir}/r.csv --rating-scale 5:1", USAGE, "low end (5) must be below"
    ),
    "build --ratings without a rating column": _case(
        "build --ratings {dir}/r.csv --columns user=customer,item=sku",
        1,
        "r.csv, line 1, column rating: the header lacks column(s) rating",
        "name them with --columns",
        files={"r.csv": "customer,sku,stars\n1,1,4\n"},
    ),
    "build --ratings off the given scale": _case(
        "build --ratings {dir}/r.csv --rating-scale 1:5:1",
        1,
        "r.csv, line 3, column rating: rating 4.5 is not on the scale 1..5 in steps of 1",
        files={"r.csv": "userId,movieId,rating\n1,1,4\n1,2,4.5\n"},
    ),
    "build --attach without a name": _case(
        "build --attach {dir}/shop.duckdb --ratings shop.orders", USAGE, "is not DB=URL"
    ),
    "build --attach of a file that is no database": _case(
        "build --attach shop={dir}/shop.duckdb --ratings shop.orders",
        1,
        "cannot attach database shop",
        "not a valid DuckDB database file",
        files={"shop.duckdb": b"userId,movieId\n"},
    ),
    "evaluate --train without --test": _case(
        "evaluate --train {dir}/train.csv", USAGE, "1 --train file(s) but 0 --test"
    ),
    "evaluate --train with --split": _case(
        "evaluate --split kfold --train {dir}/a.csv --test {dir}/b.csv",
        USAGE,
        "leave out --split kfold",
    ),
    "evaluate --train of a missing file": _case(
        "evaluate --train {dir}/nowhere.csv --test {dir}/test.csv --cutoff 2",
        1,
        "nowhere.csv: no such file",
        files={"test.csv": NEW_RATINGS + "1,1,4.0,1\n"},
    ),
    "evaluate --test with an unknown movie": _case(
        "evaluate --train {dir}/train.csv --test {dir}/test.csv --models popularity --cutoff 2",
        1,
        "test.csv, line 3, column movieId: movieId 99 is not in the database's movies table",
        files={
            "train.csv": NEW_RATINGS + "1,1,4.0,1\n2,2,3.0,1\n",
            "test.csv": NEW_RATINGS + "1,2,4.0,1\n1,99,4.0,1\n",
        },
    ),
    # -- the database file (items 12, 14)
    "--db mistyped, add-ratings": _case(
        "add-ratings {dir}/new.csv", 1, "has not been built", db="none"
    ),
    "--db mistyped, evaluate": _case("evaluate", 1, "has not been built", db="none"),
    "--db mistyped, recommend": _case("recommend 1", 1, "no database at", db="none"),
    "--db mistyped, first build fails": _case(
        "build --data {dir}/nowhere", 1, "no such folder", db="none"
    ),
    "--db names a CSV file": _case(
        "--db {dir}/ratings.csv build --data {dir}",
        1,
        "is not a DuckDB database file",
        files={"ratings.csv": NEW_RATINGS + "1,1,4.0,1\n"},
    ),
    "report into a missing folder": _case(
        "report --out {dir}/nowhere/r.html", 1, "there is no folder", "create it first"
    ),
    "unknown user": _case("recommend 99 --method item --neighbors-used 2", 1, "unknown user_id"),
    "unknown title": _case("similar 'No Such Film' -n 2", 1, "no movie titled"),
    # -- add-ratings files (items 6, 7, 8, 12)
    "add-ratings of a missing file": _case("add-ratings {dir}/none.csv", 1, "no such file"),
    "add-ratings of a folder": _case(
        "add-ratings {dir}", USAGE, "is a directory", files={"x.csv": NEW_RATINGS}
    ),
    "add-ratings user beyond the packed key": _case(
        "add-ratings {dir}/new.csv",
        1,
        "line 2, column userId",
        "userId 5000000 is outside 0..4,194,303",
        files={"new.csv": NEW_RATINGS + "5000000,1,4.0,1\n"},
    ),
    "add-ratings user beyond INTEGER": _case(
        "add-ratings {dir}/new.csv",
        1,
        "userId 2147483648 is outside",
        files={"new.csv": NEW_RATINGS + "2147483648,1,4.0,1\n"},
    ),
    "add-ratings negative movie": _case(
        "add-ratings {dir}/new.csv",
        1,
        "movieId -3 is outside",
        files={"new.csv": NEW_RATINGS + "1,-3,4.0,1\n"},
    ),
    "add-ratings unknown movie": _case(
        "add-ratings {dir}/new.csv",
        1,
        "line 2, column movieId",
        "not in the database's movies table",
        files={"new.csv": NEW_RATINGS + "1,999,4.0,1\n"},
    ),
    "add-ratings already rated": _case(
        "add-ratings {dir}/new.csv",
        1,
        "user 1 has already rated movie 1",
        files={"new.csv": NEW_RATINGS + "1,1,4.0,1\n"},
    ),
    "add-ratings mixed line endings": _case(
        "add-ratings {dir}/new.csv",
        1,
        "line 3: this line ends with LF",
        files={"new.csv": NEW_RATINGS.replace("\n", "\r\n") + "9,1,4.0,1\r\n9,2,4.0,1\n"},
    ),
    "add-ratings rating off the scale": _case(
        "add-ratings {dir}/new.csv",
        1,
        "line 2, column rating",
        files={"new.csv": NEW_RATINGS + "9,1,6.0,1\n"},
    ),
    # -- what a hardened reader may run (items 1, 2)
    "sql CALL enable_logging to a file": _case(
        "sql \"CALL enable_logging('QueryLog', storage='file', storage_path='{dir}/log')\"",
        1,
        "refused: CALL statements change state",
    ),
    "sql PRAGMA enable_verification": _case(
        "sql 'pragma enable_verification'", 1, "refused: PRAGMA statements"
    ),
    "sql SET": _case("sql 'set threads = 1'", 1, "refused: SET statements"),
    "sql enable_profiling()": _case(
        "sql 'select * from system.main.enable_profiling()'", 1, "refused: enable_profiling()"
    ),
    "sql read_text": _case(
        "sql \"select * from read_text('/etc/passwd')\"", 1, "file system operations are disabled"
    ),
    "sql COPY TO": _case("sql \"copy movies to '{dir}/m.csv'\"", 1, "refused: COPY statements"),
    "sql past the row limit": _case(
        "sql 'select * from range(11)' --max-rows 10", 1, "more than 10 rows"
    ),
    "sql past the timeout": _case(
        "sql 'select count(*) from range(100000000) a, range(100000000) b' --timeout 0.5",
        1,
        "ran longer than 0.5 s",
    ),
    "sql syntax error": _case("sql 'selec 1'", 1, 'syntax error at or near "selec"'),
    # -- publishing (item 3)
    "publish password with # never shown": _case(
        "publish --postgres postgresql://publisher:Sec#ret99@127.0.0.1:1/analytics",
        1,
        "***",
    ),
}
# Every loader rule, through build --data on a built database (it must stay as it was).
for _name, _bad in BAD.items():
    _where = [_bad.file] + ([f"line {_bad.line}"] if _bad.line else [])
    CASES[f"build: {_name}"] = Case(
        ("build", "--data", "{dir}/data"), 1, (*_where, _bad.phrases[0]), files=None
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("built") / "tiny.duckdb"
    with Recommender(path) as rec:
        rec.build(TINY, PARAMS)
    return path


def _fingerprint(folder: Path) -> dict[str, str]:
    """Every file of the folder (hidden ones too) with its sha256, but the writers' lock
    beside a database: it is made by the first writer and stays as long as the file
    (removing it while another writer waits on it would let two write at once)."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
        and not (p.name.endswith(".duckdb.lock") and p.with_name(p.name[1:-5]).exists())
    }


def _run(args: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    return result.exit_code, result.stderr


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_is_one_line_and_changes_nothing(built: Path, tmp_path: Path, name: str) -> None:
    case = CASES[name]
    files, db = tmp_path / "files", tmp_path / "db" / "tiny.duckdb"
    files.mkdir()
    db.parent.mkdir()
    for file, content in (case.files or {}).items():
        (files / file).write_bytes(content.encode() if isinstance(content, str) else content)
    if name.startswith("build: "):
        bad = BAD[name.removeprefix("build: ")]
        dataset(files / "data", **{k.removesuffix(".csv"): v for k, v in bad.changes.items()})
    if case.db == "built":
        shutil.copyfile(built, db)
    before_files, before_db = _fingerprint(files), _fingerprint(db.parent)
    args = [a.replace("{db}", str(db)).replace("{dir}", str(files)) for a in case.args]
    status, stderr = _run(["--quiet", "--db", str(db), *args])
    assert status == case.status, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), stderr
    for phrase in case.phrases:
        assert phrase in lines[0], (phrase, lines[0])
    assert "Sec#ret99" not in stderr
    assert _fingerprint(db.parent) == before_db  # the database as it was, nothing beside it
    assert _fingerprint(files) == before_files  # the input files untouched, nothing added


def test_the_readme_counts_this_catalogue() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    assert f"{len(CASES)} bad-input cases" in readme


# -- kill -9 -------------------------------------------------------------------------


def _kill_at(args: list[str], line: str, timeout: float = 120) -> bool:
    """Run the command line, SIGKILL it when ``line`` appears on its stderr; whether it
    was killed (it may have finished first)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "recsys_duck.cli", *args],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    assert process.stderr is not None
    deadline = time.monotonic() + timeout
    for text in process.stderr:
        if line in text:
            process.send_signal(signal.SIGKILL)
            process.wait()
            return True
        assert time.monotonic() < deadline
    process.wait()
    return False


def _counts(db: Path) -> tuple[int, int]:
    with duckdb.connect(str(db), read_only=True) as con:
        (ratings,) = con.execute("select count(*) from ratings").fetchone() or (0,)
        (recommendations,) = con.execute("select count(*) from recommendations").fetchone() or (0,)
    return int(ratings), int(recommendations)


@pytest.mark.parametrize(
    "step", ["build: load ...", "build: pair_sums ...", "build: 80_macros ...", "checkpoint"]
)
def test_kill_9_during_a_build_leaves_the_old_file(built: Path, tmp_path: Path, step: str) -> None:
    db = tmp_path / "tiny.duckdb"
    shutil.copyfile(built, db)
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    params = ["--k", "2", "--data", str(TINY)]
    killed = _kill_at(["--debug", "--db", str(db), "build", *params], step)
    after = hashlib.sha256(db.read_bytes()).hexdigest()
    # The old file, or (killed after the rename) the complete new one.
    assert after == before or not killed
    status, stderr = _run(["--quiet", "--db", str(db), "build", *params])  # cleans up
    assert status == 0, stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [".tiny.duckdb.lock", "tiny.duckdb"]


@pytest.mark.parametrize(
    "step", ["add-ratings: load ...", "add-ratings: pair_sums ...", "add-ratings: recommendations"]
)
# Through a copy of the file, or (deferred weights) in place in one transaction.
@pytest.mark.parametrize("flags", [[], ["--defer-weights"]], ids=["copy", "in place"])
def test_kill_9_during_add_ratings_keeps_all_or_nothing(
    built: Path, tmp_path: Path, step: str, flags: list[str]
) -> None:
    db = tmp_path / "tiny.duckdb"
    shutil.copyfile(built, db)
    ratings, _ = _counts(db)
    new = tmp_path / "new.csv"
    new.write_text(NEW_RATINGS + "9,1,4.0,1\n9,2,3.5,2\n")
    _kill_at(["--db", str(db), "add-ratings", str(new), *flags], step)
    # The copy is dropped, or DuckDB replays or drops the killed transaction's WAL:
    # every new rating or none.
    after, recommendations = _counts(db)
    assert after in (ratings, ratings + 2)
    assert recommendations > 0
    if after == ratings:
        status, stderr = _run(["--quiet", "--db", str(db), "add-ratings", str(new), *flags])
        assert status == 0, stderr
        assert _counts(db)[0] == ratings + 2
        # and removed what the killed one left
        assert sorted(p.name for p in tmp_path.iterdir()) == [
            ".tiny.duckdb.lock",
            "new.csv",
            "tiny.duckdb",
        ]


@pytest.fixture(scope="module")
def built_k2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny data built with other settings: a publication distinguishable from
    ``built``'s."""
    path = tmp_path_factory.mktemp("built_k2") / "tiny.duckdb"
    with Recommender(path) as rec:
        rec.build(TINY, BuildParams(k=2, n_similar_users=2, n_item_neighbors=2))
    return path


def _publication(url: str) -> tuple[int, int] | None:
    """(neighbors_k, item neighbour rows) of schema recsys, or None when it is absent."""
    with psycopg.connect(url) as con:
        (found,) = con.execute(
            "select count(*) from pg_namespace where nspname = 'recsys'"
        ).fetchone() or (0,)
        if not found:
            return None
        (k,) = con.execute("select neighbors_k from recsys.recsys_params").fetchone() or (0,)
        (rows,) = con.execute("select count(*) from recsys.item_neighbors").fetchone() or (0,)
    return int(k), int(rows)


def _rows_of(db: Path) -> tuple[int, int]:
    with duckdb.connect(str(db), read_only=True) as con:
        (k,) = con.execute("select neighbors_k from recsys_params").fetchone() or (0,)
        (rows,) = con.execute("select count(*) from item_neighbors").fetchone() or (0,)
    return int(k), int(rows)


@pytest.mark.parametrize(
    "step", ["publish: item_neighbors:", "publish: filled schema", "publish: swapped in"]
)
def test_kill_9_during_publish_leaves_the_old_or_the_new_publication(
    pg: Postgres,  # noqa: F811 - the fixture imported above
    built: Path,
    built_k2: Path,
    step: str,
) -> None:
    old, new = _rows_of(built), _rows_of(built_k2)
    assert old != new
    publish = ["publish", "--postgres", pg.publisher, "--schema", "recsys"]
    status, stderr = _run(["--quiet", "--db", str(built), *publish])
    assert status == 0, stderr
    assert _publication(pg.admin) == old
    assert _kill_at(["--db", str(built_k2), *publish], step)
    assert _publication(pg.admin) in (old, new)  # never a mix, never nothing
    status, stderr = _run(["--quiet", "--db", str(built_k2), *publish])  # clears what was left
    assert status == 0, stderr
    assert _publication(pg.admin) == new


def test_the_python_api_has_the_same_rules(built: Path, tmp_path: Path) -> None:
    with Recommender(built, read_only=True) as rec:
        for call in (
            lambda: rec.recommend(1, n=0),
            lambda: rec.recommend(1, n=-5, method="popularity"),
            lambda: rec.recommend(1, method="item", k=0),
            lambda: rec.similar(1, n=0),
        ):
            with pytest.raises(InvalidArgumentError, match="must be at least 1"):
                call()
    for limit, message in (("-5GB", "is not a size"), ("99999TB", "more than this machine")):
        with pytest.raises(InvalidArgumentError, match=message):
            Recommender(tmp_path / "x.duckdb", memory_limit=limit)
    with Recommender(tmp_path / "x.duckdb") as rec:  # a writer on no file creates none
        with pytest.raises(NotBuiltError):
            rec.evaluate("holdout")
    assert list(tmp_path.iterdir()) == []
