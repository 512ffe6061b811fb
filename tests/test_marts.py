"""The recommendations mart stored in batches of users (the plan's batched step,
recsys_duck.pipeline.fill_in_batches) equals the mart stored in one batch: each user's
ranking lies within one batch."""

from __future__ import annotations

import pandas as pd
import pytest

from recsys_duck import Recommender, pipeline
from recsys_duck.params import FOUNDATION_METHODS
from recsys_duck.sql import part_file

STORED = "select * from recommendations order by method, user_id, rank"
DEFAULT_ROWS = pipeline.MART_BATCH_ROWS

# The ranking methods of the default ranking_models rows.
RANKING = ("item_knn", "item_ridge", "rp3beta")


@pytest.mark.parametrize("size", ["one user", "a third", "default"])
def test_batches_equal_one_batch(tiny: Recommender, size: str) -> None:
    # The build stored the tiny dataset's few ratings in one batch.
    expected = tiny.sql(STORED)
    assert len(expected) > 0
    assert set(expected["method"]) == {*FOUNDATION_METHODS, *RANKING}
    tiny.sql("delete from recommendations")
    # A user's work (recommendations.work.sql) is at least 1: batches of 1 hold one user.
    tiny.sql(part_file("recommendations", "work").read_text())
    total = tiny.sql("select sum(work) as w from _recsys_batch_work").w[0]
    work = {"one user": 1, "a third": total / 3, "default": DEFAULT_ROWS}[size]
    n_batches = pipeline.fill_in_batches(tiny.con, "recommendations", work)
    n_users = tiny.sql("select count(distinct user_id) as n from ratings").n[0]
    assert n_batches == {"one user": n_users, "default": 1}.get(size, n_batches)
    assert 1 < n_batches < n_users or size != "a third"
    pd.testing.assert_frame_equal(tiny.sql(STORED), expected)
    # Within a batch, rows are stored by method, user and rank.
    order = tiny.sql("select method, user_id, rank from recommendations")
    if n_batches == 1:
        assert order.equals(order.sort_values(["method", "user_id", "rank"], ignore_index=True))


def test_batches_cover_every_user_once(tiny: Recommender) -> None:
    tiny.sql("delete from recommendations")
    pipeline.fill_in_batches(tiny.con, "recommendations", 3)
    counts = tiny.sql(
        "select method, user_id, count(*) as n, count(distinct rank) as ranks "
        "from recommendations group by all"
    )
    assert (counts.n == counts.ranks).all()
    assert (
        counts.groupby("method")
        .user_id.nunique()
        .eq(tiny.sql("select count(distinct user_id) as n from ratings").n[0])
        .all()
    )
