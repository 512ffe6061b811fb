"""Content neighbours computed in batches (recsys_duck.pipeline.fill_in_batches) equal
the ranking of one statement over every pair of content_similarity."""

from __future__ import annotations

import pandas as pd
import pytest

from recsys_duck import Recommender, pipeline

# The definition the batches must reproduce: every movie's top k by rank_key at once.
ONE_STATEMENT = """
    select movie_id, neighbor_id, similarity, n_common, rank
    from (
        select s.movie_id, s.neighbor_id, s.similarity, s.n_common,
            row_number() over (partition by s.movie_id order by s.rank_key desc) as rank
        from content_similarity as s
    )
    where rank <= (select neighbors_k from recsys_params)
    order by movie_id, rank"""
STORED = "select * from content_neighbors order by movie_id, rank"
DEFAULT_ROWS = pipeline.CONTENT_BATCH_ROWS


@pytest.mark.parametrize("batch_rows", [1, 7, DEFAULT_ROWS])
def test_batches_equal_one_statement(tiny: Recommender, batch_rows: int) -> None:
    expected = tiny.sql(ONE_STATEMENT)
    assert len(expected) > 0
    tiny.sql("delete from content_neighbors")
    n_batches = pipeline.fill_in_batches(tiny.con, "content_neighbors", batch_rows)
    n_movies = tiny.sql("select count(distinct movie_id) as n from content_features").n[0]
    # One movie per batch, a few movies per batch, all movies in one batch.
    assert n_batches == {1: n_movies, DEFAULT_ROWS: 1}.get(batch_rows, n_batches)
    assert 1 < n_batches < n_movies or batch_rows != 7
    found = tiny.sql(STORED)
    pd.testing.assert_frame_equal(found, expected, check_dtype=False, rtol=1e-12)
    # Stored rank-major, as item_neighbors: the order the serving scans rely on.
    order = tiny.sql("select rank, movie_id from content_neighbors")
    assert order.equals(order.sort_values(["rank", "movie_id"], ignore_index=True))


def test_setting_restored_and_nothing_left(tiny: Recommender) -> None:
    before = tiny.sql("select current_setting('perfect_ht_threshold') as t").t[0]
    tiny.sql("delete from content_neighbors")
    pipeline.fill_in_batches(tiny.con, "content_neighbors", DEFAULT_ROWS)
    assert tiny.sql("select current_setting('perfect_ht_threshold') as t").t[0] == before
    temporaries = tiny.sql("select count(*) as n from duckdb_tables() where temporary").n[0]
    assert temporaries == 0
