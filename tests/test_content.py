"""Content neighbours by content profile (sql/40_neighbors/content_neighbors.batch.sql):
the batches equal one ranking over every pair of content_similarity; a hand-worked
expansion of profiles to movies; and, on ml-latest-small, the stored table equals the
movie-pair formulation it replaced and a dense numpy computation, row for row."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recsys_duck import Recommender, evaluation, pipeline
from tests.conftest import TINY, TINY_PARAMS

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

# The movie-pair formulation that content profiles replaced (content_similarity.sql and
# content_neighbors.batch.sql before them): every pair of distinct movies sharing a
# feature is joined and summed, then each movie's top k is ranked. Run for a range of
# movie_ids at a time, as the old batches did (ml-latest-small: 47M pairs).
MOVIE_PAIRS = """
    with norms as (
        select movie_id, sqrt(sum(value * value)) as feature_norm
        from content_features
        group by movie_id
    ),
    ordered_pairs as (
        select
            a.movie_id as movie_id,
            b.movie_id as neighbor_id,
            count(*) as n_common,
            sum(a.value * b.value) as dot_product
        from content_features as a
        inner join content_features as b
            on a.feature = b.feature
            and a.movie_id <> b.movie_id
        group by a.movie_id, b.movie_id
    ),
    similarities as (
        select
            p.movie_id,
            p.neighbor_id,
            p.n_common,
            least(p.dot_product / nullif(na.feature_norm * nb.feature_norm, 0), 1.0) as similarity
        from ordered_pairs as p
        inner join norms as na on na.movie_id = p.movie_id
        inner join norms as nb on nb.movie_id = p.neighbor_id
    ),
    ranked as (
        select
            s.movie_id,
            s.neighbor_id,
            s.similarity,
            s.n_common,
            row_number() over (
                partition by s.movie_id
                order by cast(round(s.similarity * 1e12) as bigint) * 4194304 - s.neighbor_id desc
            ) as rank
        from similarities as s
        where s.movie_id >= $lo and s.movie_id < $hi
    )
    select movie_id, neighbor_id, similarity, n_common, rank
    from ranked
    where rank <= $k
    order by movie_id, rank"""


@pytest.mark.parametrize("batch_rows", [1, 7, DEFAULT_ROWS])
def test_batches_equal_one_statement(tiny: Recommender, batch_rows: int) -> None:
    expected = tiny.sql(ONE_STATEMENT)
    assert len(expected) > 0
    tiny.sql("delete from content_neighbors")
    n_batches = pipeline.fill_in_batches(tiny.con, "content_neighbors", batch_rows)
    n_profiles = tiny.sql("select count(distinct profile_id) as n from content_profiles").n[0]
    # One profile per batch, a few profiles per batch, all profiles in one batch.
    assert n_batches == {1: n_profiles, DEFAULT_ROWS: 1}.get(batch_rows, n_batches)
    assert 1 < n_batches < n_profiles or batch_rows != 7
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


# -- a hand-worked expansion ------------------------------------------------------------

# Genre vectors over the terms a, b, c (weight 1 each; content_features scales them by
# 0.6, which a cosine does not see):
#   A = (1, 0, 0): movies 1, 4, 7, 8, 9 (one profile of five movies, profile_id 1)
#   B = (1, 1, 0): movie 2      C = (0, 1, 0): movie 3
#   D = (1, 0, 1): movie 5      E = (0, 0, 1): movie 6
# cos(A, A) = 1; cos(A, B) = cos(A, D) = cos(B, C) = cos(D, E) = 1 / sqrt(2);
# cos(B, D) = 1 / 2; A-C, A-E, B-E, C-D, C-E share no term (no pair).
HAND_TERMS = {1: "a", 4: "a", 7: "a", 8: "a", 9: "a", 2: "a b", 3: "b", 5: "a c", 6: "c"}
R = 1 / np.sqrt(2)
# k = 3 (the tiny fixture). (movie_id, rank) -> (neighbor_id, similarity):
HAND_NEIGHBORS = {
    # A's movies tie at 1 with the rest of their profile: the smaller ids first, itself out.
    1: [(4, 1.0), (7, 1.0), (8, 1.0)],
    4: [(1, 1.0), (7, 1.0), (8, 1.0)],
    9: [(1, 1.0), (4, 1.0), (7, 1.0)],
    # B: 1/sqrt(2) to profile A (1, 4, 7, ...) and to C (3): tied profiles interleave by
    # movie_id, 1, 3, 4; D's movie 5 at 1/2 comes after k.
    2: [(1, R), (3, R), (4, R)],
    3: [(2, R)],
    # D: 1/sqrt(2) to A's movies and to E's movie 6: 1, 4, 6 (A's 7, 8, 9 come later).
    5: [(1, R), (4, R), (6, R)],
    6: [(5, R)],
}


def test_profiles_expand_to_movies_by_hand(tiny: Recommender) -> None:
    tiny.sql("delete from movie_tag_terms")
    tiny.sql("delete from movie_terms")
    for movie_id, terms in HAND_TERMS.items():
        for term in terms.split():
            tiny.con.execute("insert into movie_terms values (?, ?, 1.0)", [movie_id, term])
    pipeline.run(tiny.con, pipeline.neighbor_scope("content"))

    profiles = tiny.sql("select * from content_profiles order by movie_id")
    assert profiles.profile_id.tolist() == [1, 2, 3, 1, 5, 6, 1, 1, 1]
    assert profiles.member_rank.tolist() == [1, 1, 1, 2, 1, 1, 3, 4, 5]
    assert profiles.n_members.tolist() == [5, 1, 1, 5, 1, 1, 5, 5, 5]

    stored = tiny.sql(STORED)
    expected = [
        (movie_id, rank, neighbor_id)
        for movie_id, neighbors in HAND_NEIGHBORS.items()
        for rank, (neighbor_id, _) in enumerate(neighbors, start=1)
    ]
    got = list(zip(stored.movie_id, stored["rank"], stored.neighbor_id, strict=True))
    assert sorted(got) == sorted(
        [*expected, (7, 1, 1), (7, 2, 4), (7, 3, 8), (8, 1, 1), (8, 2, 4), (8, 3, 7)]
    )
    by_key = stored.set_index(["movie_id", "rank"])
    for movie_id, neighbors in HAND_NEIGHBORS.items():
        for rank, (_, similarity) in enumerate(neighbors, start=1):
            assert by_key.loc[(movie_id, rank), "similarity"] == pytest.approx(similarity, 1e-12)
            assert by_key.loc[(movie_id, rank), "n_common"] == 1
    # the movie-pair view agrees: two movies of one profile are a pair at similarity 1
    pair = tiny.sql(
        "select similarity from content_similarity where movie_id = 9 and neighbor_id = 4"
    )
    assert pair.similarity.tolist() == [pytest.approx(1.0, 1e-12)]


# -- ml-latest-small ---------------------------------------------------------------------


def _movie_pair_neighbors(rec: Recommender, n_ranges: int = 8) -> pd.DataFrame:
    ids = rec.sql("select distinct movie_id from content_features order by movie_id").movie_id
    cuts = np.array_split(ids.to_numpy(), n_ranges)
    k = int(rec.sql("select neighbors_k from recsys_params").neighbors_k[0])
    parts = [
        rec.con.execute(MOVIE_PAIRS, {"lo": int(c[0]), "hi": int(c[-1]) + 1, "k": k}).df()
        for c in cuts
    ]
    return pd.concat(parts, ignore_index=True)


def test_profiles_equal_the_movie_pairs_on_ml_small(small: Recommender) -> None:
    """The profile-based table against the movie-pair formulation it replaced: the same
    neighbour at every rank (ties at every rank included), the same n_common, the
    similarity equal up to the order of the floating-point sums."""
    expected = _movie_pair_neighbors(small)
    stored = small.sql(STORED)
    assert len(stored) == len(expected) > 400_000
    for column in ("movie_id", "rank", "neighbor_id", "n_common"):
        assert stored[column].tolist() == expected[column].tolist(), column
    difference = np.abs(stored.similarity.to_numpy() - expected.similarity.to_numpy())
    print(
        f"content_neighbors vs movie pairs: {len(stored)} rows, "
        f"{int((difference > 0).sum())} similarities not bit-equal, "
        f"max |diff| {difference.max():.1e}"
    )
    assert difference.max() <= 1e-15


NO_PAIR = np.iinfo(np.int64).min + 1  # a rank key below every pair's (negating it fits)


def test_profiles_equal_dense_numpy_on_ml_small(small: Recommender) -> None:
    """Against X @ X.T over the same content_features (dense numpy, blocks of rows):
    cosine capped at 1, the top k by (similarity to 12 places desc, smaller id) among the
    movies sharing a feature, n_common the count of shared features."""
    features = small.sql("select movie_id, feature, value from content_features")
    k = int(small.sql("select neighbors_k from recsys_params").neighbors_k[0])
    ids, rows = np.unique(features.movie_id.to_numpy(), return_inverse=True)
    _, cols = np.unique(features.feature.to_numpy(), return_inverse=True)
    x = np.zeros((ids.size, cols.max() + 1))
    x[rows, cols] = features.value.to_numpy()
    shared = (x != 0).astype(np.float64)
    norms = np.sqrt((x * x).sum(axis=1))
    found: list[np.ndarray] = []
    for start in range(0, ids.size, 1000):
        block = slice(start, min(start + 1000, ids.size))
        n_common = shared[block] @ shared.T
        similarity = np.minimum((x[block] @ x.T) / np.outer(norms[block], norms), 1.0)
        scaled = similarity * 1e12
        key = np.trunc(scaled + 0.5).astype(np.int64) * 4194304 - ids[None, :]
        key[n_common == 0] = NO_PAIR  # no shared feature: no pair
        key[np.arange(key.shape[0]), np.arange(block.start, block.stop)] = NO_PAIR
        top = np.argsort(-key, axis=1, kind="stable")[:, :k]
        block_rows = np.repeat(np.arange(key.shape[0]), k)
        kept = key[block_rows, top.ravel()] > NO_PAIR
        found.append(
            np.column_stack(
                [
                    ids[block_rows[kept] + start],
                    np.tile(np.arange(1, k + 1), key.shape[0])[kept],
                    ids[top.ravel()[kept]],
                    n_common[block_rows[kept], top.ravel()[kept]],
                    similarity[block_rows[kept], top.ravel()[kept]],
                ]
            )
        )
    expected = np.concatenate(found)
    stored = small.sql(STORED)
    assert len(stored) == len(expected)
    np.testing.assert_array_equal(stored.movie_id.to_numpy(), expected[:, 0])
    np.testing.assert_array_equal(stored["rank"].to_numpy(), expected[:, 1])
    np.testing.assert_array_equal(stored.neighbor_id.to_numpy(), expected[:, 2])
    np.testing.assert_array_equal(stored.n_common.to_numpy(), expected[:, 3])
    difference = np.abs(stored.similarity.to_numpy() - expected[:, 4])
    print(
        f"content_neighbors vs dense numpy: {len(stored)} rows, max |diff| {difference.max():.1e}"
    )
    assert difference.max() <= 1e-15


# Tags of the tiny ratings for the given split below: (user, movie, tag, time).
LEAK_TAGS = [
    (1, 1, "funny", 1000),  # kept: u1's last train rating is at 1001
    (1, 2, "dark", 1001),  # kept: at that rating's time
    (2, 3, "space", 1003),  # dropped: (u2, m3) is held out
    (3, 4, "space", 1004),  # dropped: (u3, m4) is held out
    (3, 3, "space", 1005),  # kept: u3's last train rating is at 1005
    (3, 2, "dark", 1999),  # dropped: after u3's last train rating
]
KEPT_TAGS = [LEAK_TAGS[i] for i in (0, 1, 4)]


def _tiny_with_tags(folder: Path, tags: list[tuple[int, int, str, int]]) -> Path:
    folder.mkdir()
    for name in ("movies.csv", "ratings.csv", "links.csv"):
        shutil.copy(TINY / name, folder / name)
    frame = pd.DataFrame(tags, columns=["userId", "movieId", "tag", "timestamp"])
    frame.to_csv(folder / "tags.csv", index=False)
    return folder


def test_evaluation_rebuilds_content_from_tags_known_at_training_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ratings = pd.read_csv(TINY / "ratings.csv")
    held_out = ratings.set_index(["userId", "movieId"]).index.isin([(2, 3), (3, 4)])
    ratings[~held_out].to_csv(tmp_path / "train.csv", index=False)
    ratings[held_out].to_csv(tmp_path / "test.csv", index=False)
    monkeypatch.setattr(evaluation, "cleanup", lambda con: None)  # keep eval_train to read
    with Recommender(":memory:") as rec:
        rec.build(_tiny_with_tags(tmp_path / "all", LEAK_TAGS), TINY_PARAMS)
        rec.evaluate(
            given=[(tmp_path / "train.csv", tmp_path / "test.csv")], models=["content_based"]
        )
        tags = rec.sql("select user_id, movie_id, tag from eval_train.tags order by all")
        trained = rec.sql("select * from eval_train.content_neighbors order by all")
        with_every_tag = rec.sql("select * from main.content_neighbors order by all")
        terms = rec.sql("select distinct term from eval_train.movie_tag_terms order by term")
    assert list(tags.itertuples(index=False, name=None)) == sorted(t[:3] for t in KEPT_TAGS)
    assert terms["term"].tolist() == ["dark", "funny", "space"]
    # The fold's content neighbours are those of a build on the kept tags alone.
    with Recommender(":memory:") as rec:
        rec.build(_tiny_with_tags(tmp_path / "kept", KEPT_TAGS), TINY_PARAMS)
        expected = rec.sql("select * from content_neighbors order by all")
    pd.testing.assert_frame_equal(trained, expected)
    assert len(trained) > 0 and not trained.equals(with_every_tag)  # the leak would show
