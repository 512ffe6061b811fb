"""``Recommender``: the one entry object, a thin typed layer over a DuckDB connection.

Every number it returns is read from the views, tables and macros that the files under
``sql/`` create, the same ones an analyst queries from any SQL client.

    >>> from recsys_duck import Recommender
    >>> rec = Recommender("data/recsys.duckdb")
    >>> rec.build("data/ml-latest-small")           # doctest: +SKIP
    >>> rec.recommend(1, n=5, method="item")        # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

import duckdb
import pandas as pd

from recsys_duck import evaluation, increment, pipeline, report, storage
from recsys_duck.errors import NotBuiltError, NotFoundError, RecsysError
from recsys_duck.params import METHOD_NAMES, BuildParams, Method, Split
from recsys_duck.sql import (
    audit_files,
    execute,
    split_statements,
    transaction,
)

logger = logging.getLogger(__name__)

# One statement per method; the macros live in sql/80_macros.
_RECOMMEND_SQL: dict[str, str] = {
    "user": "select * from recommend_user_based($user_id, n := $n, n_similar_users := $k)",
    "item": "select * from recommend_item_based($user_id, n := $n, n_neighbors := $k)",
    "content": "select * from recommend_content_based($user_id, n := $n, n_neighbors := $k)",
    "popularity": "select * from recommend_popular($user_id, n := $n)",
}

# The raw tables a rebuild without new data carries over (sql/steps/build/copy_raw_tables.sql).
_RAW_TABLES = ("movies", "ratings", "tags", "links")

# Messages raised by the lookup macros (sql/80_macros/lookups.sql) that mean "not found".
_NOT_FOUND_PREFIXES = ("unknown user_id", "no movie titled", "the title ")


#: What a build did: rows loaded, vocabulary sizes and seconds per step.
BuildReport = pipeline.RunReport


class Recommender:
    """A MovieLens recommender stored in one DuckDB database (a file, or ``:memory:``).

    ``memory_limit`` (e.g. ``"8GB"``) and ``threads`` are passed to DuckDB; past the
    memory limit DuckDB spills to ``temp_directory``.

    A database file is never written in place, so that other processes can read it
    while it is rebuilt: ``build`` and ``evaluate`` write a temporary copy beside it and
    atomically replace the file (see :mod:`recsys_duck.storage`), and ``self.con`` is a
    read-only connection to the current file, reopened after each replacement. Write
    your own tables into a database of your own and ``ATTACH`` this one read-only.

    With ``read_only=True`` (as the command line opens it for queries) the connection is
    also hardened: no file or network access, no extension installs or loads, and the
    configuration locked. ``:memory:`` databases are read and written in place.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] = ":memory:",
        *,
        read_only: bool = False,
        memory_limit: str | None = None,
        threads: int | None = None,
        temp_directory: str | os.PathLike[str] | None = None,
    ) -> None:
        self.path = str(path)
        self.read_only = read_only
        self._config: dict[str, Any] = {}
        if memory_limit is not None:
            self._config["memory_limit"] = memory_limit
        if threads is not None:
            self._config["threads"] = threads
        if temp_directory is not None:
            self._config["temp_directory"] = str(temp_directory)
        if not self.in_memory and not Path(self.path).exists():
            if read_only:
                raise NotBuiltError(
                    f"no database at {self.path}; build it first: "
                    f"recsys-duck build --db {self.path}"
                )
            # An empty database, created atomically like every other write.
            with storage.write_through(self.path, purpose="create", copy=False):
                pass
        self.con = self._connect()

    @property
    def in_memory(self) -> bool:
        """Whether the database is ``:memory:`` (written in place) rather than a file."""
        return self.path == ":memory:"

    def _connect(self) -> duckdb.DuckDBPyConnection:
        """Open ``self.path``: in place for ``:memory:``, read-only for a file."""
        return storage.connect(
            self.path,
            read_only=self.read_only or not self.in_memory,
            harden=self.read_only,
            config=self._config,
        )

    # -- lifecycle ---------------------------------------------------------------------

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Recommender:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- building ----------------------------------------------------------------------

    def build(
        self,
        data_dir: str | os.PathLike[str] | None = None,
        params: BuildParams | None = None,
    ) -> BuildReport:
        """Load MovieLens from ``data_dir`` (if given) and (re)build every SQL object.

        The build is all or nothing: if any step fails, the database is left exactly as
        it was (see :meth:`_atomic`). Without ``data_dir`` the ratings already in the
        database are rebuilt upon.

        A database file is rebuilt into a new temporary file that then atomically
        replaces it (readers of the old file keep their snapshot). Only the raw tables
        (movies, ratings, tags, links) are carried over, so evaluation results, which
        describe the old models, are dropped: run ``evaluate`` again.
        """
        params = params or BuildParams()
        params.check()
        with self._writing("build", fresh=True) as con:
            report = self._build(con, data_dir, params)
        logger.info("build finished in %.1f s", report.total_seconds)
        return report

    def _build(
        self,
        con: duckdb.DuckDBPyConnection,
        data_dir: str | os.PathLike[str] | None,
        params: BuildParams,
    ) -> pipeline.RunReport:
        """Run the plan's ``build`` scope on ``con``, all or nothing (:meth:`_atomic`)."""
        carry_over = data_dir is None and not self.in_memory
        if carry_over:
            # ATTACH takes no bound parameters; the path is quoted as a string literal.
            execute(con, f"attach {storage.string_literal(self.path)} as previous (read_only)")
        scope = pipeline.Scope(
            "build",
            neighbors=frozenset(params.neighbors),
            autocommit=not self.in_memory,
            memory_limit=self._config.get("memory_limit"),
            data_dir=None if data_dir is None else Path(data_dir),
            copy_previous=carry_over and _has_raw_tables(con, "previous"),
            params=params,
        )
        try:
            with self._atomic(con):
                return pipeline.run(con, scope)
        finally:
            if carry_over:
                execute(con, "detach database if exists previous")

    @contextmanager
    def _writing(self, purpose: str, *, fresh: bool) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-write connection for ``build`` (``purpose``) or ``evaluate``.

        ``:memory:`` is written in place. A file is written through a temporary file
        (empty if ``fresh``, else a copy of the file) that atomically replaces it when
        the block ends without error; ``self.con`` is closed meanwhile and then reopened
        on the new file. On error the temporary file is removed and the file is left as
        it was. Refused while another connection of this process has the file open, as
        that connection would pin DuckDB's instance of the old file.
        """
        if self.read_only:
            raise RecsysError(
                f"{self.path} was opened read-only; open it with "
                f"Recommender({self.path!r}) to {purpose} it"
            )
        if self.in_memory:
            yield self.con
            return
        self.con.close()
        try:
            storage.check_not_open(self.path)
            with storage.write_through(
                self.path, purpose=purpose, copy=not fresh, config=self._config
            ) as con:
                yield con
        finally:
            self.con = self._connect()

    def add_ratings(self, path: str | os.PathLike[str]) -> increment.IncrementReport:
        """Add the new ratings of a CSV file (MovieLens' ratings.csv columns) to a built
        database and bring every stored table up to date, without a rebuild.

        The pair sums get what the new ratings add, and only the neighbour rows of the
        movies and users whose similarities change are ranked again (see
        :mod:`recsys_duck.increment`); the result equals a full rebuild exactly. A bad
        file raises :class:`DataError` naming the line and column, and a (user, movie)
        pair already rated is refused. All or nothing: a file is changed in place in one
        transaction (a copy would cost time in proportion to the whole database), so no
        other process may have it open meanwhile.
        """
        self._require_built()
        if self.read_only:
            raise RecsysError(
                f"{self.path} was opened read-only; open it with "
                f"Recommender({self.path!r}) to add ratings"
            )
        if self.in_memory:
            with transaction(self.con):
                return increment.add_ratings(self.con, path)
        self.con.close()
        try:
            storage.check_not_open(self.path)
            with storage.write_in_place(self.path, config=self._config) as con:
                return increment.add_ratings(con, path)
        finally:
            self.con = self._connect()

    @contextmanager
    def _atomic(self, con: duckdb.DuckDBPyConnection) -> Iterator[None]:
        """Make the block all-or-nothing on a connection from :meth:`_writing`.

        A file is written through a temporary file that replaces it only when the block
        succeeds, so its statements commit as they go: DuckDB scans a table created in
        a still open transaction from that transaction's local storage, which made the
        batched pair sums 3.5x slower (1M ratings: 17 s instead of 4.7 s). ``:memory:``
        is written in place, so there the block is one transaction.
        """
        if self.in_memory:
            with transaction(con):
                yield
        else:
            yield

    # -- queries -----------------------------------------------------------------------

    def sql(
        self, query: str, params: Sequence[Any] | Mapping[str, Any] | None = None
    ) -> pd.DataFrame:
        """Run any SQL (values bound as ``?`` or ``$name`` parameters) and return a DataFrame."""
        return self._query(query, params)

    def stats(self) -> pd.DataFrame:
        """The one-row ``rating_matrix_stats`` view (n_users, n_movies, n_ratings, density,
        sparsity)."""
        return self._query("select * from rating_matrix_stats")

    def user_stats(self) -> pd.DataFrame:
        """The ``user_stats`` view, one row per user."""
        return self._query("select * from user_stats order by user_id")

    def movie_stats(self) -> pd.DataFrame:
        """The ``movie_stats`` view, one row per rated movie."""
        return self._query("select * from movie_stats order by movie_id")

    def similar(self, movie: str | int, n: int = 10, method: str = "content") -> pd.DataFrame:
        """The ``n`` movies most similar to ``movie`` (a title or a movie_id).

        ``method='content'`` ranks by TF-IDF cosine of genres and tags, ``'item'`` by
        cosine of rating vectors. Reads the ``similar_movies`` macro, which raises when
        the build left that method's neighbours out.
        """
        return self._query(
            "select * from similar_movies($movie, n := $n, method := $method)",
            {"movie": movie, "n": n, "method": method},
        )

    def recommend(
        self, user_id: int, n: int = 10, method: str = "user", k: int | None = None
    ) -> pd.DataFrame:
        """The user's top ``n`` unrated movies by ``method``.

        ``method`` is 'popularity' (the most rated unrated movies, macro
        ``recommend_popular``), 'user', 'item' or 'content' (the foundation's recommenders; ``k``
        is the neighbourhood: similar users for 'user', default 5, neighbours of each
        rated movie for 'item' and 'content', default 10; they read the
        ``recommend_user_based`` / ``recommend_item_based`` / ``recommend_content_based``
        macros), or a model of the ``knn_models`` table such as
        'knn_baseline_item_pearson_baseline': every rated movie the user has not rated,
        ranked by that model's predicted rating (the ``knn_recommendations`` view; ``k``
        does not apply, the model's row sets its neighbourhood).
        """
        if method == "popularity":
            return self._query(_RECOMMEND_SQL[method], {"user_id": user_id, "n": n})
        # The macros raise for an unknown user, a k above the stored one and neighbours
        # the build left out (lookups.sql): no extra query before them.
        if method in _RECOMMEND_SQL:
            if k is None:
                k = 5 if method == "user" else 10
            return self._query(_RECOMMEND_SQL[method], {"user_id": user_id, "n": n, "k": k})
        self._require_model(method, list(_RECOMMEND_SQL))
        if n < 1:
            raise ValueError(f"n must be at least 1, got {n}")
        known = execute(
            self.con, "select count(*) from user_stats where user_id = ?", [user_id]
        ).fetchone()
        if not known or known[0] == 0:
            raise NotFoundError(f"no user with user_id {user_id} has ratings")
        with self._requests(
            "select user_id, movie_id from knn_candidates where user_id = ?", [user_id]
        ):
            return self._query(
                "select r.rank, r.movie_id, m.title, m.genres, r.predicted_rating as score "
                "from knn_recommendations as r inner join movies as m using (movie_id) "
                "where r.model = ? and r.user_id = ? and r.rank <= ? order by r.rank",
                [method, user_id, n],
            )

    def predict(
        self,
        pairs: pd.DataFrame | Sequence[tuple[int, int]],
        model: str = "knn_baseline_item_pearson_baseline",
    ) -> pd.DataFrame:
        """Predicted ratings of (user_id, movie_id) ``pairs`` by a model of ``knn_models``.

        Reads the ``knn_predictions`` view (its SQL comment gives every formula): one row
        per distinct pair with predicted_rating (clipped to the rating scale),
        unclipped_rating, actual_k (positive-similarity neighbours used) and
        was_impossible (the model fell back to the global mean).
        """
        self._require_model(model)
        frame = pd.DataFrame(pairs, columns=["user_id", "movie_id"])
        self.con.register("recsys_duck_pairs", frame)
        try:
            with self._requests(
                "select distinct cast(user_id as integer) as user_id, "
                "cast(movie_id as integer) as movie_id from recsys_duck_pairs",
                [],
            ):
                return self._query(
                    "select * from knn_predictions where model = ? order by user_id, movie_id",
                    [model],
                )
        finally:
            self.con.unregister("recsys_duck_pairs")

    def models(self) -> pd.DataFrame:
        """The ``knn_models`` table: every rating predictor's algorithm and settings."""
        return self._query("select * from knn_models order by model")

    def _require_model(self, model: str, others: Sequence[str] = ()) -> None:
        self._require_built()
        rows = execute(self.con, "select model from knn_models order by model").fetchall()
        names = [row[0] for row in rows]
        if model not in names:
            raise ValueError(f"unknown model {model!r}; use one of {[*others, *names]}")

    @contextmanager
    def _requests(self, query: str, params: Sequence[Any]) -> Iterator[None]:
        """Shadow the (empty) knn_requests table with a temporary one for one query."""
        execute(self.con, f"create or replace temp table knn_requests as {query}", params)
        try:
            yield
        finally:
            execute(self.con, "drop table if exists temp.knn_requests")

    def recommendations(self, method: Method | None = None) -> pd.DataFrame:
        """The materialised ``recommendations`` table (every user, every method, top-N)."""
        if method is None:
            return self._query("select * from recommendations order by method, user_id, rank")
        if method not in METHOD_NAMES:
            raise ValueError(f"unknown method {method!r}; use one of {sorted(METHOD_NAMES)}")
        return self._query(
            "select * from recommendations where method = ? order by user_id, rank",
            [METHOD_NAMES[method]],
        )

    def evaluate(
        self,
        split: Split = "holdout",
        *,
        models: Sequence[str] | None = None,
        folds: int | None = None,
        rank_models: Sequence[str] = (),
        test_fraction: float | None = None,
        seed: int | None = None,
        relevance_threshold: float | None = None,
    ) -> evaluation.EvaluationResult:
        """Split the ratings, retrain every model on the train part, and score it.

        ``split``: 'holdout' (a seeded random 20% of each user's ratings), 'temporal'
        (each user's latest 20%), 'leave_last_out' (each user's latest rating) or
        'kfold' (``folds`` seeded folds over all ratings, default 5; metrics are the mean
        and standard deviation over the folds). ``models``: names from
        ``evaluation.known_models`` (default ``evaluation.DEFAULT_MODELS`` less the methods
        whose neighbours the build left out); the k-NN
        models of ``knn_models`` are ranked too when also in ``rank_models``. The run is
        all or nothing (:meth:`_atomic`); results are stored in ``eval_predictions`` /
        ``eval_recommendations`` and read from the ``eval_rating_metrics``,
        ``eval_ranking_metrics`` and ``eval_summary`` views. ``test_fraction``, ``seed``
        and ``relevance_threshold``, when given, replace the stored settings
        (``recsys_params``) for this and later evaluations.
        """
        self._require_built()
        if test_fraction is not None and not 0 < test_fraction < 1:
            raise ValueError(f"test_fraction must be between 0 and 1, got {test_fraction}")
        with self._writing("evaluate", fresh=False) as con:
            with self._atomic(con):
                execute(
                    con,
                    "update recsys_params set test_fraction = coalesce(?, test_fraction), "
                    "seed = coalesce(?, seed), "
                    "relevance_threshold = coalesce(?, relevance_threshold)",
                    [test_fraction, seed, relevance_threshold],
                )
                evaluation.run(
                    con,
                    split,
                    evaluation.default_models(con) if models is None else models,
                    folds=folds,
                    rank_models=rank_models,
                    autocommit=not self.in_memory,
                    memory_limit=self._config.get("memory_limit"),
                )
            evaluation.cleanup(con)
        return evaluation.results(self.con, split)

    def report(
        self,
        path: str | os.PathLike[str] = "report.html",
        users: Sequence[int] | None = None,
        seed: int | None = None,
    ) -> report.ReportSummary:
        """Write one self-contained HTML report of the database to ``path``.

        Dataset statistics, similarity distributions, every stored evaluation and the
        recommendations of three example users (``users``, or drawn with ``seed``,
        default ``recsys_params.seed``); every number is read from the views of
        ``sql/75_report`` and the build's own views. Only reads the database.
        """
        self._require_built()
        return report.write_report(self.con, path, users=users, seed=seed)

    def audit(self) -> dict[str, pd.DataFrame]:
        """Run every audit of ``sql/audits``; each maps to its offending rows (want: none)."""
        self._require_built()
        found: dict[str, pd.DataFrame] = {}
        for path in audit_files():
            (query,) = split_statements(path.read_text(encoding="utf-8"))
            found[path.stem] = self._query(query)
        return found

    # -- helpers -----------------------------------------------------------------------

    def _require_built(self) -> None:
        found = execute(
            self.con,
            "select count(*) from duckdb_tables() where table_name = 'recommendations' "
            "and schema_name = 'main'",
        ).fetchone()
        if not found or found[0] == 0:
            raise NotBuiltError(
                f"the database {self.path} has not been built; "
                f"run: recsys-duck build --db {self.path}"
            )

    def _query(
        self, query: str, params: Sequence[Any] | Mapping[str, Any] | None = None
    ) -> pd.DataFrame:
        try:
            return execute(self.con, query, params).df()
        except duckdb.InvalidInputException as exc:
            raise _translate(exc) from None
        except duckdb.CatalogException as exc:
            if "does not exist" in str(exc):
                self._require_built()
            raise


def _has_raw_tables(con: duckdb.DuckDBPyConnection, database: str) -> bool:
    """Whether ``database`` holds every raw table (a never-built file holds none)."""
    (found,) = execute(
        con,
        "select count(*) from duckdb_tables() "
        "where database_name = ? and schema_name = 'main' and list_contains(?, table_name)",
        [database, list(_RAW_TABLES)],
    ).fetchone() or (0,)
    return bool(found == len(_RAW_TABLES))


def _translate(exc: duckdb.Error) -> RecsysError:
    """Turn an error raised by a lookup macro into the matching recsys-duck error."""
    message = str(exc)
    for prefix in ("Invalid Input Error: ",):
        if message.startswith(prefix):
            message = message[len(prefix) :]
    if message.startswith(_NOT_FOUND_PREFIXES):
        return NotFoundError(message)
    return RecsysError(message)
