"""The recommendations mart stored in batches of users (the plan's batched step,
recsys_duck.pipeline.fill_in_batches) equals the mart stored in one batch: each user's
ranking lies within one batch."""

from __future__ import annotations

import pandas as pd
import pytest

from recsys_duck import Recommender, pipeline
from recsys_duck.params import FOUNDATION_METHODS

STORED = "select * from recommendations order by method, user_id, rank"
DEFAULT_RATINGS = pipeline.MART_BATCH_RATINGS

# The ranking methods of the default ranking_models rows.
RANKING = ("item_knn", "item_ridge", "rp3beta")


@pytest.mark.parametrize("batch_ratings", [1, 3, DEFAULT_RATINGS])
def test_batches_equal_one_batch(tiny: Recommender, batch_ratings: int) -> None:
    # The build stored the tiny dataset's few ratings in one batch.
    expected = tiny.sql(STORED)
    assert len(expected) > 0
    assert set(expected["method"]) == {*FOUNDATION_METHODS, *RANKING}
    tiny.sql("delete from recommendations")
    n_batches = pipeline.fill_in_batches(tiny.con, "recommendations", batch_ratings)
    n_users = tiny.sql("select count(distinct user_id) as n from ratings").n[0]
    # One user per batch, a few users per batch, all users in one batch.
    assert n_batches == {1: n_users, DEFAULT_RATINGS: 1}.get(batch_ratings, n_batches)
    assert 1 < n_batches < n_users or batch_ratings != 3
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
