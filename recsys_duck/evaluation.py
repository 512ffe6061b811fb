"""Offline evaluation: split, retrain on the train part, predict and rank, score.

The splits, the models and the metrics are all SQL. This module only runs the steps in
order, once per fold: ``sql/steps/evaluate/prepare_evaluation.sql`` (the fold's
train/test split and the schema ``eval_train`` holding only its train ratings), the
plan's ``train`` scope in ``eval_train`` (:mod:`recsys_duck.pipeline`: every table that
depends on ratings, built from the train part), then the ``record_*`` steps that append
the fold's predictions and recommendations to the ``eval_*`` tables. The metric views of
``sql/70_evaluation`` (``eval_rating_metrics``, ``eval_ranking_metrics``,
``eval_summary``), whose SQL comments give the formulas, read those tables.

Models are named as in the ``recommendations`` table (``user_based``, ``item_based``,
``content_based``, ``popularity``) or as in the ``knn_models`` table (``baseline_only``,
``knn_baseline_item_pearson_baseline``, ...).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import duckdb
import pandas as pd

from recsys_duck import pipeline, predictors
from recsys_duck.errors import InvalidArgumentError, RecsysError
from recsys_duck.loader import load_split_files
from recsys_duck.params import FOUNDATION_METHODS, METHOD_NAMES, SPLITS, read_params
from recsys_duck.progress import tracked
from recsys_duck.sql import (
    batches,
    execute,
    layer_files,
    quote_identifier,
    run_file,
    step_file,
)
from recsys_duck.storage import all_or_nothing

logger = logging.getLogger(__name__)

DEFAULT_MODELS = (*FOUNDATION_METHODS, "baseline_only", "knn_baseline_item_pearson_baseline")


@dataclass
class EvaluationResult:
    """Metrics of one split.

    ``rating``: one row per (fold, method) with rmse, mae, coverage; ``ranking``: one row
    per (fold, method, k) with the ranking metrics; ``summary``: one row per (method,
    metric, k) with the mean and standard deviation over the folds (k is NaN for the
    rating metrics).
    """

    split: str
    rating: pd.DataFrame
    ranking: pd.DataFrame
    summary: pd.DataFrame

    def _rows_at(self, k: int) -> pd.DataFrame:
        """The summary rows of cutoff ``k`` and those without one (RMSE, ...)."""
        cutoffs = self.summary["k"].dropna()
        if len(cutoffs) and k not in set(cutoffs):
            raise InvalidArgumentError(
                f"cutoff {k} was not evaluated; use {int(cutoffs.min())} to {int(cutoffs.max())}"
            )
        return self.summary[self.summary["k"].isna() | (self.summary["k"] == k)]

    def at(self, k: int = 10) -> pd.DataFrame:
        """Mean of every metric over the folds at cutoff ``k``, one row per method."""
        rows = self._rows_at(k)
        table = rows.pivot(index="method", columns="metric", values="mean")
        table.columns.name = None
        return table.reset_index()

    def table(self, k: int = 10) -> pd.DataFrame:
        """Method x metric at cutoff ``k`` as "mean ± std" strings (std only with folds;
        blank where a method has no such metric, e.g. no RMSE for popularity)."""
        rows = self._rows_at(k).copy()
        rows["value"] = [
            _mean_std(mean, std) for mean, std in zip(rows["mean"], rows["std"], strict=True)
        ]
        table = rows.pivot(index="method", columns="metric", values="value").fillna("")
        table.columns.name = None
        return table.reset_index()


def _mean_std(mean: float, std: float) -> str:
    if pd.isna(mean):
        return ""
    return f"{mean:.4f}" if pd.isna(std) else f"{mean:.4f} ± {std:.4f}"


@dataclass(frozen=True)
class Settings:
    """Evaluation settings that, when given, replace the stored ones (``recsys_params``)
    for this and later evaluations."""

    test_fraction: float | None = None
    seed: int | None = None
    relevance_threshold: float | None = None


def evaluate(
    con: duckdb.DuckDBPyConnection,
    split: str,
    models: Sequence[str] | None,
    *,
    folds: int | None,
    rank_models: Sequence[str],
    settings: Settings,
    autocommit: bool,
    memory_limit: str | None,
    given: Sequence[tuple[str, str]] = (),
    columns: Mapping[str, str] | None = None,
) -> None:
    """Evaluate on a writer's connection (:func:`recsys_duck.storage.writer`), all or
    nothing: store the new settings, load the ``given`` (train file, test file) pairs
    of the 'given' split (:func:`recsys_duck.loader.load_split_files`, with the files'
    ``columns``), :func:`run`, then drop the training copy (after the transaction, which
    DuckDB 1.5 cannot commit with it dropped)."""
    if (split == "given") != bool(given):
        raise InvalidArgumentError(
            "the given split takes its train and test files: evaluate --train FILE --test FILE"
            if split == "given"
            else f"train and test files make the given split, not the {split} split"
        )
    if settings.test_fraction is not None and not 0 < settings.test_fraction < 1:
        raise InvalidArgumentError(
            f"test_fraction must be between 0 and 1, got {settings.test_fraction}"
        )
    with all_or_nothing(con, autocommit):
        execute(
            con,
            "update recsys_params set test_fraction = coalesce(?, test_fraction), "
            "seed = coalesce(?, seed), relevance_threshold = coalesce(?, relevance_threshold)",
            [settings.test_fraction, settings.seed, settings.relevance_threshold],
        )
        if given:
            for fold, (n_train, n_test) in enumerate(load_split_files(con, given, columns), 1):
                logger.info(
                    "evaluate: fold %d given, %d train and %d test ratings", fold, n_train, n_test
                )
        run(
            con,
            split,
            default_models(con) if models is None else models,
            folds=folds,
            rank_models=rank_models,
            autocommit=autocommit,
            memory_limit=memory_limit,
        )
    cleanup(con)


def known_models(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every model name ``run`` accepts: the foundation methods, the ranking_models rows
    and the knn_models rows."""
    return [*FOUNDATION_METHODS, *ranking_models(con), *_names(con, "knn_models")]


def ranking_models(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The ranking methods of the ``ranking_models`` table, by name."""
    return _names(con, "ranking_models")


def _names(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    # table is one of two constants above, quoted all the same.
    query = f"select model from {quote_identifier(table)} order by model"  # noqa: S608
    rows = execute(con, query).fetchall()
    return [row[0] for row in rows]


def run(
    con: duckdb.DuckDBPyConnection,
    split: str,
    models: Sequence[str] = DEFAULT_MODELS,
    *,
    folds: int | None = None,
    rank_models: Sequence[str] = (),
    autocommit: bool = False,
    memory_limit: str | None = None,
) -> None:
    """Evaluate ``models`` on ``split`` and store the results (caller owns the transaction;
    ``autocommit`` says the connection has none open and ``memory_limit`` how it was
    configured, as for :func:`recsys_duck.pairs.compute`).

    ``folds`` sets recsys_params.n_folds for a k-fold split. The foundation methods are
    scored on ratings and rankings; the knn_models on ratings, and on rankings too when
    also named in ``rank_models`` (ranking each test user's ``n_rank_candidates``
    candidates by a k-NN predictor costs far more than predicting the held-out pairs).
    """
    if split not in SPLITS:
        raise InvalidArgumentError(f"unknown split {split!r}; use one of {list(SPLITS)}")
    _check_models(con, models, rank_models)
    # The ranking models are trained with the foundation methods (they need item pair sums).
    trained = {*FOUNDATION_METHODS, *ranking_models(con)}
    foundation = [m for m in models if m in trained]
    knn = [m for m in models if m not in trained]
    ranked_knn = [m for m in rank_models if m not in trained]
    if folds is not None:
        if split != "kfold":
            raise InvalidArgumentError("folds applies to the kfold split only")
        if folds < 2:
            raise InvalidArgumentError(
                f"k-fold cross-validation needs at least 2 folds, got {folds}"
            )
        execute(con, "update recsys_params set n_folds = ?", [folds])
    n_folds = 1
    if split == "kfold":
        n_folds = read_params(con).n_folds
    if split == "given":
        (n_folds,) = execute(
            con, "select count(distinct fold) from eval_given_ratings"
        ).fetchone() or (0,)
        if n_folds == 0:
            raise InvalidArgumentError(
                "the given split has no files; evaluate --train FILE --test FILE"
            )
    run_file(con, step_file("evaluate/reset_evaluation"), {"split": split})
    with tracked(f"evaluate, {split} split", n_folds, "folds") as advance:
        for fold in range(1, n_folds + 1):
            _run_fold(
                con,
                split,
                fold,
                foundation,
                knn,
                ranked_knn,
                autocommit=autocommit,
                memory_limit=memory_limit,
            )
            advance(1)


def _check_models(
    con: duckdb.DuckDBPyConnection, models: Sequence[str], rank_models: Sequence[str]
) -> None:
    """Raise unless every model is known and the build computed what it reads."""
    known = known_models(con)
    unknown = [m for m in [*models, *rank_models] if m not in known]
    if unknown:
        raise InvalidArgumentError(f"unknown model(s) {unknown}; use some of {known}")
    if not models:
        raise InvalidArgumentError("no model to evaluate")
    trained = {*FOUNDATION_METHODS, *ranking_models(con)}
    unbuilt = [m for m in models if m in trained and m not in _built_methods(con)]
    if unbuilt:
        raise InvalidArgumentError(
            f"the neighbours of {unbuilt} were not built; leave them out, or rebuild with "
            "recsys-duck build --neighbors item,user,content"
        )
    if rank_models:
        predictors.require_candidates(con)


def _run_fold(
    con: duckdb.DuckDBPyConnection,
    split: str,
    fold: int,
    foundation: Sequence[str],
    knn: Sequence[str],
    ranked_knn: Sequence[str],
    *,
    autocommit: bool,
    memory_limit: str | None,
) -> None:
    logger.info("evaluate: %s split, fold %d, training on the train part", split, fold)
    run_file(con, step_file("evaluate/prepare_evaluation"), {"split": split, "fold": fold})
    n_test, n_train, min_ratings = execute(
        con,
        "select count(*) filter (where is_test), count(*) filter (where not is_test), "
        "ceil(1 / (select test_fraction from recsys_params)) from eval_split",
    ).fetchone() or (0, 0, 0)
    if n_test == 0:
        advice = (
            f"a user needs at least {int(min_ratings)} ratings to have one held out; raise "
            "test_fraction (e.g. --test-fraction 0.5)"
            if split in ("holdout", "temporal")
            else f"a user needs at least {int(min_ratings)} train ratings of the holdout split "
            "to have one held out for validation; raise test_fraction"
            if split == "validation"
            else "a user needs at least 2 ratings to have one held out"
            if split == "leave_last_out"
            else "the test file holds no rating"
            if split == "given"
            else "use fewer folds"
        )
        raise RecsysError(f"fold {fold} of the {split} split holds out no rating: {advice}")
    if n_train == 0:
        raise RecsysError(
            f"fold {fold} of the {split} split leaves no rating to train on; use more data"
        )
    execute(con, "set schema = 'eval_train'")
    try:
        _drop_materialised_pair_stats(con)
        scope = _train_scope(con, foundation, ranked_knn, autocommit, memory_limit)
        ranking = frozenset(m for m in foundation if m not in FOUNDATION_METHODS)
        pipeline.run(con, replace(scope, ranking=ranking))
        if knn:
            _materialise_pair_stats(con, knn)
    finally:
        execute(con, "set schema = 'main'")
    params = {"split": split, "fold": fold}
    run_file(con, step_file("evaluate/record_evaluation"), params)
    if foundation:
        run_file(
            con,
            step_file("evaluate/record_foundation_methods"),
            {**params, "methods": list(foundation)},
        )
    for model in knn:
        logger.info("evaluate: fold %d, predicting the held-out ratings with %s", fold, model)
        run_file(con, step_file("evaluate/record_knn_predictions"), {**params, "model": model})
    if ranked_knn:
        _rank_with_predictors(con, params, ranked_knn)


#: Candidate pairs x train ratings per batch of users when a rating predictor ranks
#: (ml-latest-small: 100 candidates x 80k ratings, about two batches).
KNN_RANKING_BATCH_WORK = 4_000_000


def _rank_with_predictors(
    con: duckdb.DuckDBPyConnection, params: dict[str, object], models: Sequence[str]
) -> None:
    """Rank each test user's candidates (``knn_candidates``) by each model's predicted
    rating, in batches of users of about :data:`KNN_RANKING_BATCH_WORK` candidate x
    rating pairs, so that memory stays bounded as users grow."""
    n_candidates = read_params(con).n_rank_candidates
    ranges = batches(
        con,
        step_file("evaluate/knn_ranking.work"),
        KNN_RANKING_BATCH_WORK / n_candidates,
    )
    for model in models:
        logger.info(
            "evaluate: fold %d, ranking %d candidates per user with %s (%d batches)",
            params["fold"],
            n_candidates,
            model,
            len(ranges),
        )
        model_params = {**params, "model": model}
        run_file(con, step_file("evaluate/record_knn_ranked"), model_params)
        with tracked(f"ranking with {model}", len(ranges), "batches") as advance:
            for lo, hi in ranges:
                run_file(
                    con,
                    step_file("evaluate/record_knn_recommendations"),
                    {**model_params, "lo": lo, "hi": hi},
                )
                advance(1)


def _train_scope(
    con: duckdb.DuckDBPyConnection,
    foundation: Sequence[str],
    ranked_knn: Sequence[str],
    autocommit: bool,
    memory_limit: str | None,
) -> pipeline.Scope:
    """The plan's ``train`` scope for a fold: the neighbour tables the models read (the
    ranking models, and the rating predictors that rank, read the item side: their
    candidates are item_based's); for the k-NN rating predictors alone, only what they
    read (the neighbour tables take most of a build)."""
    if foundation or ranked_knn:
        ranking = set(foundation) - set(FOUNDATION_METHODS)
        needed = {kind for kind, method in METHOD_NAMES.items() if method in foundation}
        if ranking or ranked_knn:
            needed.add("item")
        return pipeline.Scope(
            "train",
            neighbors=frozenset(read_params(con).neighbors) & needed,
            autocommit=autocommit,
            memory_limit=memory_limit,
        )
    others = {p.stem for p in layer_files("50_recommend") if not p.stem.startswith("knn_")}
    return pipeline.Scope(
        "train",
        neighbors=frozenset(),
        predictors_only=True,
        skip=pipeline.CONTENT_OBJECTS | pipeline.COSINE_OBJECTS | others,
    )


def default_models(con: duckdb.DuckDBPyConnection) -> list[str]:
    """:data:`DEFAULT_MODELS` and the ranking models of ``ranking_models``, without the
    methods whose neighbour table the build left out (``build --neighbors``)."""
    built = _built_methods(con)
    ranking = [m for m in ranking_models(con) if m in built]
    foundation = [m for m in DEFAULT_MODELS if m in FOUNDATION_METHODS and m in built]
    return [*foundation, *ranking, *(m for m in DEFAULT_MODELS if m not in FOUNDATION_METHODS)]


def _built_methods(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The foundation and ranking methods the build's neighbour tables allow (popularity
    always; the ranking models with the item side)."""
    built = read_params(con).neighbors
    ranking = ranking_models(con) if "item" in built else []
    return {METHOD_NAMES["popularity"], *(METHOD_NAMES[kind] for kind in built), *ranking}


def _materialise_pair_stats(con: duckdb.DuckDBPyConnection, models: Sequence[str]) -> None:
    """Store the pair sums the models need as tables (the views would recompute them
    for every model). Views bind by name, so knn_pair_similarity then reads the tables."""
    sides = execute(
        con,
        "select distinct based from knn_models where based is not null "
        "and list_contains(?, model) order by based",
        [list(models)],
    ).fetchall()
    for (based,) in sides:
        view = quote_identifier(f"{based}_pair_stats")
        staged = quote_identifier(f"{based}_pair_stats__materialised")
        logger.info("evaluate: materialising %s", view)
        # based is 'item' or 'user' (a check constraint of knn_models), quoted anyway.
        execute(con, f"create table {staged} as select * from {view}")  # noqa: S608
        execute(con, f"drop view {view}")
        execute(con, f"alter table {staged} rename to {view}")


def _drop_materialised_pair_stats(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the pair-sum tables an earlier fold made of the views, so that the layers
    can create the views again."""
    tables = execute(
        con,
        "select table_name from duckdb_tables() where schema_name = 'eval_train' "
        "and table_name in ('item_pair_stats', 'user_pair_stats')",
    ).fetchall()
    for (table,) in tables:
        execute(con, f"drop table {quote_identifier(table)}")


def cleanup(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the training copy; run after the evaluation's transaction has committed."""
    run_file(con, step_file("evaluate/cleanup_evaluation"))


def results(con: duckdb.DuckDBPyConnection, split: str) -> EvaluationResult:
    """Read the stored metrics of ``split`` from the metric views."""
    rating = execute(
        con, "select * from eval_rating_metrics where split = ? order by fold, method", [split]
    ).df()
    ranking = execute(
        con,
        "select * from eval_ranking_metrics where split = ? order by fold, method, k",
        [split],
    ).df()
    summary = execute(
        con,
        "select * from eval_summary where split = ? order by method, metric, k nulls first",
        [split],
    ).df()
    return EvaluationResult(split=split, rating=rating, ranking=ranking, summary=summary)
