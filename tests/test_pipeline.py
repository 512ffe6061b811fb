"""The declared plan (recsys_duck.pipeline): which steps each scope runs, in what order,
and that a scope's run on the tiny data does what its name says."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from recsys_duck import Recommender, pipeline
from recsys_duck.params import BuildParams
from tests.conftest import TINY


def _steps(scope: pipeline.Scope) -> list[str]:
    return [step.name for step in pipeline.PLAN if step.applies(scope)]


def test_a_first_build_runs_every_step_but_the_copies() -> None:
    scope = pipeline.Scope("build", data_dir=Path("x"))
    assert _steps(scope) == [s.name for s in pipeline.PLAN if s.name not in ("copy", "models")]


def test_a_rebuild_copies_instead_of_loading() -> None:
    steps = _steps(pipeline.Scope("build", copy_previous=True, keep_models=True))
    assert "copy" in steps and "models" in steps and "load" not in steps


def test_a_build_with_new_data_keeps_the_models_of_the_file_it_replaces() -> None:
    steps = _steps(pipeline.Scope("build", data_dir=Path("x"), keep_models=True))
    assert "load" in steps and "models" in steps and "copy" not in steps


def test_build_leaves_out_the_neighbour_kinds_not_asked_for() -> None:
    steps = _steps(pipeline.Scope("build", neighbors=frozenset({"item"}), data_dir=Path("x")))
    assert "item_neighbors" in steps
    assert not {"user_neighbors", "content_neighbors", "movie_terms"} & set(steps)


def test_train_rebuilds_what_depends_on_ratings_and_tags() -> None:
    # Not the tables and settings (read from main); the content model too, from the
    # tags known at training time.
    assert _steps(pipeline.Scope("train")) == [
        "movie_terms",
        "10_staging",
        "content_profiles",
        "20_stats",
        "25_baseline",
        "baseline_biases",
        "30_similarity",
        "pair_sums",
        "40_neighbors",
        "item_neighbors",
        "user_neighbors",
        "content_neighbors",
        "item_weights",
        "50_recommend",
        "60_marts",
        "popular_movies",
        "recommendations",
    ]


def test_train_for_the_rating_predictors_skips_the_neighbour_tables() -> None:
    scope = pipeline.Scope("train", neighbors=frozenset(), predictors_only=True)
    assert _steps(scope) == [
        "20_stats",
        "25_baseline",
        "baseline_biases",
        "30_similarity",
        "50_recommend",
    ]


def test_increment_updates_stored_tables_and_leaves_views_alone() -> None:
    assert _steps(pipeline.Scope("increment", neighbors=frozenset({"item", "user"}))) == [
        "load",
        "pair_sums",
        "item_neighbors",
        "user_neighbors",
        "item_weights",
        "freshness",
    ]


def test_refresh_recomputes_what_the_increment_deferred() -> None:
    steps = _steps(pipeline.Scope("refresh", neighbors=frozenset({"item", "user"})))
    assert steps == [
        "25_baseline",
        "baseline_biases",
        # which recomputes the weights only when add-ratings deferred them
        "item_weights",
        "60_marts",
        "popular_movies",
        "recommendations",
        "freshness",
    ]
    filled = {t for step in pipeline.PLAN if step.name in steps for t in step.objects()}
    assert {*pipeline.DEFERRED, pipeline.WEIGHTS} <= filled


def test_a_filled_table_is_declared_by_an_earlier_layer() -> None:
    declared: set[str] = set()
    for step in pipeline.PLAN:
        if step.is_layer:
            declared.update(step.objects())
        else:
            missing = set(step.fills) - declared
            assert not missing, f"{step.name} fills {missing} before a layer declares them"


def test_neighbor_scope_recomputes_one_table_and_keeps_the_others() -> None:
    with Recommender(":memory:") as rec:
        rec.build(TINY, BuildParams(k=3, n_similar_users=2, n_item_neighbors=2))
        before = {t: rec.sql(f"select * from {t} order by all") for t in ("user_neighbors",)}  # noqa: S608
        items = rec.sql("select * from item_neighbors order by all")
        rec.sql("delete from item_neighbors")
        report = pipeline.run(rec.con, pipeline.neighbor_scope("item"))
        assert set(report.seconds) == {
            "30_similarity",
            "pair_sums",
            "40_neighbors",
            "item_neighbors",
        }
        assert rec.sql("select * from item_neighbors order by all").equals(items)
        assert rec.sql("select * from user_neighbors order by all").equals(before["user_neighbors"])


@pytest.mark.parametrize("kind", ["item", "user", "content"])
def test_neighbor_scope_names_its_steps(kind: str) -> None:
    steps = _steps(pipeline.neighbor_scope(kind))
    assert steps[-1] == pipeline.NEIGHBOR_TABLES[kind]
    assert ("pair_sums" in steps) == (kind != "content")


def test_item_weights_logs_each_models_time(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="recsys_duck.pipeline")
    with Recommender(":memory:") as rec:
        rec.build(TINY, BuildParams(k=3, n_similar_users=2, n_item_neighbors=2))
        models = rec.sql("select model from ranking_models order by model")["model"].tolist()
    lines = [r.getMessage() for r in caplog.records if r.name == "recsys_duck.pipeline"]
    timed = [line.split()[1] for line in lines if re.match(r"item_weights: \S+ done in \d", line)]
    assert sorted(timed) == models and len(models) == 3
