"""evaluate on a split brought as files (--train FILE --test FILE), against hand-worked
metrics on a tiny split and against evaluate --split kfold on ml-latest-small's folds."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from recsys_duck import Recommender
from recsys_duck.errors import DataError, InvalidArgumentError
from recsys_duck.params import BuildParams
from tests.conftest import TINY

# Movies 1..5 of the tiny dataset. Train popularity: movie 1 rated 3 times, 2 and 4
# twice, 3 once (5 never), so the popularity order is 1, 2, 4, 3 (ties by smaller id).
TRAIN = "userId,movieId,rating,timestamp\n" + "".join(
    f"{u},{m},{r},{1000 + i}\n"
    for i, (u, m, r) in enumerate(
        [(1, 1, 5), (1, 2, 3), (2, 1, 4), (2, 3, 2), (3, 1, 3), (3, 4, 4), (4, 2, 4), (4, 4, 5)]
    )
)
# Relevant (rating >= 4): user 1's movie 4 and user 2's movie 4; user 3 has no relevant
# held-out movie and is left out of the means.
TEST = "userId,movieId,rating,timestamp\n1,4,5,2000\n1,3,2,2001\n2,4,4,2002\n3,5,1,2003\n"

# By hand: user 1 rated 1 and 2, so popularity lists 4, 3: a hit at rank 1.
# User 2 rated 1 and 3, so it lists 2, 4: a hit at rank 2.
#   @1: precision (1 + 0) / 2, recall (1 + 0) / 2, NDCG (1 + 0) / 2
#   @2: precision (1/2 + 1/2) / 2, recall (1 + 1) / 2, NDCG (1 + (1/log2 3) / 1) / 2,
#       MRR (1 + 1/2) / 2, hit rate 1
BY_HAND = {
    ("precision_at_k", 1): 0.5,
    ("recall_at_k", 1): 0.5,
    ("ndcg_at_k", 1): 0.5,
    ("precision_at_k", 2): 0.5,
    ("recall_at_k", 2): 1.0,
    ("ndcg_at_k", 2): (1 + 1 / math.log2(3)) / 2,
    ("mrr_at_k", 2): 0.75,
    ("hit_rate_at_k", 2): 1.0,
}
TINY_PARAMS = BuildParams(k=3, n_similar_users=2, n_item_neighbors=2, n_recommendations=3)


@pytest.fixture
def split_files(tmp_path: Path) -> tuple[Path, Path]:
    train, test = tmp_path / "train.csv", tmp_path / "test.csv"
    train.write_text(TRAIN)
    test.write_text(TEST)
    return train, test


def test_a_given_split_scores_as_worked_by_hand(split_files: tuple[Path, Path]) -> None:
    with Recommender(":memory:") as rec:
        rec.build(TINY, TINY_PARAMS)
        result = rec.evaluate(given=[split_files], models=["popularity"])
        assert result.split == "given"
        ranking = result.ranking.set_index(["k"])
        for (metric, k), expected in BY_HAND.items():
            assert ranking.loc[k, metric] == pytest.approx(expected, abs=1e-12), (metric, k)
        folds = rec.sql("select n_train_ratings, n_test, n_train_users from eval_folds")
        assert tuple(folds.iloc[0]) == (8, 4, 4)
        kept = rec.sql("select count(*) filter (where is_test) as n from eval_given_ratings")
        assert kept["n"][0] == 4


def test_a_bad_given_file_names_its_line_and_changes_nothing(
    split_files: tuple[Path, Path],
) -> None:
    train, test = split_files
    test.write_text(TEST + "4,99,4,2004\n")
    with Recommender(":memory:") as rec:
        rec.build(TINY, TINY_PARAMS)
        with pytest.raises(DataError) as info:
            rec.evaluate(given=[(train, test)], models=["popularity"])
        assert (info.value.path, info.value.line, info.value.column) == (str(test), 6, "movieId")
        assert "not in the database's movies table" in str(info.value)
        assert rec.sql("select count(*) as n from eval_given_ratings")["n"][0] == 0
        assert rec.sql("select count(*) as n from eval_folds")["n"][0] == 0
        with pytest.raises(InvalidArgumentError, match="--train FILE --test FILE"):
            rec.evaluate("given")


def test_the_command_line_takes_ml_100k_style_fold_files(tmp_path: Path) -> None:
    """u{1..2}.base / u{1..2}.test, tab-separated without a header, as ml-100k ships."""
    for fold in (1, 2):
        rows = TRAIN.splitlines()[1:]
        train = [r for i, r in enumerate(rows) if i % 2 != fold % 2 or i < 4]
        (tmp_path / f"u{fold}.base").write_text("".join(r.replace(",", "\t") + "\n" for r in train))
        (tmp_path / f"u{fold}.test").write_text(
            "".join(r.replace(",", "\t") + "\n" for r in TEST.splitlines()[1:])
        )
    db = tmp_path / "tiny.duckdb"
    run = [sys.executable, "-m", "recsys_duck.cli", "--db", str(db), "--quiet"]
    subprocess.run([*run, "build", "--data", str(TINY), "--k", "3"], check=True)
    out = subprocess.run(
        [
            *run,
            "evaluate",
            "--train",
            f"{tmp_path}/u{{1..2}}.base",
            "--test",
            f"{tmp_path}/u{{1..2}}.test",
            "--models",
            "popularity,baseline_only",
            "--cutoff",
            "2",
            "--csv",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    assert "popularity" in out.stdout and "baseline_only" in out.stdout
    with Recommender(db, read_only=True) as rec:
        folds = rec.sql("select fold from eval_folds where split = 'given' order by fold")
        assert list(folds["fold"]) == [1, 2]
    bad = subprocess.run(
        [*run, "evaluate", "--train", f"{tmp_path}/u1.base"], capture_output=True, text=True
    )
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines()[-1].startswith("Error: 1 --train file(s) but 0")


def test_kfold_given_as_files_equals_the_kfold_split(ml_small_dir: Path, tmp_path: Path) -> None:
    # A ranking method and a rating predictor: the folds, not the models, are under test
    # (and the neighbour tables would retrain for minutes per fold).
    models = ["popularity", "baseline_only"]
    with Recommender(tmp_path / "small.duckdb") as rec:
        rec.build(ml_small_dir, BuildParams(neighbors=()))
        folds = rec.sql(
            "select userId, movieId, rating, epoch(rated_at)::bigint as timestamp, fold "
            "from (select user_id as userId, movie_id as movieId, rating, rated_at, fold "
            "from kfold_split)"
        )
        pairs = []
        for fold in range(1, 6):
            train, test = tmp_path / f"train{fold}.csv", tmp_path / f"test{fold}.csv"
            folds[folds["fold"] != fold].drop(columns="fold").to_csv(train, index=False)
            folds[folds["fold"] == fold].drop(columns="fold").to_csv(test, index=False)
            pairs.append((train, test))
        kfold = rec.evaluate("kfold", models=models).summary
        given = rec.evaluate(given=pairs, models=models).summary
    key = ["method", "metric", "k"]
    both = kfold.merge(given, on=key, suffixes=("_kfold", "_given"), how="outer")
    assert len(both) == len(kfold) == len(given) > 0
    for column in ("mean", "std"):
        pd.testing.assert_series_equal(
            both[f"{column}_given"], both[f"{column}_kfold"], check_names=False, rtol=1e-12
        )
