"""recsys-duck tune: settings of the ranking models chosen on validation_split.

On a generated dataset (40 users in three taste groups, 30 movies, 15 ratings each:
enough for a second holdout inside the holdout's train part, and a build and a tune in
about two seconds each).
"""

from __future__ import annotations

import hashlib
import math
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from recsys_duck import Recommender
from recsys_duck.errors import InvalidArgumentError
from recsys_duck.params import BuildParams

PARAMS = BuildParams(k=10, n_recommendations=10)
SETTINGS = ["neighbors", "shrinkage", "normalize", "rating_values", "alpha", "beta", "l2", "steps"]


def write_dataset(folder: Path, flip_holdout_test: bool = False) -> Path:
    """Users like the movies of their group (m % 3 == u % 3) and rate them about 4.5,
    the others about 2.5. With ``flip_holdout_test``, every rating of the holdout
    split's test part is replaced by 5.5 - r (the split's membership depends on the ids
    alone, so it stays the same)."""
    rng = np.random.default_rng(7)
    rows = []
    for user in range(1, 41):
        for movie in rng.choice(30, 15, replace=False) + 1:
            mean = 4.5 if movie % 3 == user % 3 else 2.5
            rating = float(np.clip(np.round(mean + rng.normal(0, 0.7)), 1, 5))
            rows.append((user, int(movie), rating, 1_000_000 + 1000 * user + int(movie)))
    ratings = pd.DataFrame(rows, columns=["userId", "movieId", "rating", "timestamp"])
    if flip_holdout_test:
        test = holdout_test(ratings)
        ratings.loc[test, "rating"] = 5.5 - ratings.loc[test, "rating"]
    folder.mkdir(parents=True)
    ratings.to_csv(folder / "ratings.csv", index=False)
    movies = pd.DataFrame({"movieId": range(1, 31)})
    movies["title"] = [f"Movie {m} (2000)" for m in movies["movieId"]]
    movies["genres"] = [("Drama", "Comedy", "Action")[m % 3] for m in movies["movieId"]]
    movies.to_csv(folder / "movies.csv", index=False)
    return folder


def first_of_each_user(ratings: pd.DataFrame, key: str, fraction: float = 0.2) -> pd.Series:
    """Independently of the SQL: the first floor(fraction * n) ratings of each user in the
    order md5(key + user:movie), then movie_id."""

    def digest(row: pd.Series) -> str:
        text = f"{key}{int(row['userId'])}:{int(row['movieId'])}"
        return hashlib.md5(text.encode()).hexdigest()  # noqa: S324 - the split's order

    ordered = ratings.assign(digest=ratings.apply(digest, axis=1)).sort_values(
        ["userId", "digest", "movieId"]
    )
    position = ordered.groupby("userId").cumcount() + 1
    size = ordered.groupby("userId")["movieId"].transform("size")
    chosen = position <= np.floor(fraction * size)
    return chosen.reindex(ratings.index)


def holdout_test(ratings: pd.DataFrame) -> pd.Series:
    return first_of_each_user(ratings, "42:")


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return write_dataset(tmp_path / "data")


@pytest.fixture
def built(tmp_path: Path, data: Path) -> Path:
    path = tmp_path / "tune.duckdb"
    with Recommender(path) as rec:
        rec.build(data, PARAMS)
    return path


def test_validation_split_is_a_second_holdout_of_the_holdout_train_part(built: Path) -> None:
    ratings = pd.read_csv(built.parent / "data" / "ratings.csv")
    train = ratings[~holdout_test(ratings)].reset_index(drop=True)
    train["is_test"] = first_of_each_user(train, "validation:42:")
    with duckdb.connect(str(built), read_only=True) as con:
        split = con.execute(
            "select user_id as userId, movie_id as movieId, is_test from validation_split"
        ).df()
    got = split.merge(train, on=["userId", "movieId"], how="outer", suffixes=("", "_want"))
    assert len(got) == len(train) == len(split)  # the holdout's train part, no test rating
    assert (got["is_test"] == got["is_test_want"]).all()
    assert 0 < got["is_test"].sum() < len(got)


def test_tune_keeps_the_best_of_each_model_by_validation_ndcg(built: Path) -> None:
    with Recommender(built) as rec:
        tried = rec.tune(["item_knn", "rp3beta"])
        models = rec.sql("select * from ranking_models order by model")
        freshness = rec.sql("select * from freshness")
        leftovers = rec.sql(
            "select (select count(*) from eval_folds where split = 'validation') as folds, "
            "(select count(*) from duckdb_schemas() where schema_name = 'eval_train') as s"
        )
    # The current settings, and the seeded grid's other rows (each algorithm's grid holds
    # the current settings once: 4 item_knn and 4 rp3beta rows; item_ridge not tuned).
    assert tried.groupby("model").size().to_dict() == {"item_knn": 4, "rp3beta": 4, "item_ridge": 1}
    assert tried["validation_ndcg"].notna().all()
    for model, rows in tried.groupby("model"):
        best = rows.assign(ndcg=rows["validation_ndcg"].round(10)).sort_values(
            ["ndcg", "candidate"], ascending=[False, True]
        )
        assert rows["chosen"].sum() == 1
        assert best.iloc[0]["chosen"], model
        kept = models[models["model"] == model].iloc[0]
        assert kept["validation_ndcg"] == best.iloc[0]["validation_ndcg"]
        assert [kept[s] for s in SETTINGS] == [best.iloc[0][s] for s in SETTINGS]
        assert kept["tuned_on"].startswith("recsys-duck tune")
    # Candidates scored and gone: only the three models remain, nothing stale or left over.
    assert list(models["model"]) == ["item_knn", "item_ridge", "rp3beta"]
    assert not freshness["is_stale"].any()
    assert leftovers.iloc[0].tolist() == [0, 0]


def test_each_candidate_scores_as_evaluate_scores_its_settings(built: Path) -> None:
    with Recommender(built) as rec:
        tried = rec.tune(["rp3beta"])
    # The same settings as models of their own, scored by evaluate on the same split.
    with duckdb.connect(str(built)) as con:
        con.execute("delete from ranking_models")
        for row in tried.itertuples(index=False):
            columns = ["model", "algorithm", *SETTINGS]
            values = [f"{row.model}_{row.candidate}", row.algorithm]
            values += [getattr(row, s) for s in SETTINGS]
            marks = ", ".join("?" for _ in columns)
            con.execute(
                f"insert into ranking_models ({', '.join(columns)}) values ({marks})",  # noqa: S608
                [v.item() if hasattr(v, "item") else v for v in values],
            )
    with Recommender(built) as rec:
        names = [f"{row.model}_{row.candidate}" for row in tried.itertuples(index=False)]
        result = rec.evaluate("validation", models=names)
    ndcg = result.ranking[result.ranking["k"] == 10].set_index("method")["ndcg_at_k"]
    for row in tried.itertuples(index=False):
        assert math.isclose(
            row.validation_ndcg, ndcg[f"{row.model}_{row.candidate}"], abs_tol=1e-12
        )


def test_tune_never_reads_the_holdout_test_part(tmp_path: Path, built: Path) -> None:
    flipped = tmp_path / "flipped.duckdb"
    with Recommender(flipped) as rec:
        rec.build(write_dataset(tmp_path / "flipped", flip_holdout_test=True), PARAMS)
        changed = rec.tune()
    with Recommender(built) as rec:
        original = rec.tune()
        # The flip did change the holdout's test part: evaluate does read it.
        with Recommender(flipped) as other:
            test_ndcg = [
                r.evaluate("holdout", models=["item_knn"]).at(10)["ndcg_at_k"].iloc[0]
                for r in (rec, other)
            ]
    assert test_ndcg[0] != test_ndcg[1]
    columns = ["model", "candidate", "validation_ndcg", "chosen"]
    pd.testing.assert_frame_equal(original[columns], changed[columns], rtol=1e-12)


def test_the_tuned_database_equals_a_rebuild_which_keeps_the_settings(
    built: Path, data: Path
) -> None:
    tables = {
        "item_weights": "select * from item_weights order by model, movie_id, neighbor_id",
        "recommendations": "select * from recommendations order by method, user_id, rank",
    }
    kept = ["ranking_models", "ranking_tuning", "ranking_grid", "knn_models"]
    with duckdb.connect(str(built)) as con:
        # An edited grid and an edited rating predictor are the user's; a rebuild keeps them.
        con.execute("delete from ranking_grid where algorithm = 'item_knn' and neighbors = 50")
        con.execute("update knn_models set k = 7 where model = 'knn_basic_item_cosine'")
    with Recommender(built) as rec:
        rec.tune(["item_knn"])
        tuned = {name: rec.sql(query) for name, query in tables.items()}
        models = {name: rec.sql(f"select * from {name} order by all") for name in kept}  # noqa: S608
        for rebuild in ({}, {"data_dir": data}):  # from the file's ratings, and from files
            rec.build(params=PARAMS, **rebuild)
            for name, query in tables.items():
                pd.testing.assert_frame_equal(rec.sql(query), tuned[name], rtol=1e-12)
            for name in kept:
                pd.testing.assert_frame_equal(
                    rec.sql(f"select * from {name} order by all"),  # noqa: S608
                    models[name],
                )
    # item_knn: its current settings and the grid's other row left (neighbours 20,
    # shrinkage 50); the other two models as they are.
    assert len(models["ranking_tuning"]) == 2 + 1 + 1
    assert (models["knn_models"]["k"] == 7).any()


def test_tune_refuses_in_one_line_and_changes_nothing(built: Path) -> None:
    before = built.read_bytes()
    with Recommender(built) as rec, pytest.raises(InvalidArgumentError, match="nope"):
        rec.tune(["nope"])
    done = subprocess.run(
        [sys.executable, "-m", "recsys_duck.cli", "--db", str(built), "tune", "--models", "x"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    (line,) = done.stderr.strip().splitlines()
    assert "unknown ranking model(s) ['x']" in line and "item_knn" in line
    assert built.read_bytes() == before


def test_tune_command_prints_what_it_tried(built: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "recsys_duck.cli", "--db", str(built), "-q", "tune", "--csv"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    from io import StringIO

    printed = pd.read_csv(StringIO(done.stdout))
    with duckdb.connect(str(built), read_only=True) as con:
        stored = con.execute("select * from ranking_tuning").df()
    # The seeded grid (4 + 4 + 6 rows) holds each model's current settings once.
    assert len(printed) == len(stored) == 4 + 4 + 6
    assert printed.groupby("model")["chosen"].sum().to_dict() == {
        "item_knn": 1,
        "item_ridge": 1,
        "rp3beta": 1,
    }
