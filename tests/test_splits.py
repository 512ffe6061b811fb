"""The split views of sql/70_evaluation (holdout, temporal, leave-last-out, k-fold):
their rules on the tiny data, and equality with an independent implementation."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from recsys_duck import Recommender
from tests.conftest import insert_rows, metrics_db


def reference_kfold(frame: pd.DataFrame, seed: int, n_folds: int) -> dict[tuple[int, int], int]:
    """The k-fold rule written independently: sort by (md5, user, movie), cut in chunks."""
    keys = sorted(
        (hashlib.md5(f"{seed}:{u}:{m}".encode()).hexdigest(), u, m)  # noqa: S324 (not security)
        for u, m in zip(frame["user_id"], frame["movie_id"], strict=True)
    )
    n = len(keys)
    return {(u, m): 1 + (rn * n_folds) // n for rn, (_, u, m) in enumerate(keys)}


def folds_of(rec: Recommender) -> dict[tuple[int, int], int]:
    rows = rec.sql("select user_id, movie_id, fold from kfold_split")
    return {(int(u), int(m)): int(f) for u, m, f in rows.itertuples(index=False, name=None)}


def test_kfold_split_rules_on_tiny(tiny: Recommender) -> None:
    ratings = tiny.sql("select user_id, movie_id from ratings")
    pairs = {(int(u), int(m)) for u, m in ratings.itertuples(index=False, name=None)}
    assert tiny.sql("select n_folds, seed from recsys_params").iloc[0].tolist() == [5, 42]
    for n_folds in (2, 3, 5, 7):
        tiny.sql("update recsys_params set n_folds = ?", [n_folds])
        rows = tiny.sql("select user_id, movie_id, fold from kfold_split")
        # every rating in exactly one fold
        assert len(rows) == len(ratings) == 7
        assert {(int(u), int(m)) for u, m in zip(rows.user_id, rows.movie_id, strict=True)} == pairs
        # folds 1..n_folds, each non-empty here (7 ratings), sizes differing by at most 1
        sizes = rows["fold"].value_counts()
        assert sorted(sizes.index) == list(range(1, n_folds + 1))
        assert sizes.max() - sizes.min() <= 1
        assert folds_of(tiny) == reference_kfold(ratings, 42, n_folds)
    # 7 ratings in 5 folds: rn = 1..7 -> 1 + floor((rn - 1) * 5 / 7) = 1,1,2,3,3,4,5
    tiny.sql("update recsys_params set n_folds = 5")
    assert sorted(folds_of(tiny).values()) == [1, 1, 2, 3, 3, 4, 5]
    # the same seed gives the same folds, another seed other folds
    first = folds_of(tiny)
    assert folds_of(tiny) == first
    tiny.sql("update recsys_params set seed = 7")
    other = folds_of(tiny)
    assert other != first
    assert other == reference_kfold(ratings, 7, 5)
    tiny.sql("update recsys_params set seed = 42")
    assert folds_of(tiny) == first


def test_leave_last_out_split_rules_on_tiny(tiny: Recommender) -> None:
    def test_pairs() -> list[tuple[int, int]]:
        rows = tiny.sql(
            "select user_id, movie_id from leave_last_out_split where is_test order by all"
        )
        return [(int(u), int(m)) for u, m in rows.itertuples(index=False, name=None)]

    # each tiny user's latest rating (timestamps 1001, 1003 and 1006)
    assert test_pairs() == [(1, 2), (2, 3), (3, 4)]
    assert len(tiny.sql("select * from leave_last_out_split")) == 7
    # user 4 has one rating: all train. User 5 rated movies 1 and 3 at the same instant
    # and movie 2 earlier: the larger movie_id, 3, counts as the latest.
    tiny.sql(
        "insert into ratings values (4, 1, 3.0, timestamp '2001-01-01'), "
        "(5, 1, 4.0, timestamp '2001-01-02'), (5, 3, 2.0, timestamp '2001-01-02'), "
        "(5, 2, 5.0, timestamp '2001-01-01')"
    )
    assert test_pairs() == [(1, 2), (2, 3), (3, 4), (5, 3)]


def reference_leave_last_out(frame: pd.DataFrame) -> set[tuple[int, int]]:
    """The leave-last-out rule written independently with pandas."""
    ordered = frame.sort_values(["user_id", "rated_at", "movie_id"])
    sizes = ordered.groupby("user_id")["movie_id"].transform("size")
    last = ordered[sizes >= 2].groupby("user_id").tail(1)
    return {(int(u), int(m)) for u, m in zip(last.user_id, last.movie_id, strict=True)}


@settings(max_examples=30, deadline=None)
@given(
    st.dictionaries(
        st.tuples(st.integers(1, 8), st.integers(1, 15)),
        st.integers(0, 4),  # few distinct timestamps: many ties
        min_size=1,
        max_size=60,
    ),
    st.integers(min_value=0, max_value=2**31 - 1),
    st.integers(min_value=1, max_value=7),
)
def test_split_views_equal_reference(
    ratings: dict[tuple[int, int], int], seed: int, n_folds: int
) -> None:
    frame = pd.DataFrame(
        [
            (u, m, 3.0, pd.Timestamp("2000-01-01") + pd.Timedelta(days=d))
            for (u, m), d in ratings.items()
        ],
        columns=["user_id", "movie_id", "rating", "rated_at"],
    )
    con = metrics_db()
    con.execute("update recsys_params set seed = ?, n_folds = ?", [seed, n_folds])
    insert_rows(con, "ratings", frame.to_dict("records"))
    folds = {
        (u, m): f
        for u, m, f in con.execute("select user_id, movie_id, fold from kfold_split").fetchall()
    }
    assert len(folds) == len(frame)  # every rating once
    assert folds == reference_kfold(frame, seed, n_folds)
    sizes = np.bincount(list(folds.values()), minlength=n_folds + 1)[1:]
    assert sizes.sum() == len(frame) and sizes.max() - sizes.min() <= 1
    test = con.execute("select user_id, movie_id from leave_last_out_split where is_test")
    assert set(test.fetchall()) == reference_leave_last_out(frame)
    per_user = frame.groupby("user_id").size()
    assert con.execute("select count(*) from leave_last_out_split where is_test").fetchone() == (
        int((per_user >= 2).sum()),
    )
    con.close()
