"""add-ratings and refresh: adding ratings to a built database, then refreshing what it
deferred, equals building on all of them.

A dataset is split into a base (built) and new ratings (added); the result is compared,
table by table and exactly, with a build on the whole dataset. Until the refresh, the
deferred tables are as the base build left them and ``freshness`` says so."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from recsys_duck import Recommender
from recsys_duck.cli import cli
from recsys_duck.errors import DataError, RecsysError
from recsys_duck.params import BuildParams

from .conftest import TINY

# The tables add-ratings defers to refresh (recsys_duck.pipeline.DEFERRED).
DEFERRED = ("baseline_biases", "popular_movies", "recommendations")
# Every stored table a rating changes, with its key; compared exactly, bit for bit.
EXACT = {
    "ratings": "user_id, movie_id",
    "item_pair_sums": "movie_id, neighbor_id",
    "user_pair_sums": "user_id, neighbor_id",
    "item_neighbors": "movie_id, rank",
    "user_neighbors": "user_id, rank",
    "item_weights": "model, movie_id, neighbor_id",
    "recommendations": "method, user_id, rank",
    "popular_movies": "popularity_rank",
}
# Columns that are sums of floats (not half-star products) taken by a parallel
# aggregation, whose last bits depend on the order of addition in any two builds:
# compared to 1e-12 (item_knn's and rp3beta's weights differed by 4e-15 at most;
# item_ridge's sums are fixed-point and equal bit for bit). Everything else, ranks and
# ids included, is compared exactly.
FLOAT_SUMS = {"recommendations": ["score"], "item_weights": ["weight"]}
TINY_PARAMS = BuildParams(k=3, n_similar_users=2, n_item_neighbors=2, n_recommendations=3)


def _split(source: Path, target: Path, new: np.ndarray) -> Path:
    """Copy a MovieLens folder to ``target`` without the ratings flagged in ``new``;
    those go to ``target/new_ratings.csv``. Returns that file."""
    target.mkdir()
    for name in ("movies.csv", "tags.csv", "links.csv"):
        shutil.copyfile(source / name, target / name)
    ratings = pd.read_csv(source / "ratings.csv", dtype=str)
    ratings[~new].to_csv(target / "ratings.csv", index=False)
    added = target / "new_ratings.csv"
    ratings[new].to_csv(added, index=False)
    return added


def _table(rec: Recommender, name: str) -> pd.DataFrame:
    return rec.sql(f"select * from {name} order by {EXACT[name]}")  # noqa: S608


def _assert_same(found: Recommender, expected: Recommender) -> None:
    for name in EXACT:
        a, b = _table(found, name), _table(expected, name)
        assert len(a) == len(b) > 0, name
        sums = FLOAT_SUMS.get(name, [])
        pd.testing.assert_frame_equal(
            a.drop(columns=sums), b.drop(columns=sums), check_exact=True, obj=name
        )
        for column in sums:
            np.testing.assert_allclose(a[column], b[column], rtol=1e-12, atol=0, err_msg=name)
    biases = ("select * from baseline_biases order by all",)
    pd.testing.assert_frame_equal(found.sql(biases[0]), expected.sql(biases[0]), rtol=0, atol=1e-12)


def test_tiny_add_equals_rebuild(tmp_path: Path) -> None:
    """Two new ratings (one by a new user, one of a movie nobody had rated) on the tiny
    data: the same tables as a build on all of them."""
    n = len(pd.read_csv(TINY / "ratings.csv"))
    new = np.zeros(n, dtype=bool)
    new[[1, n - 1]] = True
    added = _split(TINY, tmp_path / "base", new)
    with Recommender(":memory:") as rec, Recommender(":memory:") as full:
        rec.build(tmp_path / "base", TINY_PARAMS)
        assert not _freshness(rec)["is_stale"].any()
        deferred = {name: rec.sql(f"select * from {name} order by all") for name in DEFERRED}  # noqa: S608
        report = rec.add_ratings(added)
        full.build(TINY, TINY_PARAMS)
        assert report.n_ratings == 2
        assert report.affected_movies > 0 and report.affected_users > 0
        # Exact at once: the ratings, pair sums, neighbours and ranking weights; the
        # deferred tables as they were, and marked stale with the ratings added since.
        exact = ("ratings", "item_pair_sums", "user_pair_sums", "item_neighbors", "item_weights")
        for name in exact:
            pd.testing.assert_frame_equal(_table(rec, name), _table(full, name), obj=name)
        for name, before in deferred.items():
            again = rec.sql(f"select * from {name} order by all")  # noqa: S608
            pd.testing.assert_frame_equal(again, before, obj=name)
        rows = _freshness(rec)
        assert list(rows["table_name"]) == sorted([*DEFERRED, "item_weights"])
        stale = rows[rows["table_name"] != "item_weights"]
        assert stale["is_stale"].all() and (stale["ratings_added_since"] == 2).all()
        assert stale["stale_since"].notna().all()
        weights = rows[rows["table_name"] == "item_weights"].iloc[0]
        assert not weights["is_stale"] and weights["ratings_added_since"] == 0
        rec.refresh()
        assert not _freshness(rec)["is_stale"].any()
        assert (_freshness(rec)["ratings_added_since"] == 0).all()
        _assert_same(rec, full)


def _freshness(rec: Recommender) -> pd.DataFrame:
    return rec.sql("select * from freshness order by table_name")


def _two_additions(tmp_path: Path) -> tuple[Path, Path]:
    """The tiny data without its last three ratings in ``tmp_path / "base"``, and those
    three as two files to add: the first rating, then the other two."""
    n = len(pd.read_csv(TINY / "ratings.csv"))
    first = _split(TINY, tmp_path / "base", np.arange(n) >= n - 3)
    second = tmp_path / "second.csv"
    rows = pd.read_csv(first, dtype=str)
    rows.iloc[:1].to_csv(first, index=False)
    rows.iloc[1:].to_csv(second, index=False)
    return first, second


def test_deferred_weights_stay_as_they_were_until_the_refresh(tmp_path: Path) -> None:
    """add-ratings with defer_weights leaves item_weights as the base build computed it
    and marks it stale; a second add-ratings, even without the flag, keeps it stale (a
    patch of its rows would not be exact); the refresh recomputes it: a full rebuild."""
    first, second = _two_additions(tmp_path)
    with Recommender(":memory:") as rec, Recommender(":memory:") as full:
        rec.build(tmp_path / "base", TINY_PARAMS)
        before = _table(rec, "item_weights")
        deferred = rec.add_ratings(first, defer_weights=True)
        pd.testing.assert_frame_equal(_table(rec, "item_weights"), before)
        rec.add_ratings(second)
        pd.testing.assert_frame_equal(_table(rec, "item_weights"), before)
        # The reports list the steps that ran: not the deferred weights.
        assert "item_weights" not in deferred.seconds and "item_neighbors" in deferred.seconds
        weights = _freshness(rec).set_index("table_name").loc["item_weights"]
        assert weights["is_stale"] and weights["ratings_added_since"] == 3
        assert "item_weights" in rec.refresh()
        assert not _freshness(rec)["is_stale"].any()
        assert "item_weights" not in rec.refresh()
        full.build(TINY, TINY_PARAMS)
        assert not _table(rec, "item_weights").equals(before)
        _assert_same(rec, full)


def test_staleness_adds_up_until_a_refresh(tmp_path: Path) -> None:
    """Two add-ratings count every rating added and keep the first stale time; the CLI's
    refresh (and add-ratings --refresh) leave nothing stale."""
    first, second = _two_additions(tmp_path)
    db = tmp_path / "recsys.duckdb"
    runner = CliRunner()
    done = runner.invoke(cli, ["--db", str(db), "build", "--data", str(tmp_path / "base")])
    assert done.exit_code == 0, done.output
    # --defer-weights: item_weights stale too, and it stays so at the second add-ratings.
    added = runner.invoke(cli, ["--db", str(db), "add-ratings", str(first), "--defer-weights"])
    assert added.exit_code == 0, added.output
    with Recommender(db, read_only=True) as rec:
        once = _freshness(rec)
    assert runner.invoke(cli, ["--db", str(db), "add-ratings", str(second)]).exit_code == 0
    with Recommender(db, read_only=True) as rec:
        twice = _freshness(rec)
    assert (once["ratings_added_since"] == 1).all() and (twice["ratings_added_since"] == 3).all()
    assert (twice["stale_since"] == once["stale_since"]).all()
    refreshed = runner.invoke(cli, ["--db", str(db), "refresh"])
    assert refreshed.exit_code == 0, refreshed.output
    assert "recommendations" in refreshed.output
    with Recommender(db, read_only=True) as rec:
        assert not _freshness(rec)["is_stale"].any()
        assert (_freshness(rec)["computed_at"] > twice["stale_since"]).all()


def test_already_rated_pair_is_refused_and_nothing_changes(tmp_path: Path) -> None:
    db = tmp_path / "recsys.duckdb"
    with Recommender(db) as rec:
        rec.build(TINY, TINY_PARAMS)
        before = {name: _table(rec, name) for name in EXACT}
        bad = tmp_path / "new.csv"
        bad.write_text("userId,movieId,rating,timestamp\n9,1,4.0,2000\n1,2,4.5,2001\n")
        with pytest.raises(DataError) as caught:
            rec.add_ratings(bad)
        message = str(caught.value)
        assert "new.csv" in message and "line 3" in message and "userId,movieId" in message
        assert "already rated movie 2" in message
        for name, frame in before.items():
            pd.testing.assert_frame_equal(_table(rec, name), frame, check_exact=True)


def test_bad_rating_names_file_line_and_column(tmp_path: Path) -> None:
    with Recommender(":memory:") as rec:
        rec.build(TINY, TINY_PARAMS)
        n_before = rec.sql("select count(*) as n from ratings").n[0]
        bad = tmp_path / "new.csv"
        bad.write_text("userId,movieId,rating,timestamp\n9,1,4.0,2000\n9,2,4.2,2001\n")
        with pytest.raises(DataError, match=r"new\.csv.*line 3.*rating.*half-star"):
            rec.add_ratings(bad)
        assert rec.sql("select count(*) as n from ratings").n[0] == n_before
        assert rec.sql("select count(*) as n from duckdb_tables() where temporary").n[0] == 0


def test_cli_add_ratings(tmp_path: Path) -> None:
    n = len(pd.read_csv(TINY / "ratings.csv"))
    added = _split(TINY, tmp_path / "base", np.arange(n) >= n - 2)
    db = tmp_path / "recsys.duckdb"
    runner = CliRunner()
    built = runner.invoke(cli, ["--db", str(db), "build", "--data", str(tmp_path / "base")])
    assert built.exit_code == 0, built.output
    result = runner.invoke(cli, ["--db", str(db), "add-ratings", str(added), "--refresh"])
    assert result.exit_code == 0, result.output
    assert "item_neighbors" in result.output and "refresh: recommendations" in result.output
    with Recommender(db, read_only=True) as rec:
        assert rec.sql("select count(*) as n from ratings").n[0] == n
    again = runner.invoke(cli, ["--db", str(db), "add-ratings", str(added)])
    assert again.exit_code == 1
    assert "already rated" in again.output


@pytest.mark.slow
def test_one_percent_of_ml_latest_small_equals_rebuild(
    ml_small_dir: Path, small: Recommender, tmp_path: Path
) -> None:
    """1% of ml-latest-small's ratings, drawn with a fixed seed, added to a build on the
    other 99%: every table equal to a build on all of them (``small``), bit for bit."""
    n = len(pd.read_csv(ml_small_dir / "ratings.csv", usecols=["userId"]))
    new = np.random.default_rng(7).random(n) < 0.01
    added = _split(ml_small_dir, tmp_path / "base", new)
    # A file, whose build commits as it goes (3x faster for the item_ridge steps than one
    # transaction in memory); add-ratings writes in place, in one transaction, as ever.
    with Recommender(tmp_path / "rec.duckdb") as rec:
        rec.build(tmp_path / "base")
        report = rec.add_ratings(added, refresh=True)
        full = small
        assert not _freshness(rec)["is_stale"].any()
        # Most movies paired with a re-rated one were patched, not ranked again in full.
        n_movies = rec.sql("select count(distinct movie_id) as n from ratings")["n"][0]
        print(f"item neighbours ranked again: {report.affected_movies} of {n_movies}")
        assert report.affected_movies < n_movies / 2
        assert report.n_ratings == int(new.sum()) > 900
        _assert_same(rec, full)


def test_item_only_build_stays_item_only(tmp_path: Path) -> None:
    """A build of the item neighbours alone (what 10M ratings and more call for) leaves
    the user and content tables empty, refuses their recommenders with advice, and
    add-ratings maintains the item side only, equal to a rebuild."""
    item_only = BuildParams(**{**TINY_PARAMS.__dict__, "neighbors": ("item",)})
    n = len(pd.read_csv(TINY / "ratings.csv"))
    added = _split(TINY, tmp_path / "base", np.arange(n) % 3 == 0)
    with Recommender(":memory:") as rec, Recommender(":memory:") as full:
        built = rec.build(tmp_path / "base", item_only)
        # neither the TF-IDF nor the content neighbours step runs
        assert not {"movie_terms", "content_neighbors"} & set(built.seconds)
        report = rec.add_ratings(added, refresh=True)
        full.build(TINY, item_only)
        assert report.affected_movies > 0 and report.affected_users == 0
        for name in ("user_pair_sums", "user_neighbors", "content_neighbors", "movie_terms"):
            assert rec.sql(f"select count(*) as n from {name}").n[0] == 0, name  # noqa: S608
        for name in ("ratings", "item_pair_sums", "item_neighbors"):
            a, b = _table(rec, name), _table(full, name)
            assert len(a) > 0
            pd.testing.assert_frame_equal(a, b, check_exact=True, obj=name)
        assert len(rec.recommend(1, method="item", k=2)) > 0
        for method in ("user", "content"):
            with pytest.raises(RecsysError, match=f"the {method} neighbours were not built"):
                rec.recommend(1, method=method, k=2)
        with pytest.raises(RecsysError, match="content neighbours were not built"):
            rec.similar(1, method="content")
        # The default evaluation leaves the unbuilt methods out; asking for one is refused.
        result = rec.evaluate("holdout", test_fraction=0.5)
        assert set(result.rating["method"]) >= {"item_based", "baseline_only"}
        assert not {"user_based", "content_based"} & set(result.rating["method"])
        with pytest.raises(ValueError, match=r"neighbours of \['user_based'\] were not built"):
            rec.evaluate("holdout", models=["user_based", "item_based"])


def test_unknown_neighbor_kind_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "--db",
            str(tmp_path / "x.duckdb"),
            "build",
            "--data",
            str(TINY),
            "--neighbors",
            "item,users",
        ],
    )
    assert result.exit_code == 1
    assert "unknown neighbour kind(s) ['users']" in result.output
    assert not (tmp_path / "x.duckdb").exists()


def test_the_first_error_is_the_one_raised(tmp_path: Path) -> None:
    """Regression: a statement failing inside add-ratings' transaction was hidden behind
    "Current transaction is aborted", raised by a cleanup that ran in that transaction
    (here DuckDB runs out of memory reading the file)."""
    path = tmp_path / "tiny.duckdb"
    with Recommender(path) as rec:
        rec.build(TINY, TINY_PARAMS)
    before = path.read_bytes()
    new = tmp_path / "new.csv"
    new.write_text("userId,movieId,rating,timestamp\n9,1,4.0,1000\n")
    with Recommender(path, memory_limit="1MB") as rec:
        with pytest.raises(DataError) as caught:
            rec.add_ratings(new)
    assert "transaction is aborted" not in str(caught.value)
    assert "ran out of memory" in str(caught.value) and "raise --memory-limit" in str(caught.value)
    assert path.read_bytes() == before


@pytest.mark.parametrize("user_id", ["5000000", "2147483647", "-1"])
def test_new_ratings_are_checked_for_the_id_range_as_a_build_checks(
    tiny: Recommender, tmp_path: Path, user_id: str
) -> None:
    """Regression: user 5,000,000 entered user_neighbors with an overflowing packed key."""
    new = tmp_path / "new.csv"
    new.write_text(f"userId,movieId,rating,timestamp\n{user_id},1,4.0,1000\n")
    before = tiny.sql("select count(*) as n from ratings").n[0]
    with pytest.raises(DataError, match=f"userId {user_id} is outside 0..4,194,303") as caught:
        tiny.add_ratings(new)
    assert (caught.value.line, caught.value.column) == (2, "userId")
    assert tiny.sql("select count(*) as n from ratings").n[0] == before


def test_a_new_rating_of_an_unknown_movie_says_where_movies_come_from(
    tiny: Recommender, tmp_path: Path
) -> None:
    new = tmp_path / "new.csv"
    new.write_text("userId,movieId,rating,timestamp\n1,999,4.0,1000\n")
    with pytest.raises(DataError, match="movieId 999 is not in the database's movies table"):
        tiny.add_ratings(new)
