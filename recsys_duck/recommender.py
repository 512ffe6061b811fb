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
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from types import TracebackType
from typing import Any

import duckdb
import pandas as pd

from recsys_duck import evaluation, increment, pipeline, predictors, report, storage, tuning
from recsys_duck.errors import InvalidArgumentError, NotBuiltError, NotFoundError, RecsysError
from recsys_duck.guard import ReadLimits, run_limited
from recsys_duck.loader import FilesInput
from recsys_duck.params import (
    ENGINES,
    METHOD_NAMES,
    BuildParams,
    Engine,
    Method,
    Split,
    at_least,
)
from recsys_duck.params import memory_limit as check_memory_limit
from recsys_duck.progress import Reporter, Update, reporting
from recsys_duck.spark import SparkOptions, forget_older_runs
from recsys_duck.sql import (
    audit_files,
    execute,
    split_statements,
)

logger = logging.getLogger(__name__)

# One statement per method; the macros live in sql/80_macros.
_RECOMMEND_SQL: dict[str, str] = {
    "user": "select * from recommend_user_based($user_id, n := $n, n_similar_users := $k)",
    "item": "select * from recommend_item_based($user_id, n := $n, n_neighbors := $k)",
    "content": "select * from recommend_content_based($user_id, n := $n, n_neighbors := $k)",
    "popularity": "select * from recommend_popular($user_id, n := $n)",
}

# Messages raised by the lookup macros (sql/80_macros/lookups.sql) that mean "not found".
_NOT_FOUND_PREFIXES = ("unknown user_id", "no movie titled", "the title ")


#: What a build did: rows loaded, vocabulary sizes and seconds per step.
BuildReport = pipeline.RunReport


class Recommender:
    """A MovieLens recommender stored in one DuckDB database (a file, or ``:memory:``).

    ``memory_limit`` (e.g. ``"8GB"``, past it DuckDB spills to ``temp_directory``) and
    ``threads`` are passed to DuckDB. ``self.con`` reads the file; ``build`` and
    ``evaluate`` write a new file that atomically replaces it, so other processes can
    read while it is rebuilt (:mod:`recsys_duck.storage`). With ``read_only=True`` (as
    the command line opens it for queries) the connection is hardened: no file or
    network access, no extension loads, the configuration locked; and :meth:`sql` runs
    queries only, within ``limits`` (:class:`recsys_duck.guard.ReadLimits`: by default
    300 s, a million rows, and 4GB of memory (half the machine's when that is less) unless
    ``memory_limit`` says otherwise).
    ``progress`` receives the progress of long steps (batches, folds) of ``build``,
    ``add_ratings`` and ``evaluate``: a function of a :class:`recsys_duck.progress.Update`
    or a reporter; by default it goes to the ``recsys_duck.progress`` logger.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] = ":memory:",
        *,
        read_only: bool = False,
        memory_limit: str | None = None,
        threads: int | None = None,
        temp_directory: str | os.PathLike[str] | None = None,
        limits: ReadLimits | None = None,
        progress: Reporter | Callable[[Update], None] | None = None,
    ) -> None:
        self.path = str(path)
        self.read_only = read_only
        self.limits = limits or ReadLimits()
        self.progress = progress
        if read_only and memory_limit is None:
            memory_limit = self.limits.memory_limit
        if memory_limit is not None:
            check_memory_limit(memory_limit)
        temp = None if temp_directory is None else str(temp_directory)
        options = {"memory_limit": memory_limit, "threads": threads, "temp_directory": temp}
        self._config: dict[str, Any] = {k: v for k, v in options.items() if v is not None}
        if not self.in_memory:
            storage.check_database_file(self.path)
        if read_only and not self.in_memory:
            storage.require_database(self.path)
        self.con = self._connect()

    @property
    def in_memory(self) -> bool:
        """Whether the database is ``:memory:`` (written in place) rather than a file."""
        return self.path == ":memory:"

    def _connect(self) -> duckdb.DuckDBPyConnection:
        """Open ``self.path``: in place for ``:memory:``, read-only for a file. A file not
        built yet is not created until a build succeeds (a failed command leaves nothing
        behind): meanwhile an empty in-memory database stands in, which has no tables."""
        if not self.in_memory and not Path(self.path).exists():
            return storage.connect(":memory:", config=self._config)
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
        *,
        engine: Engine = "duckdb",
        spark: SparkOptions | None = None,
        files: FilesInput | None = None,
    ) -> BuildReport:
        """Load MovieLens from ``data_dir`` (if given) and (re)build every SQL object by
        the plan's ``build`` scope (:mod:`recsys_duck.pipeline`), all or nothing. Without
        ``data_dir`` the raw tables already in the database are rebuilt upon; evaluation
        results, which describe the old models, are dropped. The model definitions
        (``knn_models``, ``ranking_models``, ``ranking_grid``, ``ranking_tuning``: what
        you edited or :meth:`tune` chose) are kept either way.

        ``files`` loads files of your own instead of a folder (:class:`FilesInput`: CSV
        or Parquet with your column names; Spark reads Parquet where it lives when it
        computes). Without genres (nor tags) to build content features from, the content
        neighbours are left out. The rating scale is the fields ``params`` gives, else
        the release's, else the one the ratings show; it is stored in ``recsys_params``.

        ``engine="spark"`` computes the tables on Apache Spark (``spark``: master,
        settings, warehouse; :mod:`recsys_duck.spark`) and serves them from this database
        as a DuckDB build would; the pair sums stay in the warehouse as Parquet."""
        if engine not in ENGINES:
            raise InvalidArgumentError(
                f"engine must be one of {', '.join(ENGINES)}, not {engine!r}"
            )
        if data_dir is not None and files is not None:
            raise InvalidArgumentError("pass either data_dir or files, not both")
        if engine == "spark":
            spark = spark or SparkOptions()
        params = params or BuildParams()
        params.check()
        if files is not None and "content" in params.neighbors and not files.has_content():
            logger.info("no genres or tags among the files: content neighbours left out")
            kept = tuple(kind for kind in params.neighbors if kind != "content")
            params = replace(params, neighbors=kept)
        # A file is rebuilt into a new file: its model tables, and without new data its
        # raw tables, are copied from the old one.
        previous = self.path if not self.in_memory and Path(self.path).exists() else None
        with reporting(self.progress), self._writer("build") as (con, autocommit):
            report = pipeline.build(
                con,
                params,
                data_dir=None if data_dir is None else Path(data_dir),
                files=files,
                previous=previous,
                autocommit=autocommit,
                memory_limit=self._config.get("memory_limit"),
                spark=spark if engine == "spark" else None,
                database=str(self.path),
            )
        if report.spark_run is not None:
            forget_older_runs(report.spark_run.parent.parent, keep=report.spark_run.name)
        logger.info("build finished in %.1f s", report.total_seconds)
        return report

    def add_ratings(
        self,
        path: str | os.PathLike[str],
        *,
        refresh: bool = False,
        defer_weights: bool = False,
        wait_seconds: float = 0.0,
    ) -> increment.IncrementReport:
        """Add the new ratings of a CSV file (ratings.csv's columns) to a built database
        without a rebuild (the plan's ``increment`` scope, :mod:`recsys_duck.increment`):
        the ratings, pair sums, neighbour tables and ranking weights are exact at once
        (``defer_weights``: the weights are left to the refresh, which is much faster
        when the ratings touch popular movies); the baseline biases and the marts are
        marked stale in ``freshness`` until :meth:`refresh` (or ``refresh=True``),
        after which the database equals a full rebuild. A bad
        file raises :class:`DataError` naming the line and column. All or nothing: on a
        copy of the file that replaces it (as a build does), or, with ``defer_weights``
        (a change small next to the file), in place, where no other process may have the
        file open meanwhile: while one has, it waits up to ``wait_seconds`` for it to
        close the file."""
        self.require_built()
        # The weights' queries, in one open transaction, read tables it made without
        # their statistics: 3.6x slower at 10M ratings than on a copy that commits as
        # it goes.
        purpose: storage.Purpose = "add-ratings" if defer_weights and not refresh else "update"
        with (
            reporting(self.progress),
            self._writer(purpose, wait_seconds=wait_seconds) as (con, autocommit),
        ):
            return increment.add_ratings(
                con, path, refresh=refresh, defer_weights=defer_weights, autocommit=autocommit
            )

    def refresh(self, *, wait_seconds: float = 0.0) -> dict[str, float]:
        """Recompute what add-ratings left stale (the ``freshness`` table: baseline
        biases, popular_movies, recommendations, and item_weights if deferred) from every
        rating, all or nothing, on a copy of the file that replaces it (as
        :meth:`add_ratings` without ``defer_weights``). Returns the seconds of each
        step."""
        self.require_built()
        with (
            reporting(self.progress),
            self._writer("update", wait_seconds=wait_seconds) as (con, autocommit),
        ):
            return increment.refresh(con, autocommit=autocommit)

    @contextmanager
    def _writer(
        self, purpose: storage.Purpose, *, wait_seconds: float = 0.0
    ) -> Iterator[tuple[duckdb.DuckDBPyConnection, bool]]:
        """A read-write connection for ``purpose`` and whether its statements commit as
        they go (see :func:`recsys_duck.storage.writer`). ``:memory:`` is written in
        place; a file by :func:`recsys_duck.storage.writer`, with ``self.con`` closed
        meanwhile and then reopened on the new file."""
        if self.read_only:
            raise RecsysError(
                f"{self.path} was opened read-only; open it with "
                f"Recommender({self.path!r}) to {purpose} it"
            )
        if self.in_memory:
            yield self.con, False
            return
        self.con.close()
        try:
            with storage.writer(
                self.path, purpose, config=self._config, wait_seconds=wait_seconds
            ) as writing:
                yield writing
        finally:
            self.con = self._connect()

    # -- queries -----------------------------------------------------------------------

    def sql(
        self, query: str, params: Sequence[Any] | Mapping[str, Any] | None = None
    ) -> pd.DataFrame:
        """Run any SQL (values bound as ``?`` or ``$name`` parameters) and return a
        DataFrame. On a ``read_only`` Recommender only queries run, within its limits
        (:mod:`recsys_duck.guard`)."""
        if self.read_only:
            return self._translated(lambda: run_limited(self.con, query, params, self.limits))
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
        at_least("n", n)
        return self._query(
            "select * from similar_movies($movie, n := $n, method := $method)",
            {"movie": movie, "n": n, "method": method},
        )

    def recommend(
        self, user_id: int, n: int = 10, method: str | None = None, k: int | None = None
    ) -> pd.DataFrame:
        """The user's top ``n`` unrated movies by ``method``.

        ``method`` is None (the default: the ranking method of best validation NDCG@10),
        a ranking method of the ``ranking_models`` table ('item_ridge', 'rp3beta',
        'item_knn', ...: macro ``recommend_ranked``; ``k`` does not apply, the model's
        row sets its neighbourhood), 'popularity' (the most rated unrated movies, macro
        ``recommend_popular``), 'user', 'item' or 'content' (the foundation's recommenders; ``k``
        is the neighbourhood: similar users for 'user', default 5, neighbours of each
        rated movie for 'item' and 'content', default 10; they read the
        ``recommend_user_based`` / ``recommend_item_based`` / ``recommend_content_based``
        macros), or a model of the ``knn_models`` table such as
        'knn_baseline_item_pearson_baseline': every rated movie the user has not rated,
        ranked by that model's predicted rating (the ``knn_recommendations`` view; ``k``
        does not apply, the model's row sets its neighbourhood).
        """
        at_least("n", n)
        if k is not None:
            at_least("the neighbours used (k)", k)
        ranking: list[str] = []
        if method not in _RECOMMEND_SQL:
            self.require_built()
            ranking, knn = self._names("ranking_models"), self._names("knn_models")
            if method is not None and method not in (*ranking, *knn):
                known = [*_RECOMMEND_SQL, *ranking, *knn]
                raise InvalidArgumentError(f"unknown method {method!r}; use one of {known}")
        if method is None or method in ranking:
            if k is not None:
                raise InvalidArgumentError(
                    "k applies to the user, item and content methods; a ranking method's "
                    "neighbourhood is its row of ranking_models"
                )
            return self._query(
                "select * from recommend_ranked($user_id, model := $model, n := $n)",
                {"user_id": user_id, "model": method, "n": n},
            )
        if method == "popularity":
            return self._query(_RECOMMEND_SQL[method], {"user_id": user_id, "n": n})
        # The macros raise for an unknown user, a k above the stored one and neighbours
        # the build left out (lookups.sql): no extra query before them.
        if method in _RECOMMEND_SQL:
            if k is None:
                k = 5 if method == "user" else 10
            return self._query(_RECOMMEND_SQL[method], {"user_id": user_id, "n": n, "k": k})
        return self._translated(lambda: predictors.recommend(self.con, user_id, n, method))

    def _names(self, table: str) -> list[str]:
        """The models of ``table`` (ranking_models or knn_models), by name."""
        return list(self._query(f"select model from {table} order by model")["model"])  # noqa: S608

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
        self.require_built()
        predictors.require_model(self.con, model)
        return self._translated(lambda: predictors.predict(self.con, pairs, model))

    def models(self) -> pd.DataFrame:
        """The ``knn_models`` table: every rating predictor's algorithm and settings."""
        return self._query("select * from knn_models order by model")

    def recommendations(self, method: Method | None = None) -> pd.DataFrame:
        """The materialised ``recommendations`` table (every user, every method, top-N)."""
        if method is None:
            return self._query("select * from recommendations order by method, user_id, rank")
        if method not in METHOD_NAMES:
            raise InvalidArgumentError(
                f"unknown method {method!r}; use one of {sorted(METHOD_NAMES)}"
            )
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
        given: Sequence[tuple[str | os.PathLike[str], str | os.PathLike[str]]] = (),
        columns: Mapping[str, str] | None = None,
    ) -> evaluation.EvaluationResult:
        """Split the ratings, retrain every model on the train part, and score it, all or
        nothing (:func:`recsys_duck.evaluation.evaluate`).

        ``split``: 'holdout' (a seeded 20% of each user's ratings), 'temporal' (each
        user's latest 20%), 'leave_last_out', 'kfold' (``folds`` seeded folds, default
        5; mean and standard deviation over folds) or 'given': the (train file, test
        file) pairs of ``given``, one fold each (ratings files of your own, e.g. ml-100k's
        ``u1.base`` and ``u1.test``, with ``columns`` naming their columns as for
        :class:`~recsys_duck.loader.FilesInput`; kept in ``eval_given_ratings``).
        ``models``: names from ``evaluation.known_models`` (default:
        ``evaluation.DEFAULT_MODELS`` the build allows); k-NN models in ``rank_models``
        are ranked too. ``test_fraction``, ``seed`` and ``relevance_threshold``, when
        given, replace the stored settings. Results: the ``eval_*`` tables and views.
        """
        self.require_built()
        if given and split == "holdout":
            split = "given"  # the default split gives way to the files
        settings = evaluation.Settings(test_fraction, seed, relevance_threshold)
        with reporting(self.progress), self._writer("evaluate") as (con, autocommit):
            evaluation.evaluate(
                con,
                split,
                models,
                folds=folds,
                rank_models=rank_models,
                settings=settings,
                autocommit=autocommit,
                memory_limit=self._config.get("memory_limit"),
                given=[(str(train), str(test)) for train, test in given],
                columns=columns,
            )
        return evaluation.results(self.con, split)

    def tune(self, models: Sequence[str] | None = None) -> pd.DataFrame:
        """Choose the settings of the ranking ``models`` (default: every row of
        ``ranking_models``) by NDCG@10 on ``validation_split``, from their current
        settings and the ``ranking_grid`` rows of their algorithm, all or nothing
        (:func:`recsys_duck.tuning.tune`; the holdout's test part is never read). The
        models take the chosen settings, their weights and the mart are recomputed.
        Returns what was tried (``ranking_tuning``), best first per model."""
        self.require_built()
        with reporting(self.progress), self._writer("evaluate") as (con, autocommit):
            tuning.tune(
                con,
                models,
                autocommit=autocommit,
                memory_limit=self._config.get("memory_limit"),
            )
        return tuning.results(self.con)

    def report(
        self,
        path: str | os.PathLike[str] = "report.html",
        users: Sequence[int] | None = None,
        seed: int | None = None,
    ) -> report.ReportSummary:
        """Write one self-contained HTML report of the database to ``path``: the data,
        similarity distributions, every stored evaluation and three example users
        (``users``, or drawn with ``seed``), every number read from the views."""
        self.require_built()
        return report.write_report(self.con, path, users=users, seed=seed)

    def audit(self) -> dict[str, pd.DataFrame]:
        """Run every audit of ``sql/audits``; each maps to its offending rows (want: none)."""
        self.require_built()
        found: dict[str, pd.DataFrame] = {}
        for path in audit_files():
            (query,) = split_statements(path.read_text(encoding="utf-8"))
            found[path.stem] = self._query(query)
        return found

    # -- helpers -----------------------------------------------------------------------

    def require_built(self) -> None:
        """Raise :class:`NotBuiltError` unless the database has been built."""
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
        return self._translated(lambda: execute(self.con, query, params).df())

    def _translated(self, fetch: Callable[[], pd.DataFrame]) -> pd.DataFrame:
        """``fetch()``, with the lookup macros' errors turned into recsys-duck errors."""
        try:
            return fetch()
        except duckdb.InvalidInputException as exc:
            raise _translate(exc) from None
        except duckdb.CatalogException as exc:
            if "does not exist" in str(exc):
                self.require_built()
            raise


def _translate(exc: duckdb.Error) -> RecsysError:
    """Turn an error raised by a lookup macro into the matching recsys-duck error."""
    message = str(exc)
    for prefix in ("Invalid Input Error: ",):
        if message.startswith(prefix):
            message = message[len(prefix) :]
    if message.startswith(_NOT_FOUND_PREFIXES):
        return NotFoundError(message)
    return RecsysError(message)
