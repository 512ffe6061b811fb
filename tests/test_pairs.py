"""The batched pair sums of recsys_duck.pairs: exact whatever the batches, and the id
range the neighbour tables' rank key needs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from recsys_duck import pairs
from recsys_duck.errors import RecsysError

# The pair sums as one plain statement: the definition the batches must reproduce.
ONE_STATEMENT = {
    "item": """
        select a.movie_id, b.movie_id as neighbor_id, count(*) as n_common,
            sum(a.rating * b.rating) as dot_product
        from ratings as a join ratings as b on a.user_id = b.user_id and a.movie_id < b.movie_id
        group by all order by all""",
    "user": """
        select a.user_id, b.user_id as neighbor_id, count(*) as n_common,
            sum(a.rating * b.rating) as dot_product
        from ratings as a join ratings as b on a.movie_id = b.movie_id and a.user_id < b.user_id
        group by all order by all""",
}


def _ratings_con(csv: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    con.execute(
        "create table ratings as select userId::integer as user_id, movieId::integer as movie_id, "
        "rating::double as rating from read_csv(?)",
        [str(csv)],
    )
    return con


@pytest.fixture(scope="module")
def real(ml_small_dir: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = _ratings_con(ml_small_dir / "ratings.csv")
    yield con
    con.close()


def _stored(con: duckdb.DuckDBPyConnection, side: str) -> pd.DataFrame:
    table = {"item": "item_pair_sums", "user": "user_pair_sums"}[side]
    return con.execute(f"select * from {table} order by all").df()  # noqa: S608


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["auto", "dense", "sparse"])
def test_batches_equal_one_statement_bit_for_bit(
    real: duckdb.DuckDBPyConnection, mode: pairs.Mode
) -> None:
    """On ml-latest-small, every kind of batches gives exactly (==, not approximately) the
    sums of one unbatched GROUP BY: half-star products add up exactly in any order."""
    n_batches = pairs.compute(real, mode=mode)
    assert n_batches["item"] > 1
    for side in pairs.SIDES:
        expected = real.execute(ONE_STATEMENT[side]).df()
        found = _stored(real, side)
        assert len(found) == len(expected) > 0
        pd.testing.assert_frame_equal(found, expected, check_exact=True, check_dtype=False)


@pytest.mark.slow
def test_scratch_staging_equals_one_statement_bit_for_bit(
    real: duckdb.DuckDBPyConnection, caplog: pytest.LogCaptureFixture
) -> None:
    """With ``autocommit`` the 100,836 ml-latest-small ratings are staged in a scratch
    file of small row groups (so both threads scan them); the sums stay exact."""
    with caplog.at_level("INFO", logger="recsys_duck.pairs"):
        pairs.compute(real, autocommit=True)
    assert "100836 ratings staged in row groups of" in caplog.text
    for side in pairs.SIDES:
        expected = real.execute(ONE_STATEMENT[side]).df()
        pd.testing.assert_frame_equal(
            _stored(real, side), expected, check_exact=True, check_dtype=False
        )


def test_scratch_staging_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    csv = tmp_path / "ratings.csv"
    csv.write_text("userId,movieId,rating\n1,1,4.0\n1,2,3.5\n2,1,5.0\n2,2,1.0\n2,3,2.0\n")
    con = _ratings_con(csv)
    expected = {side: con.execute(ONE_STATEMENT[side]).fetchall() for side in pairs.SIDES}
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(scratch))
    with caplog.at_level("INFO", logger="recsys_duck.pairs"):
        pairs.compute(con, autocommit=True)
    assert "5 ratings staged in row groups of 2048 rows" in caplog.text
    for side in pairs.SIDES:
        assert _stored(con, side).values.tolist() == [list(row) for row in expected[side]]
    databases = con.execute("select database_name from duckdb_databases() where not internal")
    assert databases.fetchall() == [("memory",)]
    assert con.execute("select count(*) from duckdb_tables() where temporary").fetchone() == (0,)
    views = con.execute("select count(*) from duckdb_views() where temporary and not internal")
    assert views.fetchone() == (0,)
    assert list(scratch.iterdir()) == []


def test_the_setting_it_raises_is_restored(tmp_path: Path) -> None:
    csv = tmp_path / "ratings.csv"
    csv.write_text("userId,movieId,rating\n1,1,4.0\n1,2,3.5\n2,1,5.0\n2,2,1.0\n2,3,2.0\n")
    con = _ratings_con(csv)
    before = con.execute("select current_setting('perfect_ht_threshold')").fetchone()
    assert pairs.compute(con, mode="dense") == {"item": 1, "user": 1}
    assert con.execute("select current_setting('perfect_ht_threshold')").fetchone() == before
    # Worked by hand: movies 1 and 2 share users 1 and 2: 4.0*3.5 + 5.0*1.0 = 19.
    assert con.execute("select * from item_pair_sums order by all").fetchall() == [
        (1, 2, 2, 19.0),
        (1, 3, 1, 10.0),
        (2, 3, 1, 2.0),
    ]
    assert con.execute("select * from user_pair_sums").fetchall() == [(1, 2, 2, 23.5)]
    temporaries = con.execute("select count(*) from duckdb_tables() where temporary").fetchone()
    assert temporaries == (0,)


@pytest.mark.parametrize("user_id, movie_id", [(2**22, 1), (1, 2**22), (-1, 1)])
def test_ids_outside_the_rank_key_range_are_refused(
    tmp_path: Path, user_id: int, movie_id: int
) -> None:
    csv = tmp_path / "ratings.csv"
    csv.write_text(f"userId,movieId,rating\n{user_id},{movie_id},4.0\n1,5,3.0\n")
    con = _ratings_con(csv)
    with pytest.raises(RecsysError, match="ids must lie in 0 .. 4,194,303"):
        pairs.compute(con)
    assert con.execute("select count(*) from duckdb_tables() where temporary").fetchone() == (0,)


def test_memory_limit_reads_back_in_bytes_never_above_the_limit() -> None:
    con = duckdb.connect(":memory:", config={"memory_limit": "8GB"})
    assert int(7.4 * 2**30) <= pairs.memory_limit_bytes(con) <= 8e9
    con.execute("set memory_limit = '1GB'")
    assert int(953.6 * 2**20) <= pairs.memory_limit_bytes(con) <= 1e9


@pytest.mark.parametrize("configured", ["1GB", None])
def test_dense_sides_make_room_for_their_arrays_and_put_the_limit_back(
    tmp_path: Path, configured: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    """DuckDB's perfect-hash arrays live outside memory_limit: while a dense side runs, the
    limit is lowered by threads + 1 arrays of 25-byte slots, which take at most a quarter
    of it; then it is set back to the configured value (or DuckDB's default)."""
    csv = tmp_path / "ratings.csv"
    csv.write_text("userId,movieId,rating\n1,1,4.0\n1,2,3.5\n2,1,5.0\n2,2,1.0\n2,3,2.0\n")
    config: dict[str, str | bool | int | float | list[str]] = {"threads": 2}
    if configured is not None:
        config["memory_limit"] = configured
    con = duckdb.connect(":memory:", config=config)
    con.execute(
        "create table ratings as select userId::integer as user_id, movieId::integer as "
        "movie_id, rating::double as rating from read_csv(?)",
        [str(csv)],
    )
    before = con.execute("select current_setting('memory_limit')").fetchone()
    limit = pairs.memory_limit_bytes(con)
    with pairs.memory_for_arrays(con, configured) as bits:
        during = pairs.memory_limit_bytes(con)
    reserved = 3 * pairs.ARRAY_SLOT_BYTES * 2**bits
    assert reserved <= limit / 4 < 2 * reserved or bits == pairs.PERFECT_HASH_BITS
    if configured == "1GB":
        # 953.6 MiB: a quarter holds 3 arrays of 2^21 slots (150 MiB), not of 2^22.
        assert bits == 21
    # It reads back rounded down to a tenth of its unit (0.1 GiB for the default).
    assert limit - reserved - 2**30 / 10 <= during <= limit - reserved
    assert con.execute("select current_setting('memory_limit')").fetchone() == before

    with caplog.at_level("INFO", logger="recsys_duck.pairs"):
        pairs.compute(con, mode="dense", memory_limit=configured)
    assert "memory_limit" in caplog.text and "meanwhile" in caplog.text
    assert con.execute("select current_setting('memory_limit')").fetchone() == before
    assert con.execute("select * from user_pair_sums").fetchall() == [(1, 2, 2, 23.5)]

    with pytest.raises(ZeroDivisionError), pairs.memory_for_arrays(con, configured):
        _ = 1 / 0
    assert con.execute("select current_setting('memory_limit')").fetchone() == before
