"""The database file through SQLAlchemy, as a BI tool or a pandas user opens it.

The dialect is duckdb-sqlalchemy (the ``bi`` extra), on a read-only connection hardened
by ``recsys_duck.readonly_connect_args()`` and a ``NullPool``, as the README advises.
Everything read through it is compared with what DuckDB itself returns from the file.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from recsys_duck import Recommender, readonly_connect_args, readonly_engine
from recsys_duck.guard import RefusedError
from recsys_duck.params import BuildParams
from tests.conftest import TINY

PARAMS = BuildParams(k=3, n_similar_users=2, n_item_neighbors=2, n_recommendations=3)

TABLES = {
    "movies",
    "ratings",
    "tags",
    "links",
    "recsys_params",
    "movie_terms",
    "movie_tag_terms",
    "item_neighbors",
    "user_neighbors",
    "content_neighbors",
    "recommendations",
    "popular_movies",
    "eval_test_ratings",
    "eval_predictions",
    "eval_recommendations",
    "eval_train_items",
    "eval_folds",
    "eval_ranked_methods",
    "knn_models",
    "knn_requests",
    "baseline_biases",
    "item_pair_sums",
    "user_pair_sums",
}
VIEWS = {
    "movie_genres",
    "content_features",
    "rating_matrix_stats",
    "user_stats",
    "movie_stats",
    "item_co_ratings",
    "user_co_ratings",
    "item_pair_similarity",
    "user_pair_similarity",
    "item_similarity",
    "user_similarity",
    "content_similarity",
    "user_based_candidates",
    "item_based_candidates",
    "content_based_candidates",
    "user_based_predictions",
    "item_based_scores",
    "content_based_scores",
    "holdout_split",
    "temporal_split",
    "eval_rating_metrics",
    "eval_ranking_metrics",
    "eval_user_ranking_metrics",
    "knn_ratings",
    "item_pair_stats",
    "user_pair_stats",
    "knn_pair_similarity",
    "knn_predictions",
    "knn_recommendations",
    "popularity_scores",
    "knn_candidates",
    "kfold_split",
    "leave_last_out_split",
    "eval_cutoffs",
    "eval_summary",
    "rating_distribution",
    "long_tail",
    "popularity_concentration",
    "neighbor_similarity_distribution",
    "strongest_neighbor_pairs",
    "user_top_rated",
    "evaluated_methods",
    "evaluated_splits",
}

CATALOGUE_SQL = {
    "tables": "select table_name from duckdb_tables() where schema_name = 'main'",
    "views": "select view_name from duckdb_views() where schema_name = 'main' and not internal",
}


@pytest.fixture(scope="module")
def db_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny dataset built into a file, with a holdout evaluation stored."""
    path = tmp_path_factory.mktemp("sqlalchemy") / "tiny.duckdb"
    with Recommender(path) as rec:
        rec.build(TINY, PARAMS)
        rec.evaluate("holdout", test_fraction=0.5)
    # knn_requests is empty after a build; two requests give the k-NN views rows to read.
    with duckdb.connect(str(path)) as con:
        con.execute("insert into knn_requests values (1, 3), (2, 4)")
    return path


@pytest.fixture(scope="module")
def source(db_file: Path) -> dict[str, pd.DataFrame]:
    """What DuckDB itself returns: every table and view, the catalogue, a macro call.

    Read before any SQLAlchemy connection opens: in one process DuckDB shares one
    instance per file, which two different configurations cannot share.
    """
    found: dict[str, pd.DataFrame] = {}
    with Recommender(db_file, read_only=True) as rec:
        for kind, query in CATALOGUE_SQL.items():
            found[kind] = rec.sql(query)
        for name in TABLES | VIEWS:
            found[name] = rec.sql(f"select * from {name}")  # noqa: S608 (fixed names)
        found["recommend_item_based(1)"] = rec.recommend(1, n=10, method="item", k=2)
        found["similar_movies('Gamma')"] = rec.similar("Gamma", n=2)
    return found


@pytest.fixture
def engine(db_file: Path, source: dict[str, pd.DataFrame]) -> Iterator[sa.Engine]:
    """What the README gives BI tools: every statement is checked before it runs."""
    engine = readonly_engine(db_file)
    yield engine
    engine.dispose()


@pytest.mark.parametrize(
    "statement",
    [
        "call enable_logging('QueryLog')",
        "select * from system.main.enable_logging('QueryLog')",
        "pragma enable_verification",
        "set threads = 1",
    ],
)
def test_the_engine_refuses_what_would_change_the_connection(
    engine: sa.Engine, statement: str
) -> None:
    with engine.connect() as con:
        with pytest.raises(RefusedError):
            con.execute(sa.text(statement))
        assert con.execute(sa.text("select current_setting('enable_logging')")).scalar() == 0


@pytest.fixture
def settings_only(db_file: Path, source: dict[str, pd.DataFrame]) -> Iterator[sa.Engine]:
    """An engine hardened by its connection settings alone, without the statement check."""
    engine = sa.create_engine(
        f"duckdb:///{db_file}", connect_args=readonly_connect_args(), poolclass=NullPool
    )
    yield engine
    engine.dispose()


def test_the_connect_arguments_alone_let_enable_logging_through(settings_only: sa.Engine) -> None:
    """Why the README gives readonly_engine(): DuckDB 1.5.5 runs this past
    lock_configuration. If a later DuckDB refuses it, the guard may become optional."""
    with settings_only.connect() as con:
        con.execute(sa.text("call enable_logging('QueryLog')"))
        assert con.execute(sa.text("select current_setting('enable_logging')")).scalar() == 1
        con.execute(sa.text("call disable_logging()"))


def sorted_frame(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(list(frame.columns)).reset_index(drop=True)


def assert_same_values(got: pd.DataFrame, want: pd.DataFrame) -> None:
    """Equal values; dtypes may differ (pandas reads INTEGER as int64 and a nullable
    INTEGER as float64 through SQLAlchemy, as int32 / Int32 from DuckDB)."""
    assert len(want) > 0
    got = got.copy()
    for column in got.columns:
        # a column that is NULL on every row comes back as None objects, not NaN floats
        if got[column].dtype == object and want[column].dtype.kind == "f":
            got[column] = got[column].astype("float64")
    pd.testing.assert_frame_equal(sorted_frame(got), sorted_frame(want), check_dtype=False)


def test_the_dialect_is_duckdb_sqlalchemy(engine: sa.Engine) -> None:
    assert (engine.dialect.name, engine.dialect.driver) == ("duckdb", "duckdb_sqlalchemy")
    with engine.connect() as con:
        settings = con.execute(
            sa.text(
                "select current_setting('access_mode'), "
                "current_setting('enable_external_access'), "
                "current_setting('lock_configuration')"
            )
        ).one()
    assert tuple(settings) == ("read_only", False, True)


def test_inspector_lists_every_table_and_view(
    engine: sa.Engine, source: dict[str, pd.DataFrame]
) -> None:
    inspector = sa.inspect(engine)
    tables, views = set(inspector.get_table_names()), set(inspector.get_view_names())
    assert tables == set(source["tables"]["table_name"]) and TABLES <= tables
    assert views == set(source["views"]["view_name"]) and VIEWS <= views


@pytest.mark.parametrize("view", sorted(VIEWS))
def test_inspector_gives_the_columns_of_views(
    engine: sa.Engine, source: dict[str, pd.DataFrame], view: str
) -> None:
    columns = sa.inspect(engine).get_columns(view)
    assert [c["name"] for c in columns] == list(source[view].columns)
    assert not any(isinstance(c["type"], sa.types.NullType) for c in columns)


def test_metadata_reflects_tables_and_views(engine: sa.Engine) -> None:
    metadata = sa.MetaData()
    metadata.reflect(engine, views=True)
    assert TABLES | VIEWS <= set(metadata.tables)
    ratings = metadata.tables["ratings"]
    assert [c.name for c in ratings.primary_key] == ["user_id", "movie_id"]
    stats = metadata.tables["rating_matrix_stats"]
    assert [c.name for c in stats.columns] == [
        "n_users",
        "n_movies",
        "n_ratings",
        "density",
        "sparsity",
        "mean_rating",
    ]
    assert isinstance(stats.c.density.type, sa.Float)


def test_read_sql_returns_what_duckdb_returns(
    engine: sa.Engine, source: dict[str, pd.DataFrame]
) -> None:
    metadata = sa.MetaData()
    metadata.reflect(engine, views=True)
    for name in sorted(TABLES | VIEWS):
        got = pd.read_sql(sa.select(metadata.tables[name]), engine)
        assert_same_values(got, source[name])


def test_bound_parameters(engine: sa.Engine, source: dict[str, pd.DataFrame]) -> None:
    got = pd.read_sql(
        sa.text("select * from recommendations where user_id = :uid and method = :method"),
        engine,
        params={"uid": 1, "method": "item_based"},
    )
    recommendations = source["recommendations"]
    want = recommendations[
        (recommendations["user_id"] == 1) & (recommendations["method"] == "item_based")
    ]
    assert_same_values(got, want)


def test_table_macros(engine: sa.Engine, source: dict[str, pd.DataFrame]) -> None:
    got = pd.read_sql(
        sa.text("select * from recommend_item_based(:uid, n_neighbors := 2)"),
        engine,
        params={"uid": 1},
    )
    pd.testing.assert_frame_equal(got, source["recommend_item_based(1)"], check_dtype=False)
    got = pd.read_sql(
        sa.text("select * from similar_movies(:title, n := 2)"), engine, params={"title": "Gamma"}
    )
    pd.testing.assert_frame_equal(got, source["similar_movies('Gamma')"], check_dtype=False)


@pytest.mark.parametrize(
    "statement",
    [
        "select * from read_csv('/etc/passwd')",
        "select * from read_text('/etc/passwd')",
        "set enable_external_access = true",
        "reset lock_configuration",
        "install httpfs",
    ],
)
def test_engine_is_hardened(settings_only: sa.Engine, statement: str) -> None:
    with settings_only.connect() as con, pytest.raises(sa.exc.DBAPIError):
        con.execute(sa.text(statement))


def test_a_held_connection_keeps_its_snapshot_and_a_new_one_sees_a_rebuild(
    tmp_path: Path,
) -> None:
    """The BI scenario: a connection that stays open keeps the snapshot it opened while
    the command line rebuilds the file; the next connection reads the new file."""
    path = tmp_path / "bi.duckdb"
    with Recommender(path) as rec:
        rec.build(TINY, PARAMS)
    engine = sa.create_engine(
        f"duckdb:///{path}", connect_args=readonly_connect_args(), poolclass=NullPool
    )
    count = sa.text("select n_ratings from rating_matrix_stats")
    with engine.connect() as held:
        assert held.execute(count).scalar_one() == 7
        done = subprocess.run(
            [sys.executable, "-m", "recsys_duck.cli", "--db", str(path), "--quiet"]
            + ["build", "--data", str(TINY), "--k", "10", "--n-recommendations", "1"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert held.execute(sa.text("select count(*) from recommendations")).scalar_one() > 21
    with engine.connect() as fresh:
        # one recommendation per user (3) and method (4, and the 3 ranking methods)
        assert fresh.execute(sa.text("select count(*) from recommendations")).scalar_one() == 21
    engine.dispose()
