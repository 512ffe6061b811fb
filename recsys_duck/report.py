"""The HTML report: one self-contained file describing the data, the neighbours, the
evaluation and a few users' recommendations.

Every number in it is read from a view or table of the database (the report's own
views are in ``sql/75_report``; each SQL file's header gives its grain and formula).
This module only selects rows, draws them with matplotlib and writes HTML: it computes
nothing a second way. Plots are PNGs embedded as ``data:`` URIs, the page has no
JavaScript and names no external URL, so it opens offline in any browser.

matplotlib is used because it is the most widely kept plotting library for static
images: it draws headless (the Agg canvas, no display, no browser, no JavaScript),
ships its own fonts (DejaVu Sans), and its PNGs embed in a single file. The figures
are drawn on :class:`matplotlib.figure.Figure` objects with an Agg canvas, never via
``pyplot``, and the style is applied with :func:`matplotlib.rc_context`, so nothing of
the caller's matplotlib state is changed.
"""

from __future__ import annotations

import base64
import io
import logging
import math
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import duckdb
import jinja2
import pandas as pd
from markupsafe import Markup

from recsys_duck import storage
from recsys_duck.errors import InvalidArgumentError, NotBuiltError, NotFoundError
from recsys_duck.params import read_params
from recsys_duck.sql import execute, query_file, step_file

if TYPE_CHECKING:
    # matplotlib is imported where a figure is drawn: it takes about half a second to
    # import, which every other command would pay through recsys_duck's imports.
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

logger = logging.getLogger(__name__)

#: The objects of ``sql/75_report`` the report reads (besides the build's own views).
REPORT_VIEWS = (
    "rating_distribution",
    "long_tail",
    "popularity_concentration",
    "neighbor_similarity_distribution",
    "strongest_neighbor_pairs",
    "user_top_rated",
    "evaluated_methods",
    "evaluated_splits",
)
#: How many example users are drawn from the seed when none are given.
N_EXAMPLE_USERS = 3
#: Rows of each example list (top-rated movies and each method's recommendations).
N_EXAMPLE_ROWS = 10
#: Rows of each table of strongest neighbour pairs.
N_STRONGEST_PAIRS = 10
#: The ranking metrics are plotted for k = 1 .. MAX_K; coverage and novelty at TABLE_K.
MAX_K = 20
TABLE_K = 10
#: The methods of the recommendations table, in the order they are shown.
EXAMPLE_METHODS = ("user_based", "item_based", "content_based", "popularity")
SIMILARITY_KINDS = ("item", "user", "content")

# Okabe-Ito, a palette that colour-blind readers can tell apart.
PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#000000",
    "#F0E442",
)
KIND_COLOURS = {"item": PALETTE[0], "user": PALETTE[1], "content": PALETTE[2]}

#: One style for every figure, applied with ``matplotlib.rc_context``.
STYLE: Mapping[str, Any] = {
    "font.family": "DejaVu Sans",
    "font.size": 9.5,
    "axes.titlesize": 10.5,
    "axes.titleweight": "bold",
    "axes.labelsize": 9.5,
    "axes.edgecolor": "#555555",
    "axes.linewidth": 0.8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": "#e3e3e3",
    "grid.linewidth": 0.7,
    "xtick.color": "#333333",
    "ytick.color": "#333333",
    "legend.frameon": False,
    "legend.fontsize": 8.5,
    "lines.linewidth": 1.8,
    "lines.markersize": 4,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
}
FIGURE_WIDTH = 10.0  # inches; at DPI this is the page's content width in pixels
DPI = 100

_CSS = """
body { font-family: "DejaVu Sans", Verdana, sans-serif; color: #222; background: #fff;
       margin: 0; line-height: 1.45; }
main { max-width: 1040px; margin: 0 auto; padding: 1.5em 1.2em 4em; }
h1 { font-size: 1.7em; margin-bottom: 0.2em; }
h2 { font-size: 1.35em; border-bottom: 2px solid #0072B2; padding-bottom: 0.15em;
     margin-top: 2.2em; }
h3 { font-size: 1.1em; margin-top: 1.6em; }
p.meta, p.note { color: #555; font-size: 0.9em; }
nav a { margin-right: 1.2em; }
figure { margin: 1.2em 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: 0.9em; color: #333; margin-top: 0.3em; }
table { border-collapse: collapse; margin: 0.8em 0 1.2em; font-size: 0.85em; }
caption { caption-side: top; text-align: left; font-size: 0.9em; color: #555;
          padding-bottom: 0.3em; }
th, td { border-bottom: 1px solid #e3e3e3; padding: 0.25em 0.7em; vertical-align: top; }
th { background: #f3f6f9; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.examples { width: 100%; table-layout: fixed; font-size: 0.78em; }
table.examples td { word-wrap: break-word; }
table.examples th:first-child { width: 2.5em; }
span.genres { display: block; color: #777; font-size: 0.9em; }
code { background: #f3f3f3; padding: 0 0.25em; }
"""


# The template's macros, autoescaped (recsys_duck/templates/report.html.j2).
_HTML: Any = (
    jinja2.Environment(
        loader=jinja2.PackageLoader("recsys_duck", "templates"),
        autoescape=True,
        trim_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    .get_template("report.html.j2")
    .module
)


@dataclass
class ReportSummary:
    """What :func:`write_report` wrote: the file, its size, and what it holds."""

    path: Path
    seconds: float
    n_images: int
    n_tables: int
    n_bytes: int
    users: list[int] = field(default_factory=list)
    splits: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Column:
    """One column of an HTML table: the frame's column, its header, and its format.

    ``decimals`` formats a number with that many decimals (``None``: an integer with
    thousands separators); ``text`` marks a text column.
    """

    name: str
    label: str
    decimals: int | None = None
    text: bool = False


class _Page:
    """The HTML body being assembled from the template's macros (autoescaped), counting
    the images and tables it holds."""

    def __init__(self) -> None:
        self.parts: list[Markup] = []
        self.n_images = 0
        self.n_tables = 0

    def add(self, markup: Markup) -> None:
        self.parts.append(markup)

    def section(self, anchor: str, title: str) -> None:
        self.add(_HTML.section_open(anchor, title))

    def end_section(self) -> None:
        self.add(Markup("</section>\n"))

    def heading(self, anchor: str, title: str) -> None:
        self.add(_HTML.heading(anchor, title))

    def text(self, tag: str, content: str, **attrs: str) -> None:
        self.add(_HTML.text(tag, content, attrs))

    def figure(self, fig: Figure, alt: str, caption: str) -> None:
        """Embed ``fig`` as a base64 PNG with a one-line caption."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        buffer = io.BytesIO()
        FigureCanvasAgg(fig)
        fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
        data = base64.b64encode(buffer.getvalue()).decode("ascii")
        self.n_images += 1
        self.add(_HTML.figure(data, alt, caption))

    def table(
        self,
        frame: pd.DataFrame,
        columns: Sequence[Column],
        *,
        table_id: str,
        source: str,
        caption: str,
    ) -> None:
        """A table of ``frame``; ``source`` names the view its numbers come from."""
        self.n_tables += 1
        rows = [
            [
                (_text(record[c.name]), False)
                if c.text
                else (_number(record[c.name], c.decimals), True)
                for c in columns
            ]
            for record in frame.to_dict("records")
        ]
        self.add(_HTML.table(rows, columns, table_id, source, caption))


def write_report(
    con: duckdb.DuckDBPyConnection,
    path: str | os.PathLike[str],
    users: Sequence[int] | None = None,
    seed: int | None = None,
) -> ReportSummary:
    """Write the report of the database behind ``con`` to ``path`` (HTML, one file).

    ``users``: the example users (default: ``N_EXAMPLE_USERS`` users drawn in the seeded
    order of ``sql/steps/report/example_users.sql``, ``seed`` defaulting to
    ``recsys_params.seed``). ``con`` is only read. The file is written to a temporary
    file beside ``path`` and renamed over it, so a reader never sees half a report.
    """
    start = time.perf_counter()
    _require_views(con)
    chosen = _example_users(con, users, seed)
    page = _Page()
    import matplotlib

    with matplotlib.rc_context(cast(Any, dict(STYLE))):
        _dataset_section(con, page)
        _similarity_section(con, page)
        splits = _evaluation_section(con, page)
        _examples_section(con, page, chosen, given=users is not None, seed=seed)
    document = _document(con, page)
    target = Path(path)
    storage.write_text_atomically(target, document)
    seconds = time.perf_counter() - start
    logger.info("report: wrote %s (%d images) in %.1f s", target, page.n_images, seconds)
    return ReportSummary(
        path=target,
        seconds=seconds,
        n_images=page.n_images,
        n_tables=page.n_tables,
        n_bytes=len(document.encode("utf-8")),
        users=chosen,
        splits=splits,
    )


# -- reading ---------------------------------------------------------------------------


def _query(
    con: duckdb.DuckDBPyConnection, query: str, params: Sequence[Any] | None = None
) -> pd.DataFrame:
    return execute(con, query, params).df()


def _require_views(con: duckdb.DuckDBPyConnection) -> None:
    found = {
        row[0]
        for row in execute(
            con,
            "select table_name from duckdb_tables() where schema_name = 'main' "
            "union all select view_name from duckdb_views() where schema_name = 'main'",
        ).fetchall()
    }
    if "recommendations" not in found:
        raise NotBuiltError("the database has not been built; run: recsys-duck build")
    missing = [name for name in REPORT_VIEWS if name not in found]
    if missing:
        raise NotBuiltError(
            f"the database has no report views ({', '.join(missing)}): it was built by an "
            "older recsys-duck; rebuild it: recsys-duck build"
        )


def _example_users(
    con: duckdb.DuckDBPyConnection, users: Sequence[int] | None, seed: int | None
) -> list[int]:
    """The given users (checked, duplicates dropped) or the seeded choice of the SQL step."""
    if users is None:
        rows = query_file(
            con, step_file("report/example_users"), {"seed": seed, "n": N_EXAMPLE_USERS}
        ).fetchall()
        return [int(row[0]) for row in rows]
    chosen = list(dict.fromkeys(int(u) for u in users))
    if not chosen:
        raise InvalidArgumentError("give at least one user_id for the examples, e.g. 1,2,3")
    known = {
        int(row[0])
        for row in execute(
            con, "select user_id from user_stats where list_contains(?, user_id)", [chosen]
        ).fetchall()
    }
    unknown = [u for u in chosen if u not in known]
    if unknown:
        raise NotFoundError(
            f"no user with user_id {', '.join(map(str, unknown))} has ratings; "
            "pick users that have ratings (the user_stats view lists them)"
        )
    return chosen


# -- sections --------------------------------------------------------------------------


def _dataset_section(con: duckdb.DuckDBPyConnection, page: _Page) -> None:
    page.section("dataset", "Dataset")
    stats = _query(con, "select * from rating_matrix_stats")
    page.table(
        stats,
        [
            Column("n_users", "users"),
            Column("n_movies", "rated movies"),
            Column("n_ratings", "ratings"),
            Column("density", "density", 6),
            Column("sparsity", "sparsity", 6),
            Column("mean_rating", "mean rating", 4),
        ],
        table_id="rating-matrix-stats",
        source="rating_matrix_stats",
        caption="The rating matrix (view rating_matrix_stats): density = ratings / "
        "(users x rated movies).",
    )
    concentration = _query(con, "select * from popularity_concentration")
    page.table(
        concentration,
        [
            Column("n_movies", "rated movies"),
            Column("n_top_1pct_movies", "top 1% movies"),
            Column("top_1pct_share", "their share of ratings", 4),
            Column("n_top_10pct_movies", "top 10% movies"),
            Column("top_10pct_share", "their share of ratings", 4),
            Column("gini", "Gini of ratings per movie", 4),
        ],
        table_id="popularity-concentration",
        source="popularity_concentration",
        caption="How concentrated popularity is (view popularity_concentration): the top "
        "1% / 10% are the ceil(1% / 10% of rated movies) most rated movies.",
    )

    distribution = _query(con, "select * from rating_distribution order by rating")
    page.figure(
        _rating_distribution_figure(distribution),
        "Bar chart of the share of ratings at each half star",
        "Ratings per half star (view rating_distribution): look for the skew towards 3-5 "
        "stars and how much rarer half stars are than whole stars.",
    )

    tail = _query(con, "select * from long_tail order by kind, rank")
    row = concentration.iloc[0] if not concentration.empty else None
    page.figure(
        _long_tail_figure(tail, row),
        "Ratings per movie and per user against their rank, on log-log axes",
        "Ratings per movie and per user by rank, log-log (view long_tail): look for the "
        "long tail, a few movies and users with very many ratings and most with few.",
    )
    page.end_section()


def _similarity_section(con: duckdb.DuckDBPyConnection, page: _Page) -> None:
    page.section("similarity", "Similarity")
    distribution = _query(con, "select * from neighbor_similarity_distribution order by kind, bin")
    page.figure(
        _similarity_figure(distribution),
        "Histograms of the stored item-item, user-user and content similarities",
        "Similarities of the stored top-k neighbours (view neighbor_similarity_distribution): "
        "look for where each kind's neighbours sit; a pile at 1.0 means many exact ties.",
    )
    pairs = _query(
        con,
        "select * from strongest_neighbor_pairs where rank <= ? order by kind, rank",
        [N_STRONGEST_PAIRS],
    )
    labels = {"item": "item-item (rating cosine)", "user": "user-user (rating cosine)"}
    labels["content"] = "content (TF-IDF cosine of genres and tags)"
    for kind in SIMILARITY_KINDS:
        rows = pairs[pairs["kind"] == kind]
        page.table(
            rows,
            [
                Column("rank", "rank"),
                Column("first_name", "first", text=True),
                Column("second_name", "second", text=True),
                Column("similarity", "similarity", 4),
                Column("n_common", "n_common"),
            ],
            table_id=f"strongest-pairs-{kind}",
            source="strongest_neighbor_pairs",
            caption=f"Strongest {labels[kind]} neighbour pairs, each pair once (view "
            "strongest_neighbor_pairs); n_common = co-raters or shared content features: "
            "a similarity of 1 over few of them says little.",
        )
    page.end_section()


def _evaluation_section(con: duckdb.DuckDBPyConnection, page: _Page) -> list[str]:
    page.section("evaluation", "Evaluation")
    splits = _query(con, "select * from evaluated_splits order by split")
    if splits.empty:
        page.text(
            "p",
            "No evaluation is stored in this database. Run one, for example "
            "recsys-duck evaluate --split holdout (or --split kfold --folds 5 for the fold "
            "spread), then build the report again.",
            **{"class": "note", "id": "no-evaluation"},
        )
        page.end_section()
        return []
    # rating metrics of the methods that predicted ratings, ranking metrics (k <= MAX_K)
    # of the methods that stored top-N lists
    summary = _query(
        con,
        "select s.* from eval_summary as s "
        "inner join evaluated_methods as m on m.split = s.split and m.method = s.method "
        "where s.mean is not null "
        "and ((s.k is null and m.is_rating_scored) or (s.k <= ? and m.is_ranked)) "
        "order by s.split, s.method, s.metric, s.k nulls first",
        [MAX_K],
    )
    colours = _method_colours(sorted(summary["method"].unique()))
    page.text(
        "p",
        "Metrics from view eval_summary: the mean over the folds of each split, and with "
        "several folds the sample standard deviation (error bars, shaded bands). "
        "Precision, recall and NDCG count a held-out rating >= the relevance threshold "
        "as relevant.",
        **{"class": "note"},
    )
    for split_row in splits.to_dict("records"):
        _split_subsection(page, split_row, summary[summary["split"] == split_row["split"]], colours)
    page.end_section()
    return [str(s) for s in splits["split"]]


def _split_subsection(
    page: _Page,
    split_row: Mapping[Any, Any],
    summary: pd.DataFrame,
    colours: Mapping[str, str],
) -> None:
    split = str(split_row["split"])
    n_folds = int(split_row["n_folds"])
    page.heading(f"split-{split}", f"Split: {split}")
    page.table(
        pd.DataFrame([split_row]),
        [
            Column("split", "split", text=True),
            Column("n_folds", "folds"),
            Column("n_test", "held-out ratings (all folds)"),
            Column("n_train_ratings", "train ratings (all folds)"),
            Column("n_methods", "methods"),
            Column("n_ranked_methods", "of which ranked"),
        ],
        table_id=f"split-{split}",
        source="evaluated_splits",
        caption="What was evaluated (view evaluated_splits).",
    )
    spread = " ± one standard deviation over the folds" if n_folds > 1 else ""
    part = _SplitPart(page, split, summary, colours, n_folds, spread)
    _ranking_part(part)
    _rating_part(part)
    _beyond_accuracy_part(part)


@dataclass(frozen=True)
class _SplitPart:
    """What each part of a split's subsection draws from."""

    page: _Page
    split: str
    summary: pd.DataFrame
    colours: Mapping[str, str]
    n_folds: int
    spread: str


def _ranking_part(part: _SplitPart) -> None:
    page, split, summary, colours = part.page, part.split, part.summary, part.colours
    n_folds, spread = part.n_folds, part.spread
    ranking = summary[summary["metric"].isin(["precision_at_k", "recall_at_k", "ndcg_at_k"])]
    if ranking.empty:
        page.text(
            "p",
            f"No ranking metrics in the {split} split: its methods were scored on rating "
            "prediction only (rank k-NN models with recsys-duck evaluate --rank-models).",
            **{"class": "note"},
        )
    else:
        page.figure(
            _ranking_figure(ranking, colours, n_folds),
            f"Precision, recall and NDCG at k = 1 to {MAX_K} per method, {split} split",
            f"Precision@k, recall@k, NDCG@k against k ({split}{spread}): higher is better; "
            "look for the method whose curve stays on top, and at popularity as the bar to beat.",
        )


def _rating_part(part: _SplitPart) -> None:
    page, split, summary, colours = part.page, part.split, part.summary, part.colours
    n_folds, spread = part.n_folds, part.spread
    rating = summary[summary["metric"].isin(["rmse", "mae", "coverage"])]
    if rating.empty:
        page.text("p", f"No rating predictions in the {split} split.", **{"class": "note"})
    else:
        page.figure(
            _rating_figure(rating, colours, n_folds),
            f"RMSE and MAE per method, {split} split",
            f"RMSE and MAE per method ({split}{spread}): lower is better; look for the gap "
            "between the k-NN models and the baseline, and at coverage in the table below.",
        )
        page.table(
            _wide(rating, ["rmse", "mae", "coverage"]),
            [
                Column("method", "method", text=True),
                Column("rmse_n_folds", "folds with RMSE"),
                Column("rmse", "RMSE", 4),
                Column("rmse_std", "RMSE std", 4),
                Column("mae", "MAE", 4),
                Column("mae_std", "MAE std", 4),
                Column("coverage", "coverage", 4),
            ],
            table_id=f"rating-metrics-{split}",
            source="eval_summary",
            caption="Rating prediction (view eval_summary, metrics rmse, mae, coverage: the "
            "share of held-out ratings the method could predict); std is empty with one fold.",
        )


def _beyond_accuracy_part(part: _SplitPart) -> None:
    page, split, summary, colours = part.page, part.split, part.summary, part.colours
    n_folds, spread = part.n_folds, part.spread
    k = _table_k(summary)
    at_k = summary[summary["k"] == k] if k is not None else summary.iloc[0:0]
    beyond = at_k[at_k["metric"].isin(["catalog_coverage_at_k", "novelty_at_k"])]
    if not beyond.empty and k is not None:
        page.figure(
            _beyond_accuracy_figure(beyond, colours, n_folds, k),
            f"Catalogue coverage and novelty at k = {k} per method, {split} split",
            f"Catalogue coverage@{k} and novelty@{k} ({split}{spread}): look for methods that "
            "reach far into the catalogue (high coverage) and suggest less-known movies.",
        )
        metrics = ["precision_at_k", "recall_at_k", "ndcg_at_k", "catalog_coverage_at_k"]
        metrics.append("novelty_at_k")
        page.table(
            _wide(at_k, metrics),
            [
                Column("method", "method", text=True),
                Column("precision_at_k_n_folds", "folds"),
                Column("precision_at_k", f"precision@{k}", 4),
                Column("recall_at_k", f"recall@{k}", 4),
                Column("ndcg_at_k", f"NDCG@{k}", 4),
                Column("catalog_coverage_at_k", f"catalogue coverage@{k}", 4),
                Column("novelty_at_k", f"novelty@{k}", 3),
            ],
            table_id=f"ranking-metrics-{split}",
            source="eval_summary",
            caption=f"Ranking at k = {k} (view eval_summary, mean over the folds); novelty "
            "is the mean -log2(share of train users who rated the movie).",
        )


def _examples_section(
    con: duckdb.DuckDBPyConnection,
    page: _Page,
    users: Sequence[int],
    *,
    given: bool,
    seed: int | None,
) -> None:
    page.section("examples", "Examples")
    page.text(
        "p",
        f"Examples for {_who(con, users, given, seed)}: on the left what each rated highest "
        f"(view user_top_rated), then the top {N_EXAMPLE_ROWS} of each method (table "
        "recommendations). Judge by eye whether the recommendations fit the taste.",
        **{"class": "note"},
    )
    stats = _query(
        con,
        "select user_id, n_ratings, mean_rating from user_stats "
        "where list_contains(?, user_id) order by user_id",
        [list(users)],
    )
    top = _query(
        con,
        "select user_id, rank, title, genres, rating from user_top_rated "
        "where list_contains(?, user_id) and rank <= ? order by user_id, rank",
        [list(users), N_EXAMPLE_ROWS],
    )
    recs = _query(
        con,
        "select method, user_id, rank, title, genres, score from recommendations "
        "where list_contains(?, user_id) and rank <= ? order by method, user_id, rank",
        [list(users), N_EXAMPLE_ROWS],
    )
    for user_id in users:
        user = stats[stats["user_id"] == user_id].iloc[0]
        page.heading(f"user-{user_id}", f"User {user_id}")
        page.table(
            stats[stats["user_id"] == user_id],
            [
                Column("user_id", "user_id"),
                Column("n_ratings", "ratings"),
                Column("mean_rating", "mean rating", 2),
            ],
            table_id=f"user-stats-{user_id}",
            source="user_stats",
            caption=f"User {int(user['user_id'])} (view user_stats).",
        )
        page.add(_example_table(user_id, top[top["user_id"] == user_id], recs))
        page.n_tables += 1
    page.end_section()


def _who(
    con: duckdb.DuckDBPyConnection, users: Sequence[int], given: bool, seed: int | None
) -> str:
    """How the example users were chosen."""
    if given:
        return "the users asked for"
    used = seed if seed is not None else read_params(con).seed
    return (
        f"{len(users)} users drawn with seed {used} (the first of user_stats in the order "
        "md5(seed:user_id); --users picks others)"
    )


def _example_table(user_id: int, top: pd.DataFrame, recs: pd.DataFrame) -> Markup:
    """Rank x (rated highly, then each method): titles, genres, and the rating."""
    lists = {m: recs[(recs["method"] == m) & (recs["user_id"] == user_id)] for m in EXAMPLE_METHODS}
    n_rows = max([len(top), *(len(v) for v in lists.values())])
    rows = []
    for rank in range(1, n_rows + 1):
        rated = _movie_at(top, rank)
        rows.append(
            {
                "rank": rank,
                "rated": rated,
                "stars": None if rated is None else _number(rated["rating"], 1),
                "recommended": [_movie_at(lists[m], rank) for m in EXAMPLE_METHODS],
            }
        )
    return cast(Markup, _HTML.examples(user_id, EXAMPLE_METHODS, rows, N_EXAMPLE_ROWS))


def _movie_at(movies: pd.DataFrame, rank: int) -> dict[str, Any] | None:
    """The movie at ``rank`` of a list (title, genres, and rating if rated), or None."""
    found = movies[movies["rank"] == rank]
    if found.empty:
        return None
    row = found.iloc[0]
    return {
        "title": str(row["title"]),
        "genres": str(row["genres"]),
        "rating": row["rating"] if "rating" in row else None,
    }


def _document(con: duckdb.DuckDBPyConnection, page: _Page) -> str:
    params = _query(
        con,
        "select neighbors_k, n_similar_users, n_item_neighbors, n_recommendations, "
        "relevance_threshold, test_fraction, seed from recsys_params",
    )
    settings = _Page()
    settings.table(
        params,
        [
            Column("neighbors_k", "neighbours stored (k)"),
            Column("n_similar_users", "similar users"),
            Column("n_item_neighbors", "item neighbours"),
            Column("n_recommendations", "list length"),
            Column("relevance_threshold", "relevant if rating >=", 1),
            Column("test_fraction", "test fraction", 2),
            Column("seed", "seed"),
        ],
        table_id="recsys-params",
        source="recsys_params",
        caption="The settings of this build (table recsys_params).",
    )
    page.n_tables += settings.n_tables
    generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    nav = [
        ("dataset", "Dataset"),
        ("similarity", "Similarity"),
        ("evaluation", "Evaluation"),
        ("examples", "Examples"),
    ]
    # The style sheet is this module's own constant, not data: it goes in unescaped.
    return str(
        _HTML.document(
            Markup(_CSS),
            generated,
            nav,
            Markup("").join(settings.parts),
            Markup("").join(page.parts),
        )
    )


# -- figures ---------------------------------------------------------------------------


def _new_figure(height: float, ncols: int = 1) -> tuple[Figure, list[Axes]]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(FIGURE_WIDTH, height), layout="constrained")
    axes = fig.subplots(1, ncols, squeeze=False)[0]
    return fig, list(axes)


def _rating_distribution_figure(distribution: pd.DataFrame) -> Figure:
    fig, (ax,) = _new_figure(3.4)
    whole = [float(r) == math.floor(float(r)) for r in distribution["rating"]]
    colours = [PALETTE[0] if w else PALETTE[4] for w in whole]
    shares = distribution["share"].fillna(0) * 100
    bars = ax.bar(distribution["rating"], shares, width=0.4, color=colours)
    for bar, share in zip(bars, shares, strict=True):
        ax.annotate(
            f"{share:.1f}%",
            (bar.get_x() + bar.get_width() / 2, bar.get_height()),
            ha="center",
            va="bottom",
            fontsize=8,
            xytext=(0, 2),
            textcoords="offset points",
        )
    ax.set_xticks(list(distribution["rating"]))
    ax.set_xlabel("rating (stars; dark: whole stars, light: half stars)")
    ax.set_ylabel("share of all ratings (%)")
    ax.set_title("Distribution of ratings")
    ax.grid(axis="x", visible=False)
    return fig


def _long_tail_figure(tail: pd.DataFrame, concentration: pd.Series | None) -> Figure:
    fig, axes = _new_figure(3.8, ncols=2)
    for ax, kind, noun in zip(axes, ("movie", "user"), ("movies", "users"), strict=True):
        rows = tail[tail["kind"] == kind]
        colour = KIND_COLOURS["item" if kind == "movie" else "user"]
        ax.plot(rows["rank"], rows["n_ratings"], color=colour)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(f"{noun[:-1]} rank (1 = most ratings)")
        ax.set_ylabel("ratings")
        ax.set_title(f"Ratings per {noun[:-1]} ({len(rows):,} {noun})")
    if concentration is not None:
        ax = axes[0]
        for n_col, share_col, label, style in (
            ("n_top_1pct_movies", "top_1pct_share", "top 1%", ":"),
            ("n_top_10pct_movies", "top_10pct_share", "top 10%", "--"),
        ):
            n_top, share = concentration[n_col], concentration[share_col]
            if pd.notna(n_top) and pd.notna(share):
                ax.axvline(
                    float(n_top),
                    color="#555555",
                    linestyle=style,
                    linewidth=1,
                    label=f"{label} ({int(n_top):,} movies): {float(share) * 100:.1f}% of ratings",
                )
        if pd.notna(concentration["gini"]):
            ax.plot([], [], " ", label=f"Gini {float(concentration['gini']):.3f}")
        ax.legend(loc="lower left")
    return fig


def _similarity_figure(distribution: pd.DataFrame) -> Figure:
    fig, axes = _new_figure(3.4, ncols=3)
    titles = {"item": "item-item", "user": "user-user", "content": "content"}
    for ax, kind in zip(axes, SIMILARITY_KINDS, strict=True):
        rows = distribution[distribution["kind"] == kind]
        total = int(rows["n_neighbors"].sum())
        ax.bar(
            rows["bin_low"],
            rows["share"].fillna(0) * 100,
            width=rows["bin_high"] - rows["bin_low"],
            align="edge",
            color=KIND_COLOURS[kind],
            edgecolor="white",
            linewidth=0.5,
        )
        ax.set_xlim(0, 1)
        ax.set_xlabel("similarity")
        ax.set_title(f"{titles[kind]} ({total:,} stored)")
    axes[0].set_ylabel("share of stored neighbours (%)")
    return fig


def _method_colours(methods: Sequence[str]) -> dict[str, str]:
    return {m: PALETTE[i % len(PALETTE)] for i, m in enumerate(methods)}


def _ranking_figure(ranking: pd.DataFrame, colours: Mapping[str, str], n_folds: int) -> Figure:
    fig, axes = _new_figure(3.9, ncols=3)
    titles = {"precision_at_k": "precision@k", "recall_at_k": "recall@k", "ndcg_at_k": "NDCG@k"}
    max_k = int(ranking["k"].max())
    for ax, metric in zip(axes, titles, strict=True):
        rows = ranking[ranking["metric"] == metric]
        for method in sorted(rows["method"].unique()):
            line = rows[rows["method"] == method].sort_values("k")
            ax.plot(line["k"], line["mean"], marker="o", color=colours[method], label=method)
            if n_folds > 1:
                std = line["std"].fillna(0)
                ax.fill_between(
                    line["k"].astype(float),
                    line["mean"] - std,
                    line["mean"] + std,
                    color=colours[method],
                    alpha=0.18,
                    linewidth=0,
                )
        ax.set_xlabel("k (list length)")
        ax.set_title(titles[metric])
        ax.set_xlim(0.5, max_k + 0.5)
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylim(bottom=0)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 4))
    return fig


def _bars(
    ax: Axes,
    rows: pd.DataFrame,
    colours: Mapping[str, str],
    n_folds: int,
    title: str,
    digits: int,
) -> None:
    """Horizontal bars of ``mean`` per method, with ``std`` error bars over folds."""
    rows = rows.sort_values("method", ascending=False)
    errors = rows["std"].fillna(0) if n_folds > 1 else None
    ax.barh(
        rows["method"],
        rows["mean"],
        xerr=errors,
        color=[colours[m] for m in rows["method"]],
        capsize=3,
        height=0.6,
    )
    for y, value in enumerate(rows["mean"]):
        ax.annotate(
            f"{value:.{digits}f}",
            (value, y),
            xytext=(4, -3 if n_folds > 1 else 0),
            textcoords="offset points",
            va="top" if n_folds > 1 else "center",
            fontsize=8,
        )
    ax.set_title(title)
    ax.grid(axis="y", visible=False)
    ax.margins(x=0.15)
    ax.set_xlim(left=0)


def _rating_figure(rating: pd.DataFrame, colours: Mapping[str, str], n_folds: int) -> Figure:
    n_methods = rating["method"].nunique()
    fig, axes = _new_figure(max(2.0, 0.45 * n_methods + 1.2), ncols=2)
    for ax, metric, title in zip(axes, ("rmse", "mae"), ("RMSE", "MAE"), strict=True):
        _bars(ax, rating[rating["metric"] == metric], colours, n_folds, title, 4)
    axes[1].set_yticklabels([])
    return fig


def _beyond_accuracy_figure(
    rows: pd.DataFrame, colours: Mapping[str, str], n_folds: int, k: int
) -> Figure:
    n_methods = rows["method"].nunique()
    fig, axes = _new_figure(max(2.0, 0.45 * n_methods + 1.2), ncols=2)
    _bars(
        axes[0],
        rows[rows["metric"] == "catalog_coverage_at_k"],
        colours,
        n_folds,
        f"catalogue coverage@{k} (share of train movies)",
        3,
    )
    _bars(
        axes[1],
        rows[rows["metric"] == "novelty_at_k"],
        colours,
        n_folds,
        f"novelty@{k} (bits)",
        2,
    )
    axes[1].set_yticklabels([])
    return fig


# -- helpers ---------------------------------------------------------------------------


def _table_k(summary: pd.DataFrame) -> int | None:
    """TABLE_K, or the largest cutoff stored when the lists are shorter."""
    ks = summary["k"].dropna()
    if ks.empty:
        return None
    return int(min(TABLE_K, ks.max()))


def _wide(summary: pd.DataFrame, metrics: Sequence[str]) -> pd.DataFrame:
    """eval_summary rows as one row per method: columns ``<metric>`` (mean),
    ``<metric>_std`` and ``<metric>_n_folds`` (empty where the view has no row)."""
    rows = summary[summary["metric"].isin(metrics)]
    means = rows.pivot(index="method", columns="metric", values="mean")
    stds = rows.pivot(index="method", columns="metric", values="std").add_suffix("_std")
    folds = rows.pivot(index="method", columns="metric", values="n_folds").add_suffix("_n_folds")
    wide = means.join(stds).join(folds).reset_index()
    for metric in metrics:
        for name in (metric, f"{metric}_std", f"{metric}_n_folds"):
            if name not in wide:
                wide[name] = float("nan")
    return wide.sort_values("method")


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def _number(value: Any, decimals: int | None) -> str:
    """A number as shown: ``decimals`` places, or an integer with thousands separators."""
    if _is_missing(value):
        return ""
    if decimals is None:
        return f"{int(value):,}"
    return f"{float(value):.{decimals}f}"


def _text(value: Any) -> str:
    return "" if _is_missing(value) else str(value)
