"""Known-answer tests: data whose neighbours and recommendations are known by
construction, after implicit's checkerboard test.

Eight users and eight movies; user u rates movie i (4 stars) when u + i is even, except
movie u itself. Users (movies) of the same parity then share every rating but two, and
users (movies) of different parity share none, so:

* each movie's neighbours are the three other movies of its parity, each at cosine
  2 * 16 / (sqrt(3 * 16) * sqrt(3 * 16)) = 2/3 (each is rated by three users, two of
  them in common), and no movie of the other parity; the same for users;
* user u's best unrated movie is movie u, by item-based and by user-based ranking: the
  only movie of u's parity u has not rated, and the only one close to what u rated.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from recsys_duck import Recommender
from recsys_duck.params import BuildParams

N = 8
SAME_PARITY_COSINE = 2 / 3
PARAMS = BuildParams(
    k=3, n_similar_users=3, n_item_neighbors=3, n_recommendations=4, neighbors=("item", "user")
)


def _write_checkerboard(folder: Path) -> None:
    folder.mkdir()
    (folder / "movies.csv").write_text(
        "movieId,title,genres\n" + "".join(f"{i},Movie {i} (2000),Drama\n" for i in range(1, N + 1))
    )
    (folder / "ratings.csv").write_text(
        "userId,movieId,rating,timestamp\n"
        + "".join(
            f"{u},{i},4.0,{1000 + 10 * u + i}\n"
            for u in range(1, N + 1)
            for i in range(1, N + 1)
            if (u + i) % 2 == 0 and u != i
        )
    )
    (folder / "tags.csv").write_text("userId,movieId,tag,timestamp\n")
    (folder / "links.csv").write_text(
        "movieId,imdbId,tmdbId\n" + "".join(f"{i},{i:07d},{i}\n" for i in range(1, N + 1))
    )


@pytest.fixture(scope="module")
def checkerboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Recommender]:
    folder = tmp_path_factory.mktemp("checkerboard") / "data"
    _write_checkerboard(folder)
    with Recommender(":memory:") as rec:
        rec.build(folder, PARAMS)
        yield rec


def _same_parity(x: int) -> list[int]:
    return [y for y in range(1, N + 1) if y != x and (x + y) % 2 == 0]


@pytest.mark.parametrize(
    "table, key", [("item_neighbors", "movie_id"), ("user_neighbors", "user_id")]
)
def test_neighbours_are_the_same_parity(checkerboard: Recommender, table: str, key: str) -> None:
    stored = checkerboard.sql(f"select * from {table} order by {key}, rank")  # noqa: S608
    assert sorted(set(stored[key])) == list(range(1, N + 1))
    for x, rows in stored.groupby(key):
        # Ties at 2/3 are ranked by the smaller id.
        assert list(rows["neighbor_id"]) == _same_parity(int(x)), f"{table} of {x}"
        assert rows["similarity"].tolist() == pytest.approx([SAME_PARITY_COSINE] * 3, abs=1e-12)
        assert list(rows["n_common"]) == [2, 2, 2]


@pytest.mark.parametrize("method", ["item", "user"])
def test_each_users_best_movie_is_its_own_number(checkerboard: Recommender, method: str) -> None:
    for user_id in range(1, N + 1):
        top = checkerboard.recommend(user_id, n=1, method=method, k=3)
        assert list(top["movie_id"]) == [user_id], f"{method}-based, user {user_id}"


def test_the_mart_agrees(checkerboard: Recommender) -> None:
    first = checkerboard.sql(
        "select method, user_id, movie_id from recommendations "
        "where rank = 1 and method in ('item_based', 'user_based') order by all"
    )
    assert len(first) == 2 * N
    assert (first["user_id"] == first["movie_id"]).all()
