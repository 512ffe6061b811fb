"""Queries of the k-NN rating predictors (the ``knn_models`` table) for chosen pairs.

The predictors are views (``sql/50_recommend/knn_predictions.sql`` and
``knn_recommendations.sql``, whose SQL comments give every formula) over the pairs of
the ``knn_requests`` table, which is empty in a build: a query shadows it with a
temporary table of the pairs it wants, for one statement.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import duckdb
import pandas as pd

from recsys_duck.errors import InvalidArgumentError, NotFoundError
from recsys_duck.params import read_params
from recsys_duck.sql import execute, query_file, run_file, step_file


def require_model(con: duckdb.DuckDBPyConnection, model: str, others: Sequence[str] = ()) -> None:
    """Raise unless ``model`` is a row of ``knn_models`` (``others``: other names the
    caller accepts, for the message)."""
    rows = execute(con, "select model from knn_models order by model").fetchall()
    names = [row[0] for row in rows]
    if model not in names:
        raise InvalidArgumentError(f"unknown model {model!r}; use one of {[*others, *names]}")


def require_candidates(con: duckdb.DuckDBPyConnection) -> None:
    """Raise unless the build computed the item neighbours: a rating predictor ranks
    item_based's candidates (``knn_candidates``)."""
    if "item" not in read_params(con).neighbors:
        raise InvalidArgumentError(
            "a rating predictor ranks item_based's candidates, and the item neighbours were "
            "not built; rebuild with recsys-duck build --neighbors item,..."
        )


@contextmanager
def requests(
    con: duckdb.DuckDBPyConnection, query: str, params: Sequence[Any], model: str
) -> Iterator[None]:
    """Shadow the (empty) knn_requests table with a temporary one for one query of
    ``model``, and knn_pair_scope with the ids whose similarities it needs
    (``sql/steps/predict/scope.sql``)."""
    try:
        execute(con, f"create or replace temp table knn_requests as {query}", params)
        run_file(con, step_file("predict/scope"), {"model": model})
        yield
    finally:
        execute(con, "drop table if exists temp.knn_pair_scope")
        execute(con, "drop table if exists temp.knn_requests")


def recommend(con: duckdb.DuckDBPyConnection, user_id: int, n: int, model: str) -> pd.DataFrame:
    """The user's candidates (``knn_candidates``: their top ``n_rank_candidates`` by
    item_based's score) ranked by ``model``'s predicted rating (the
    ``knn_recommendations`` view); the top ``n``."""
    if n < 1:
        raise InvalidArgumentError(f"n must be at least 1, got {n}")
    require_candidates(con)
    known = execute(con, "select count(*) from user_stats where user_id = ?", [user_id])
    if (known.fetchone() or (0,))[0] == 0:
        raise NotFoundError(f"no user with user_id {user_id} has ratings")
    candidates = "select user_id, movie_id from knn_candidates where user_id = ?"
    with requests(con, candidates, [user_id], model):
        return execute(
            con,
            "select r.rank, r.movie_id, m.title, m.genres, r.predicted_rating as score "
            "from knn_recommendations as r inner join movies as m using (movie_id) "
            "where r.model = ? and r.user_id = ? and r.rank <= ? order by r.rank",
            [model, user_id, n],
        ).df()


def predict(
    con: duckdb.DuckDBPyConnection, pairs: pd.DataFrame | Sequence[tuple[int, int]], model: str
) -> pd.DataFrame:
    """``model``'s predictions of the distinct (user_id, movie_id) ``pairs`` (the
    ``knn_predictions`` view), flagged where the user or the movie has no rating
    (``sql/steps/predict/predictions.sql``)."""
    frame = pd.DataFrame(pairs, columns=["user_id", "movie_id"])
    con.register("recsys_duck_pairs", frame)
    try:
        with requests(
            con,
            "select distinct cast(user_id as integer) as user_id, "
            "cast(movie_id as integer) as movie_id from recsys_duck_pairs",
            [],
            model,
        ):
            return query_file(con, step_file("predict/predictions"), {"model": model}).df()
    finally:
        con.unregister("recsys_duck_pairs")
