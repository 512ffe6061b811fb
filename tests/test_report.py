"""The HTML report (recsys_duck/report.py and the views of sql/75_report).

The report is parsed back (html.parser), and every number in its tables is compared
with the view it names, queried here independently; every image must decode as a PNG;
the page must name no external URL and hold no script; the seeded choice of example
users must equal an independent md5 ordering; and a real headless Chromium must
render the page (a non-blank screenshot) without a console message.
"""

from __future__ import annotations

import base64
import hashlib
import io
import math
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from recsys_duck import Recommender
from recsys_duck.errors import NotFoundError, RecsysError
from recsys_duck.report import EXAMPLE_METHODS, MAX_K, N_EXAMPLE_ROWS, TABLE_K
from tests.conftest import TINY

# -- parsing the page ------------------------------------------------------------------


@dataclass
class Table:
    id: str
    source: str
    attrs: dict[str, str]
    columns: list[str] = field(default_factory=list)
    rows: list[list[dict[str, str]]] = field(default_factory=list)

    def records(self) -> list[dict[str, dict[str, str]]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


class Page(HTMLParser):
    """Tables (by id, cells as text / title / genres / rating), images and URLs."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: dict[str, Table] = {}
        self.images: list[str] = []
        self.urls: list[tuple[str, str, str]] = []
        self.start_tags: list[str] = []
        self.headings: list[str] = []
        self.ids: list[str] = []
        self._table: Table | None = None
        self._row: list[dict[str, str]] | None = None
        self._cell: dict[str, str] | None = None
        self._part: str | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.start_tags.append(tag)
        if "id" in a:
            self.ids.append(a["id"])
        for name in ("src", "href", "action", "srcset", "poster", "data"):
            if name in a:
                self.urls.append((tag, name, a[name]))
        if tag == "img":
            self.images.append(a.get("src", ""))
        elif tag == "table":
            self._table = Table(id=a.get("id", ""), source=a.get("data-source", ""), attrs=a)
            self.tables[self._table.id] = self._table
        elif tag == "th" and self._table is not None:
            self._table.columns.append(a.get("data-column", ""))
        elif tag == "tr" and self._table is not None:
            self._row = []
        elif tag == "td" and self._row is not None:
            self._cell = {"text": ""}
            self._row.append(self._cell)
        elif tag == "span" and self._cell is not None:
            self._part = a.get("class")
            if self._part:
                self._cell.setdefault(self._part, "")
        elif tag == "b" and self._cell is not None and "data-rating" in a:
            self._cell["rating"] = a["data-rating"]

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._table = None
        elif tag == "tr" and self._table is not None and self._row is not None:
            if self._row:
                self._table.rows.append(self._row)
            self._row = None
        elif tag == "td":
            self._cell = None
        elif tag == "span":
            self._part = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell["text"] += data
            if self._part:
                self._cell[self._part] += data


def read_page(path: Path) -> tuple[str, Page]:
    text = path.read_text(encoding="utf-8")
    return text, Page(text)


# -- checks ----------------------------------------------------------------------------


def decode_png(src: str) -> tuple[int, int]:
    """The size of a ``data:image/png;base64`` image, fully decoded by Pillow."""
    prefix = "data:image/png;base64,"
    assert src.startswith(prefix), src[:60]
    raw = base64.b64decode(src[len(prefix) :], validate=True)
    assert raw[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(io.BytesIO(raw)) as image:
        assert image.format == "PNG"
        image.load()
        assert image.width > 100 and image.height > 100
        return image.size


def assert_self_contained(text: str, page: Page) -> None:
    """No script, no external URL (src/href), nothing fetched by CSS."""
    assert "script" not in page.start_tags
    assert "<script" not in text.lower()
    for tag, name, value in page.urls:
        if value.startswith("data:image/png;base64,"):  # base64 may spell "http" by chance
            continue
        assert "http" not in value.lower(), (tag, name, value)
        assert value.startswith("#"), (tag, name, value)  # in-page anchors only
    assert "url(" not in text and "@import" not in text
    assert not re.search(r"(?i)(src|href)\s*=\s*[\"']?\s*(https?:)?//", text)


def cell_matches(text: str, expected: Any) -> bool:
    """Whether a shown number is ``expected`` rounded to the decimals shown."""
    shown = text.strip().replace(",", "")
    if expected is None or (isinstance(expected, float) and math.isnan(expected)):
        return shown == ""
    if shown == "":
        return False
    decimals = len(shown.split(".", 1)[1]) if "." in shown else 0
    return abs(float(shown) - float(expected)) <= 0.5 * 10.0**-decimals + 1e-12


def assert_table_equals(table: Table, expected: pd.DataFrame) -> None:
    """Every cell of ``table`` equals the same column of ``expected``, row by row."""
    assert len(table.rows) == len(expected), (table.id, len(table.rows), len(expected))
    for row, record in zip(table.records(), expected.to_dict("records"), strict=True):
        for column, cell in row.items():
            value = record[column]
            if isinstance(value, str):
                assert cell["text"].strip() == value, (table.id, column)
            else:
                assert cell_matches(cell["text"], value), (table.id, column, cell, value)


def assert_dataset_tables(rec: Recommender, page: Page) -> None:
    assert_table_equals(
        page.tables["rating-matrix-stats"], rec.sql("select * from rating_matrix_stats")
    )
    assert_table_equals(
        page.tables["popularity-concentration"], rec.sql("select * from popularity_concentration")
    )
    assert_table_equals(page.tables["recsys-params"], rec.sql("select * from recsys_params"))
    for kind in ("item", "user", "content"):
        expected = rec.sql(
            "select * from strongest_neighbor_pairs where kind = ? and rank <= 10 order by rank",
            [kind],
        )
        assert_table_equals(page.tables[f"strongest-pairs-{kind}"], expected)


def assert_evaluation_tables(rec: Recommender, page: Page) -> None:
    """Each split's tables equal evaluated_splits and eval_summary."""
    splits = rec.sql("select * from evaluated_splits order by split")
    for split in splits["split"]:
        assert_table_equals(page.tables[f"split-{split}"], splits[splits["split"] == split])
        summary = rec.sql("select * from eval_summary where split = ?", [split])
        methods = rec.sql("select * from evaluated_methods where split = ?", [split])
        rated = sorted(methods.loc[methods["is_rating_scored"], "method"])
        ranked = sorted(methods.loc[methods["is_ranked"], "method"])
        rating = page.tables[f"rating-metrics-{split}"]
        assert [r["method"]["text"] for r in rating.records()] == rated
        max_k = summary["k"].max()
        k = int(min(TABLE_K, max_k))
        ranking = page.tables.get(f"ranking-metrics-{split}")
        if ranking is None:
            assert not ranked, split
        else:
            assert [r["method"]["text"] for r in ranking.records()] == ranked
        for table, at_k in ((rating, None), (ranking, k)):
            for record in table.records() if table is not None else []:
                method = record["method"]["text"]
                for column, cell in record.items():
                    if column == "method":
                        continue
                    rows = summary[summary["method"] == method]
                    rows = rows[rows["k"].isna()] if at_k is None else rows[rows["k"] == at_k]
                    metric = column.removesuffix("_std").removesuffix("_n_folds")
                    (row,) = rows[rows["metric"] == metric].to_dict("records")
                    if pd.isna(row["mean"]):  # undefined in every fold: an empty cell
                        value = None
                    elif column.endswith("_n_folds"):
                        value = row["n_folds"]
                    elif column.endswith("_std"):
                        value = row["std"]
                    else:
                        value = row["mean"]
                    assert cell_matches(cell["text"], value), (split, method, column, cell)


def assert_examples(rec: Recommender, page: Page, users: list[int]) -> None:
    """Each example user's table shows user_top_rated and the recommendations table."""
    assert [h for h in page.ids if h.startswith("user-") and "stats" not in h] == [
        f"user-{u}" for u in users
    ]
    for user_id in users:
        assert_table_equals(
            page.tables[f"user-stats-{user_id}"],
            rec.sql(
                "select user_id, n_ratings, mean_rating from user_stats where user_id = ?",
                [user_id],
            ),
        )
        table = page.tables[f"examples-{user_id}"]
        assert table.columns == ["rank", "rated", *EXAMPLE_METHODS]
        records = table.records()
        top = rec.sql(
            "select title, genres, rating from user_top_rated "
            "where user_id = ? and rank <= ? order by rank",
            [user_id, N_EXAMPLE_ROWS],
        )
        shown = [r["rated"] for r in records if r["rated"]["text"]]
        assert [c["title"] for c in shown] == list(top["title"])
        assert [c["genres"] for c in shown] == list(top["genres"])
        assert [float(c["rating"]) for c in shown] == list(top["rating"])
        for method in EXAMPLE_METHODS:
            recs = rec.sql(
                "select title from recommendations "
                "where method = ? and user_id = ? and rank <= ? order by rank",
                [method, user_id, N_EXAMPLE_ROWS],
            )
            shown = [r[method] for r in records if r[method]["text"]]
            assert [c["title"] for c in shown] == list(recs["title"]), (user_id, method)
        assert [int(r["rank"]["text"]) for r in records] == list(range(1, len(records) + 1))


def seeded_users(user_ids: list[int], seed: int, n: int = 3) -> list[int]:
    """The example users computed independently: md5('<seed>:<user_id>'), then user_id."""
    key = {u: hashlib.md5(f"{seed}:{u}".encode()).hexdigest() for u in user_ids}  # noqa: S324
    return sorted(user_ids, key=lambda u: (key[u], u))[:n]


# -- a real browser --------------------------------------------------------------------


def require_browser() -> str:
    """Chromium (Debian's ``chromium``, installed by .ci/run); fails under CI=true."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    message = "no chromium or chromium-browser on PATH (.ci/run installs Debian's chromium)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def screenshot(browser: str, page: Path, shot: Path, profile: Path) -> list[str]:
    """Open ``page`` in headless Chromium, save a screenshot, and return the console
    lines it logged (Chromium logs page console messages as lines with ``CONSOLE``)."""
    done = subprocess.run(
        [
            browser,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--enable-logging=stderr",
            "--v=0",
            f"--screenshot={shot}",
            "--window-size=1280,4000",
            page.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return [line for line in done.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]


def assert_not_blank(shot: Path) -> None:
    with Image.open(shot) as image:
        assert image.size == (1280, 4000)
        histogram = image.convert("L").histogram()
    dark = sum(histogram[:200])
    assert dark > 5000, f"the screenshot is (nearly) blank: {dark} non-white pixels"


def test_console_detector_catches_errors(tmp_path: Path) -> None:
    """Guards the browser check: a page that logs to the console is caught."""
    browser = require_browser()
    bad = tmp_path / "bad.html"
    bad.write_text(
        '<!DOCTYPE html><p>x</p><script>console.error("boom")</script>'
        "<script>undefined_function()</script>",
        encoding="utf-8",
    )
    lines = screenshot(browser, bad, tmp_path / "bad.png", tmp_path / "profile")
    assert any('"boom"' in line for line in lines), lines
    assert any("Uncaught ReferenceError" in line for line in lines), lines


# -- the views, by hand on the tiny data -----------------------------------------------


def test_report_views_on_tiny_by_hand(tiny: Recommender) -> None:
    # ratings 5, 3, 4, 2, 1, 5, 4; movies 1, 2, 3 have 2 ratings each, movie 4 one
    dist = tiny.sql("select rating, n_ratings, share from rating_distribution order by rating")
    assert list(dist["rating"]) == [0.5 * i for i in range(1, 11)]
    counts = dict(zip(dist["rating"], dist["n_ratings"], strict=True))
    assert counts == {
        0.5: 0,
        1.0: 1,
        1.5: 0,
        2.0: 1,
        2.5: 0,
        3.0: 1,
        3.5: 0,
        4.0: 2,
        4.5: 0,
        5.0: 2,
    }
    assert dist["share"].sum() == pytest.approx(1.0)
    assert dist.loc[dist["rating"] == 4.0, "share"].item() == pytest.approx(2 / 7)

    (row,) = tiny.sql("select * from popularity_concentration").to_dict("records")
    assert (row["n_movies"], row["n_ratings"]) == (4, 7)
    # ceil(0.01 * 4) = ceil(0.10 * 4) = 1 movie: movie 1 (2 ratings, the smaller id)
    assert (row["n_top_1pct_movies"], row["n_top_10pct_movies"]) == (1, 1)
    assert row["top_1pct_share"] == pytest.approx(2 / 7)
    assert row["top_10pct_share"] == pytest.approx(2 / 7)
    # ascending counts 1, 2, 2, 2: sum |x_i - x_j| over ordered pairs = 6,
    # gini = 6 / (2 * 4^2 * 7/4) = 3/28
    assert row["gini"] == pytest.approx(3 / 28, abs=1e-12)

    tail = tiny.sql("select kind, id, rank, n_ratings, cumulative_share from long_tail")
    users = tail[tail["kind"] == "user"].sort_values("rank")
    assert list(users["id"]) == [3, 1, 2]  # 3 ratings, then 2 and 2 by the smaller id
    assert list(users["cumulative_share"]) == pytest.approx([3 / 7, 5 / 7, 1.0])
    movies = tail[tail["kind"] == "movie"].sort_values("rank")
    assert list(movies["id"]) == [1, 2, 3, 4]

    top = tiny.sql("select movie_id, rank from user_top_rated where user_id = 3 order by rank")
    assert list(top["movie_id"]) == [3, 4, 2]


def test_neighbor_views_agree_with_the_tables(tiny: Recommender) -> None:
    dist = tiny.sql("select * from neighbor_similarity_distribution")
    assert len(dist) == 60  # 3 kinds x 20 bins
    for kind in ("item", "user", "content"):
        stored = tiny.sql(f"select similarity from {kind}_neighbors")  # noqa: S608
        rows = dist[dist["kind"] == kind].sort_values("bin")
        assert rows["n_neighbors"].sum() == len(stored)
        expected = np.histogram(stored["similarity"].clip(0, 1 - 1e-12), bins=20, range=(0, 1))
        assert list(rows["n_neighbors"]) == list(expected[0])
        pairs = tiny.sql("select * from strongest_neighbor_pairs where kind = ?", [kind])
        assert (pairs["first_id"] < pairs["second_id"]).all()
        assert not pairs.duplicated(["first_id", "second_id"]).any()
        assert sorted(pairs["rank"]) == list(range(1, len(pairs) + 1))
        assert pairs.sort_values("rank")["similarity"].is_monotonic_decreasing


# -- the report on the tiny data -------------------------------------------------------


def test_report_on_tiny_without_evaluation(tiny: Recommender, tmp_path: Path) -> None:
    target = tmp_path / "nested" / "report.html"
    with pytest.raises(RecsysError, match="there is no folder"):  # a mistyped folder
        tiny.report(target)
    assert not target.parent.exists()
    target.parent.mkdir()
    summary = tiny.report(target)
    assert summary.path == target and target.is_file()
    assert not [p for p in target.parent.iterdir() if p.name != "report.html"]  # no temp file
    text, page = read_page(target)
    assert_self_contained(text, page)
    assert summary.n_images == len(page.images) == 3  # ratings, long tail, similarities
    for src in page.images:
        decode_png(src)
    assert summary.n_tables == len(page.tables)
    assert "no-evaluation" in page.ids and summary.splits == []
    assert "recsys-duck evaluate" in text
    assert_dataset_tables(tiny, page)
    (seed,) = tiny.sql("select seed from recsys_params")["seed"]
    users = seeded_users(list(tiny.sql("select user_id from user_stats")["user_id"]), seed)
    assert summary.users == users
    assert_examples(tiny, page, users)


def test_report_users_and_seed(tiny: Recommender, tmp_path: Path) -> None:
    all_users = list(tiny.sql("select user_id from user_stats")["user_id"])
    for seed in (7, 123):
        summary = tiny.report(tmp_path / "seeded.html", seed=seed)
        assert summary.users == seeded_users(all_users, seed)
    # 3 users of 3 always come back; the order is what the seed decides
    assert sorted(summary.users) == sorted(all_users)
    assert seeded_users(all_users, 7) != seeded_users(all_users, 123)

    summary = tiny.report(tmp_path / "given.html", users=[2, 1, 2])
    assert summary.users == [2, 1]
    _, page = read_page(tmp_path / "given.html")
    assert_examples(tiny, page, [2, 1])
    with pytest.raises(NotFoundError, match="user_id 99"):
        tiny.report(tmp_path / "unknown.html", users=[1, 99])
    assert not (tmp_path / "unknown.html").exists()


EVAL_TABLES = (
    "eval_test_ratings",
    "eval_predictions",
    "eval_recommendations",
    "eval_train_items",
    "eval_folds",
)


def store_two_folds(rec: Recommender) -> None:
    """Two real holdout evaluations (seeds 1 and 2) stored as folds 1 and 2 of split
    'kfold', so that eval_summary has a fold spread: a stand-in for
    ``rec.evaluate("kfold", folds=2)``, which DuckDB 1.5 cannot commit (see
    test_report_of_a_real_kfold_evaluation)."""
    for fold, seed in ((1, 1), (2, 2)):
        rec.evaluate("holdout", test_fraction=0.5, seed=seed)
        for table in EVAL_TABLES:
            # table names come from the constant above
            rec.sql(
                f"insert into {table} by name "  # noqa: S608
                f"select * replace ('kfold' as split, {fold} as fold) "
                f"from {table} where split = 'holdout'"
            )


def test_report_on_tiny_with_evaluations(tiny: Recommender, tmp_path: Path) -> None:
    store_two_folds(tiny)
    tiny.evaluate("leave_last_out", models=["baseline_only", "user_based", "popularity"])
    summary = tiny.report(tmp_path / "report.html")
    text, page = read_page(tmp_path / "report.html")
    assert_self_contained(text, page)
    assert summary.splits == ["holdout", "kfold", "leave_last_out"]
    # 3 dataset/similarity figures + per split: ranking curves, RMSE/MAE, coverage/novelty
    assert summary.n_images == len(page.images) == 3 + 3 * 3
    for src in page.images:
        decode_png(src)
    assert_dataset_tables(tiny, page)
    assert_evaluation_tables(tiny, page)
    kfold = page.tables["split-kfold"].records()
    assert kfold[0]["n_folds"]["text"] == "2"
    folds = [r["rmse_n_folds"]["text"] for r in page.tables["rating-metrics-kfold"].records()]
    assert "2" in folds
    # the fold spread is shown: some RMSE std over the two folds
    stds = [r["rmse_std"]["text"] for r in page.tables["rating-metrics-kfold"].records()]
    assert any(s for s in stds), stds
    holdout_stds = [r["rmse_std"]["text"] for r in page.tables["rating-metrics-holdout"].records()]
    assert holdout_stds and not any(holdout_stds)  # one fold: no spread
    # baseline_only predicts ratings but recommends nothing: not among the ranked methods
    ranked = [r["method"]["text"] for r in page.tables["ranking-metrics-holdout"].records()]
    assert "baseline_only" not in ranked and "user_based" in ranked
    assert page.tables["ranking-metrics-holdout"].columns[1:3] == [
        "precision_at_k_n_folds",
        "precision_at_k",
    ]


def test_report_of_a_real_kfold_evaluation(tiny: Recommender, tmp_path: Path) -> None:
    tiny.evaluate("kfold", folds=2)
    tiny.report(tmp_path / "report.html")
    text, page = read_page(tmp_path / "report.html")
    assert page.tables["split-kfold"].records()[0]["n_folds"]["text"] == "2"
    assert_evaluation_tables(tiny, page)


def test_report_of_tiny_in_a_browser(tiny: Recommender, tmp_path: Path) -> None:
    browser = require_browser()
    target = tmp_path / "report.html"
    tiny.report(target)
    shot = tmp_path / "report.png"
    assert screenshot(browser, target, shot, tmp_path / "profile") == []
    assert_not_blank(shot)


def test_report_command(tmp_path: Path) -> None:
    db = tmp_path / "tiny.duckdb"
    with Recommender(db) as rec:
        rec.build(TINY)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "recsys_duck.cli", "--db", str(db), "report", *args],
            capture_output=True,
            text=True,
            timeout=120,
        )

    out = tmp_path / "out.html"
    done = run("--out", str(out), "--users", "3,1")
    assert done.returncode == 0, done.stderr
    assert "3,1" in done.stdout and out.is_file()
    _, page = read_page(out)
    assert [i for i in page.ids if re.fullmatch(r"user-\d+", i)] == ["user-3", "user-1"]

    for args, needle in (
        (("--users", "1,x"), "--users takes comma-separated user ids"),
        (("--users", "42"), "no user with user_id 42"),
    ):
        done = run("--out", str(tmp_path / "bad.html"), *args)
        assert done.returncode == 1
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert needle in done.stderr
        assert not (tmp_path / "bad.html").exists()


# -- ml-latest-small -------------------------------------------------------------------


@pytest.mark.slow
def test_report_on_ml_latest_small(small: Recommender, tmp_path: Path) -> None:
    """The report of the real data, after a holdout evaluation, in a real browser."""
    browser = require_browser()
    copy = tmp_path / "recsys.duckdb"  # the session's database stays as other tests expect
    shutil.copy(small.path, copy)
    with Recommender(copy) as rec:
        start = time.perf_counter()
        rec.evaluate("holdout")
        evaluated = time.perf_counter() - start
        target = tmp_path / "report.html"
        summary = rec.report(target)
        print(
            f"\nml-latest-small: holdout evaluation {evaluated:.1f} s, report "
            f"{summary.seconds:.1f} s, {summary.n_images} images, {summary.n_bytes:,} bytes"
        )
        text, page = read_page(target)
        assert_self_contained(text, page)
        assert summary.n_images == len(page.images) == 3 + 3
        for src in page.images:
            decode_png(src)
        assert_dataset_tables(rec, page)
        assert_evaluation_tables(rec, page)
        assert_examples(rec, page, summary.users)
        all_users = list(rec.sql("select user_id from user_stats")["user_id"])
        assert summary.users == seeded_users(all_users, 42)

        # the concentration figures against numpy on the same counts
        counts = np.sort(rec.sql("select n_ratings from movie_stats")["n_ratings"].to_numpy())
        n = len(counts)
        (row,) = rec.sql("select * from popularity_concentration").to_dict("records")
        diffs = np.abs(counts[:, None] - counts[None, :]).sum()
        assert row["gini"] == pytest.approx(diffs / (2 * n * n * counts.mean()), abs=1e-9)
        top = counts[::-1]
        for pct, column in ((0.01, "top_1pct_share"), (0.10, "top_10pct_share")):
            assert row[column] == pytest.approx(top[: math.ceil(pct * n)].sum() / top.sum())
        ranking = rec.sql("select max(k) as k from eval_summary where split = 'holdout'")
        assert ranking["k"].item() >= MAX_K

    shot = tmp_path / "report.png"
    start = time.perf_counter()
    console = screenshot(browser, target, shot, tmp_path / "profile")
    print(f"ml-latest-small: headless Chromium screenshot {time.perf_counter() - start:.1f} s")
    assert console == []
    assert_not_blank(shot)
