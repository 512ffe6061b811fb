"""Every MovieLens release's layout, and files of your own, load into the same tables.

Each test writes one small dataset in a release's own layout (``.dat`` files, ml-100k's
``u.data`` / ``u.item`` / ``u.genre``, Latin-1 where the release is) and the same data in
ml-latest-small's CSV layout, builds both, and compares every table of the two databases.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import hashlib
import http.server
import io
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import duckdb
import pandas as pd
import psycopg
import pytest
from click.testing import CliRunner

from recsys_duck import Recommender, download
from recsys_duck.cli import cli
from recsys_duck.errors import DataError
from recsys_duck.layouts import LAYOUTS, detect
from recsys_duck.loader import FilesInput
from recsys_duck.params import BuildParams
from tests.test_publish import Postgres, pg  # noqa: F401 - the PostgreSQL server fixture

#: ml-100k's u.genre: the genre of each flag of u.item, in order.
GENRES_100K = (
    "unknown|Action|Adventure|Animation|Children's|Comedy|Crime|Documentary|Drama|Fantasy|"
    "Film-Noir|Horror|Musical|Mystery|Romance|Sci-Fi|Thriller|War|Western"
).split("|")

# (movieId, title, genres in u.genre's order); an accented title (Latin-1 in ml-1m and
# ml-100k), one with a comma and double quotes, one with no genre but 'unknown'.
MOVIES = [
    (1, "Toy Story (1995)", ["Animation", "Children's", "Comedy"]),
    (2, "Misérables, Les (1995)", ["Drama", "Musical"]),
    (3, 'Sayonara "Friend" (1999)', ["Drama"]),
    (5, "Heat (1995)", ["Action", "Crime", "Thriller"]),
    (7, "Unknown Thing (1990)", []),
    (8, "Alien (1979)", ["Action", "Horror", "Sci-Fi", "Thriller"]),
]
# (userId, movieId, rating, timestamp): whole stars, which every release allows.
RATINGS = [
    (1, 1, 5, 978300760),
    (1, 2, 3, 978302109),
    (1, 5, 4, 978301968),
    (1, 8, 2, 978300275),
    (2, 1, 4, 978824291),
    (2, 3, 5, 978298709),
    (2, 5, 5, 978299026),
    (2, 7, 1, 978299941),
    (3, 1, 3, 978297039),
    (3, 2, 4, 978298413),
    (3, 8, 5, 978220179),
    (4, 3, 2, 978199279),
    (4, 5, 4, 978158471),
    (4, 8, 4, 978156168),
    (5, 1, 1, 978824268),
    (5, 2, 5, 978824351),
    (5, 7, 3, 978300055),
]
TAGS = [(1, 8, "space", 1215184630), (3, 8, "scary", 1215184631), (2, 5, "heist", 1215184632)]
PARAMS = BuildParams(k=3, n_similar_users=2, n_item_neighbors=2, n_recommendations=3)


def _genres(names: list[str]) -> str:
    return "|".join(names) if names else "(no genres listed)"


def write_csv_layout(folder: Path, *, tags: bool) -> Path:
    """The data in ml-latest-small's layout (no links: only the CSV releases have them)."""
    folder.mkdir(parents=True)
    files = {
        "movies.csv": (["movieId", "title", "genres"], [(m, t, _genres(g)) for m, t, g in MOVIES]),
        "ratings.csv": (["userId", "movieId", "rating", "timestamp"], RATINGS),
    }
    if tags:
        files["tags.csv"] = (["userId", "movieId", "tag", "timestamp"], TAGS)
    for name, (header, rows) in files.items():
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        (folder / name).write_text(out.getvalue(), encoding="utf-8")
    return folder


def _dat(rows: list[tuple[object, ...]]) -> str:
    return "".join("::".join(str(v) for v in row) + "\n" for row in rows)


def write_ml_10m(folder: Path) -> Path:
    folder.mkdir(parents=True)
    movies = [(m, t, _genres(g)) for m, t, g in MOVIES]
    (folder / "movies.dat").write_text(_dat(movies), encoding="utf-8")
    (folder / "ratings.dat").write_text(_dat(RATINGS), encoding="utf-8")  # type: ignore[arg-type]
    (folder / "tags.dat").write_text(_dat(TAGS), encoding="utf-8")  # type: ignore[arg-type]
    return folder


def write_ml_1m(folder: Path) -> Path:
    folder.mkdir(parents=True)
    movies = [(m, t, _genres(g)) for m, t, g in MOVIES]
    (folder / "movies.dat").write_bytes(_dat(movies).encode("latin-1"))
    (folder / "ratings.dat").write_bytes(_dat(RATINGS).encode("latin-1"))  # type: ignore[arg-type]
    (folder / "users.dat").write_bytes(b"1::F::1::10::48067\n")
    return folder


def write_ml_100k(folder: Path) -> Path:
    folder.mkdir(parents=True)
    items = []
    for movie_id, title, genres in MOVIES:
        flags = [
            "1" if g in genres or (g == "unknown" and not genres) else "0" for g in GENRES_100K
        ]
        items.append("|".join([str(movie_id), title, "01-Jan-1995", "", "http://x", *flags]))
    (folder / "u.item").write_bytes(("\n".join(items) + "\n").encode("latin-1"))
    ratings = "".join("\t".join(str(v) for v in row) + "\n" for row in RATINGS)
    (folder / "u.data").write_text(ratings, encoding="utf-8")
    genre_lines = "".join(f"{g}|{i}\n" for i, g in enumerate(GENRES_100K)) + "\n"
    (folder / "u.genre").write_text(genre_lines, encoding="utf-8")
    return folder


WRITERS = {"ml-10m": write_ml_10m, "ml-1m": write_ml_1m, "ml-100k": write_ml_100k}


def every_table(rec: Recommender) -> dict[str, pd.DataFrame]:
    """Every row of every table of the database, in order (but the time when freshness
    says the tables were computed, which differs between any two builds)."""
    tables = rec.sql("select table_name from duckdb_tables() where schema_name = 'main'")
    return {
        name: rec.sql(f'select * from "{name}" order by all').drop(  # noqa: S608
            columns=["computed_at"] if name == "freshness" else []
        )
        for name in sorted(tables["table_name"])
    }


@pytest.mark.parametrize("release", list(WRITERS))
def test_a_release_builds_the_same_tables_as_its_data_in_csv(release: str, tmp_path: Path) -> None:
    folder = WRITERS[release](tmp_path / release)
    layout = detect(folder)
    assert layout is LAYOUTS[release]
    scale = layout.scale
    given = dataclasses.replace(
        PARAMS, rating_min=scale.low, rating_max=scale.high, rating_step=scale.step
    )
    csv_folder = write_csv_layout(tmp_path / "csv", tags=layout.file("tags") is not None)
    with Recommender(":memory:") as ours, Recommender(":memory:") as reference:
        ours.build(folder, PARAMS)
        reference.build(csv_folder, given)
        got, expected = every_table(ours), every_table(reference)
        assert list(got) == list(expected)
        for name, frame in got.items():
            pd.testing.assert_frame_equal(frame, expected[name], obj=name)
        for name in ("ratings", "item_neighbors", "content_neighbors", "recommendations"):
            assert len(got[name]) > 0, name
        stored = ours.sql("select rating_min, rating_max, rating_step from recsys_params")
        assert tuple(stored.iloc[0]) == (scale.low, scale.high, scale.step)
        titles = set(ours.sql("select title from movies")["title"])
        assert {"Misérables, Les (1995)", 'Sayonara "Friend" (1999)'} <= titles


def test_ml_100k_genres_come_from_the_flags(tmp_path: Path) -> None:
    with Recommender(":memory:") as rec:
        rec.build(write_ml_100k(tmp_path / "ml-100k"), PARAMS)
        genres = dict(rec.sql("select movie_id, genres from movies").itertuples(index=False))
    assert genres[1] == "Animation|Children's|Comedy"
    assert genres[7] == "(no genres listed)"  # only the 'unknown' flag set


@pytest.mark.parametrize(
    ("release", "file", "text", "line", "column", "message"),
    [
        (
            "ml-1m",
            "ratings.dat",
            "1::1::5::978300760\n1::2::6::978302109\n",
            2,
            "rating (field 3)",
            "rating 6 is outside 1..5, the rating scale",
        ),
        (
            "ml-10m",
            "ratings.dat",
            "1::1::5::978300760\n1::2::4.25::978302109\n",
            2,
            "rating (field 3)",
            "not on the half-star scale",
        ),
        (
            "ml-100k",
            "u.data",
            "1\t1\t5\t978300760\n\n1\tx\t4\t978302109\n",
            3,
            "movieId (field 2)",
            "movieId (field 2) 'x' is not a whole number",
        ),
        (
            "ml-1m",
            "ratings.dat",
            "1::1::5::978300760\n1::2::4\n",
            2,
            "timestamp (field 4)",
            "fewer fields than the 4 of the format ('::'-separated Latin-1 text",
        ),
        ("ml-10m", "ratings.dat", "1::99::5::978300760\n", 1, "movieId (field 2)", "movies.dat"),
    ],
    ids=["off the scale", "off a step", "not a whole number", "missing field", "unknown movie"],
)
def test_a_bad_value_in_a_release_names_its_file_line_and_field(
    release: str,
    file: str,
    text: str,
    line: int,
    column: str | None,
    message: str,
    tmp_path: Path,
) -> None:
    folder = WRITERS[release](tmp_path / release)
    (folder / file).write_text(text, encoding="utf-8")
    with Recommender(":memory:") as rec, pytest.raises(DataError) as info:
        rec.build(folder, PARAMS)
    error = info.value
    assert (error.path, error.line, error.column) == (str(folder / file), line, column)
    assert message in str(error)


def test_ml_100k_without_u_genre_says_what_it_holds(tmp_path: Path) -> None:
    folder = write_ml_100k(tmp_path / "ml-100k")
    (folder / "u.genre").unlink()
    with Recommender(":memory:") as rec, pytest.raises(DataError, match="u.genre is missing"):
        rec.build(folder, PARAMS)


def test_a_folder_of_no_release_lists_what_each_holds(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(DataError, match=r"u\.data and u\.item \(ml-100k\)"):
        detect(tmp_path)


# -- files of your own ------------------------------------------------------------------


def test_parquet_with_other_column_names_and_a_1_to_10_scale_builds_and_recommends(
    tmp_path: Path,
) -> None:
    ratings = tmp_path / "orders.parquet"
    items = tmp_path / "catalogue.parquet"
    orders = pd.DataFrame(
        {
            "customer": [u + 100 for u, _, _, _ in RATINGS],
            "sku": [m for _, m, _, _ in RATINGS],
            "stars": [r * 2 for _, _, r, _ in RATINGS],  # whole numbers 2..10
            "bought_at": pd.to_datetime([t for _, _, _, t in RATINGS], unit="s"),
        }
    )
    catalogue = pd.DataFrame(
        {
            "sku": [m for m, _, _ in MOVIES],
            "name": [t for _, t, _ in MOVIES],
            "categories": [_genres(g) for _, _, g in MOVIES],
        }
    )
    with duckdb.connect() as con:
        for frame, path in ((orders, ratings), (catalogue, items)):
            con.register("frame", frame)
            con.execute(f"copy frame to '{path}' (format parquet)")
            con.unregister("frame")
    columns = {
        "userId": "customer",
        "movieId": "sku",
        "rating": "stars",
        "timestamp": "bought_at",
        "title": "name",
        "genres": "categories",
    }
    with Recommender(":memory:") as rec:
        one_to_ten = dataclasses.replace(PARAMS, rating_min=1, rating_max=10, rating_step=1)
        rec.build(files=FilesInput(str(ratings), str(items), columns=columns), params=one_to_ten)
        scale = rec.sql("select rating_min, rating_max, rating_step from recsys_params")
        assert tuple(scale.iloc[0]) == (1.0, 10.0, 1.0)
        assert rec.sql("select count(*) as n from ratings")["n"][0] == len(RATINGS)
        first = rec.sql("select rated_at from ratings where user_id = 101 and movie_id = 1")
        assert str(first["rated_at"][0]) == "2000-12-31 22:12:40"
        listed = rec.recommend(101, n=3, method="item", k=2)
        assert len(listed) > 0 and set(listed["movie_id"]) <= {m for m, _, _ in MOVIES}
        # Clipped to the scale: user 102 rated everything but the lowest high.
        predicted = rec.predict([(102, 2), (105, 8), (101, 3)], model="baseline_only")
        assert predicted["predicted_rating"].between(2.0, 10.0).all()


def test_ratings_alone_build_without_content(tmp_path: Path) -> None:
    ratings = tmp_path / "ratings.csv"
    ratings.write_text(
        "uid,iid,score\n" + "".join(f"{u},{m},{r}\n" for u, m, r, _ in RATINGS), encoding="utf-8"
    )
    source = FilesInput(
        str(ratings), columns={"userId": "uid", "movieId": "iid", "rating": "score"}
    )
    with Recommender(":memory:") as rec:
        rec.build(files=source, params=PARAMS)
        movies = rec.sql("select movie_id, title, genres from movies order by movie_id")
        assert list(movies["title"]) == [f"item {m}" for m, _, _ in MOVIES]
        assert set(movies["genres"]) == {"(no genres listed)"}
        built = rec.sql("select build_content_neighbors from recsys_params")
        assert not built.iloc[0, 0]
        # No scale given: the lowest to the highest rating, whole as they all are.
        scale = rec.sql("select rating_min, rating_max, rating_step from recsys_params")
        assert tuple(scale.iloc[0]) == (1.0, 5.0, 1.0)
        assert len(rec.recommend(1, n=3, method="item", k=2)) > 0


def test_a_rating_off_a_given_scale_names_its_row(tmp_path: Path) -> None:
    ratings = tmp_path / "ratings.csv"
    ratings.write_text("userId,movieId,rating\n1,1,4\n1,2,11\n", encoding="utf-8")
    given = dataclasses.replace(PARAMS, rating_min=1, rating_max=10, rating_step=1)
    with Recommender(":memory:") as rec, pytest.raises(DataError) as info:
        rec.build(files=FilesInput(str(ratings)), params=given)
    assert (info.value.line, info.value.column) == (3, "rating")
    assert "rating 11 is outside 1..10" in str(info.value)


def test_tables_of_an_attached_duckdb_file_build_from_the_command_line(tmp_path: Path) -> None:
    shop = tmp_path / "shop.duckdb"
    with duckdb.connect(str(shop)) as con:
        rows = ", ".join(f"({u}, {m}, {r})" for u, m, r, _ in RATINGS)
        con.execute(f"create table orders as from (values {rows}) v(customer, sku, stars)")
        con.execute("create schema catalogue")
        con.execute(
            "create table catalogue.items as from (values (1, 'Toy Story (1995)', 'Comedy'), "
            "(2, 'Heat', 'Action'), (3, 'Alien', 'Sci-Fi'), (5, 'Up', 'Comedy'), "
            "(7, 'Jaws', 'Horror'), (8, 'Big', 'Comedy')) v(sku, name, kind)"
        )
    db = tmp_path / "built.duckdb"
    run = [sys.executable, "-m", "recsys_duck.cli", "--db", str(db), "--quiet", "build"]
    done = subprocess.run(
        [
            *run,
            *("--attach", f"shop={shop}", "--ratings", "shop.orders"),
            *("--items", "shop.catalogue.items", "--k", "3"),
            *("--columns", "user=customer,item=sku,rating=stars,title=name,genres=kind"),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    with Recommender(db, read_only=True) as rec:
        assert rec.sql("select count(*) as n from ratings")["n"][0] == len(RATINGS)
        titles = rec.sql("select title from movies where movie_id = 1")["title"][0]
        assert titles == "Toy Story (1995)"
        assert len(rec.sql("from content_neighbors")) > 0  # genres came with the items
    missing = subprocess.run(
        [*run, "--attach", f"shop={shop}", "--ratings", "shop.nothere"],
        capture_output=True,
        text=True,
    )
    assert missing.returncode == 1
    assert (
        missing.stderr.strip()
        .splitlines()[-1]
        .startswith("Error: shop.nothere: cannot read the table")
    )


def test_a_postgresql_table_builds_as_a_file_would(
    pg: Postgres,  # noqa: F811 - the fixture imported above
    tmp_path: Path,
) -> None:
    with psycopg.connect(pg.admin, autocommit=True) as con:
        con.execute("create table shop_orders (customer int, sku int, stars int, at bigint)")
        with con.cursor().copy("copy shop_orders from stdin") as copy:
            for row in RATINGS:
                copy.write_row(row)
    source = FilesInput(
        "pg.public.shop_orders",
        columns={"userId": "customer", "movieId": "sku", "rating": "stars", "timestamp": "at"},
        attach={"pg": pg.admin},
    )
    as_file = tmp_path / "orders.csv"
    as_file.write_text(
        "customer,sku,stars,at\n" + "".join(",".join(map(str, r)) + "\n" for r in RATINGS)
    )
    with Recommender(":memory:") as from_pg, Recommender(":memory:") as from_file:
        from_pg.build(files=source, params=PARAMS)
        from_file.build(files=FilesInput(str(as_file), columns=source.columns), params=PARAMS)
        for table in ("ratings", "movies", "item_neighbors", "recommendations", "recsys_params"):
            pd.testing.assert_frame_equal(
                from_pg.sql(f"select * from {table} order by all"),  # noqa: S608
                from_file.sql(f"select * from {table} order by all"),  # noqa: S608
                obj=table,
            )


def test_build_download_fetches_checks_and_builds_a_release(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """build --download ml-1m against a local server holding a miniature ml-1m.zip."""
    www = tmp_path / "www"
    www.mkdir()
    folder = write_ml_1m(tmp_path / "src" / "ml-1m")
    archive = www / "ml-1m.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in sorted(folder.iterdir()):
            zipped.write(path, f"ml-1m/{path.name}")
    handler = functools.partial(_Quiet, directory=str(www))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        local = dataclasses.replace(
            download.RELEASES["ml-1m"],
            url=f"http://127.0.0.1:{server.server_address[1]}/ml-1m.zip",
            md5=hashlib.md5(archive.read_bytes()).hexdigest(),
            sha256=None,
        )
        monkeypatch.setattr(download, "RELEASES", {**download.RELEASES, "ml-1m": local})
        db, target = tmp_path / "ml-1m.duckdb", tmp_path / "data" / "ml-1m"
        args = ["--db", str(db), "--quiet", "build", "--download", "ml-1m", "--data", str(target)]
        done = CliRunner().invoke(cli, [*args, "--k", "3"])
        assert done.exit_code == 0, done.output
        # A wrong checksum: the same command fails in one line and downloads nothing.
        monkeypatch.setattr(
            download, "RELEASES", {"ml-1m": dataclasses.replace(local, md5="0" * 32)}
        )
        wrong = tmp_path / "data" / "wrong"
        failed = CliRunner().invoke(cli, [*args[:-1], str(wrong)])
        assert failed.exit_code == 1 and "MD5" in failed.output
        assert not wrong.exists()
    finally:
        server.shutdown()
        server.server_close()
    assert sorted(p.name for p in target.iterdir()) == sorted(p.name for p in folder.iterdir())
    with Recommender(db, read_only=True) as rec:
        assert rec.sql("select count(*) as n from ratings")["n"][0] == len(RATINGS)
        scale = rec.sql("select rating_min, rating_max, rating_step from recsys_params")
        assert tuple(scale.iloc[0]) == (1.0, 5.0, 1.0)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass
