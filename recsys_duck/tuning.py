"""Settings of the ranking methods chosen by validation on the database's own ratings.

``recsys-duck tune`` scores, for each model of ``ranking_models`` it tunes, every row of
``ranking_grid`` of the model's algorithm and the model's current settings, and keeps
the best by NDCG@10. The score is the evaluation's (:mod:`recsys_duck.evaluation`, the
metric views of ``sql/70_evaluation``) on ``validation_split``: a second per-user
holdout of the holdout split's train part, so the holdout's test part is never read
and ``evaluate --split holdout`` then tests the chosen settings honestly. The other
ranking models are scored on the same split with their settings as they are, so every
``validation_ndcg`` (which the default ranking method is chosen by) comes from one
split. What was tried is kept in ``ranking_tuning``. The choosing is SQL
(``sql/steps/tune``); this module runs the steps in order, then recomputes the weights
of the models whose settings changed, and the tables that read them, in ``main``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import duckdb
import pandas as pd

from recsys_duck import evaluation, pipeline
from recsys_duck.errors import InvalidArgumentError
from recsys_duck.params import read_params
from recsys_duck.sql import cleaned_up, execute, run_file, step_file
from recsys_duck.storage import all_or_nothing

logger = logging.getLogger(__name__)

#: The cutoff of the metric tune maximises (NDCG@10).
CUTOFF = 10
#: What tune recomputes in ``main`` when settings changed: those models' weights, and the
#: steps of ``refresh`` (the mart ranks by the weights), so nothing is stale.
RECOMPUTED_STEPS = frozenset(
    {"item_weights", *(step.name for step in pipeline.PLAN if "refresh" in step.modes)}
)


def tune(
    con: duckdb.DuckDBPyConnection,
    models: Sequence[str] | None,
    *,
    autocommit: bool,
    memory_limit: str | None,
) -> None:
    """Choose the settings of ``models`` (default: every model of ``ranking_models``) on
    ``validation_split``, on a writer's connection, all or nothing."""
    names = evaluation.ranking_models(con)
    tuned = list(names if models is None else models)
    _check(con, tuned, names)
    with all_or_nothing(con, autocommit):
        with cleaned_up(lambda: execute(con, "drop table if exists _recsys_tune_candidates")):
            run_file(con, step_file("tune/add_candidates"), {"tuned": tuned})
            candidates = [
                row[0]
                for row in execute(
                    con, "select scored_as from _recsys_tune_candidates order by scored_as"
                ).fetchall()
            ]
            logger.info(
                "tune: %s, %d configurations on the validation split",
                ", ".join(tuned),
                len(candidates),
            )
            evaluation.run(
                con,
                "validation",
                candidates,
                autocommit=autocommit,
                memory_limit=memory_limit,
            )
            run_file(con, step_file("tune/record_tuning"))
        run_file(con, step_file("evaluate/reset_evaluation"), {"split": "validation"})
        _recompute_changed(con, tuned, autocommit=autocommit, memory_limit=memory_limit)
    evaluation.cleanup(con)


def _recompute_changed(
    con: duckdb.DuckDBPyConnection,
    tuned: Sequence[str],
    *,
    autocommit: bool,
    memory_limit: str | None,
) -> None:
    """Recompute, in ``main``, the weights of the tuned models whose settings changed
    (their chosen candidate is a grid row) and the steps of refresh; nothing when none
    changed."""
    changed = [
        row[0]
        for row in execute(
            con,
            "select model from ranking_tuning where chosen and candidate > 0 "
            "and list_contains(?, model) order by model",
            [list(tuned)],
        ).fetchall()
    ]
    if not changed:
        logger.info("tune: every model kept its settings; nothing to recompute")
        return
    logger.info("tune: recomputing the weights of %s and the mart", ", ".join(changed))
    pipeline.run(
        con,
        pipeline.Scope(
            "build",
            neighbors=frozenset(read_params(con).neighbors),
            steps=RECOMPUTED_STEPS,
            ranking=frozenset(changed),
            autocommit=autocommit,
            memory_limit=memory_limit,
        ),
    )


def _check(con: duckdb.DuckDBPyConnection, tuned: Sequence[str], names: Sequence[str]) -> None:
    """Raise unless tune can score ``tuned``: known ranking models, item neighbours
    built, lists at least :data:`CUTOFF` long."""
    if not names:
        raise InvalidArgumentError("ranking_models is empty: there is no ranking model to tune")
    unknown = [m for m in tuned if m not in names]
    if unknown:
        raise InvalidArgumentError(
            f"unknown ranking model(s) {unknown}; use some of {list(names)} "
            "(the ranking_models table)"
        )
    if not tuned:
        raise InvalidArgumentError("no model to tune")
    params = read_params(con)
    if "item" not in params.neighbors:
        raise InvalidArgumentError(
            "the ranking models need the item neighbours, which were not built; rebuild "
            "with recsys-duck build --neighbors item,..."
        )
    if params.n_recommendations < CUTOFF:
        raise InvalidArgumentError(
            f"tune scores NDCG@{CUTOFF} and the lists hold {params.n_recommendations} "
            f"movies; rebuild with recsys-duck build --n-recommendations {CUTOFF}"
        )


def results(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """What the last tune of each model tried (``ranking_tuning``), best first."""
    return execute(
        con,
        "select * from ranking_tuning "
        "order by model, round(validation_ndcg, 10) desc nulls last, candidate",
    ).df()
