"""The ``recsys-duck`` command line: one command, hyphenated verbs.

Results go to stdout (a table, or ``--csv`` / ``--json``); progress goes to stderr and
``--quiet`` silences it; errors are one line and a non-zero exit (``--debug`` shows the
traceback and every SQL statement).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
import duckdb
import pandas as pd

from recsys_duck import progress
from recsys_duck.download import RELEASES, ensure_movielens, ensure_release
from recsys_duck.errors import InvalidArgumentError, RecsysError
from recsys_duck.guard import ReadLimits, default_memory_limit
from recsys_duck.layouts import expand_braces, parse_columns
from recsys_duck.loader import FilesInput, read_pairs
from recsys_duck.params import ENGINES, BuildParams, Engine, RatingScale, read_params
from recsys_duck.params import memory_limit as check_memory_limit
from recsys_duck.publish import publish
from recsys_duck.recommender import Recommender
from recsys_duck.spark import SparkOptions
from recsys_duck.storage import write_frame_atomically, write_text_atomically

DEFAULT_DB = Path("data") / "recsys.duckdb"
DEFAULT_DATA = Path("data") / "ml-latest-small"

F = TypeVar("F", bound=Callable[..., Any])


class _Settings:
    def __init__(self, db: Path, debug: bool) -> None:
        self.db = db
        self.debug = debug


def _output_options(fn: F) -> F:
    fn = click.option("--json", "fmt", flag_value="json", help="Print JSON records.")(fn)
    fn = click.option("--csv", "fmt", flag_value="csv", help="Print CSV.")(fn)
    return fn


def _emit(frame: pd.DataFrame, fmt: str | None) -> None:
    if fmt == "csv":
        click.echo(frame.to_csv(index=False), nl=False)
    elif fmt == "json":
        click.echo(frame.to_json(orient="records", indent=2))
    elif frame.empty:
        click.echo("(no rows)")
    else:
        with pd.option_context(
            "display.max_colwidth", 60, "display.width", 200, "display.precision", 6
        ):
            click.echo(frame.to_string(index=False))


def _open(
    ctx: click.Context, *, read_only: bool = True, memory_limit: str | None = None
) -> Recommender:
    """Open the --db file; read-only connections are hardened (no file or network access,
    configuration locked), as the query verbs, ``sql`` included, run what users type."""
    settings: _Settings = ctx.obj
    return Recommender(settings.db, read_only=read_only, memory_limit=memory_limit)


def _memory_limit(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Check a --memory-limit by the rule the Python API uses."""
    if value is None:
        return None
    try:
        return check_memory_limit(value)
    except InvalidArgumentError as error:
        raise click.BadParameter(str(error), ctx=ctx, param=param) from None


def _parsed(parse: Callable[[str], Any]) -> Callable[[click.Context, click.Parameter, Any], Any]:
    """A callback that parses an option's text by the Python API's rule (``parse``), a
    bad value being a usage error."""

    def callback(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
        if value is None:
            return None
        try:
            return parse(value)
        except InvalidArgumentError as error:
            raise click.BadParameter(str(error), ctx=ctx, param=param) from None

    return callback


#: The numeric options' types, each with the range the Python API also enforces.
COUNT = click.IntRange(min=1)
FOLDS = click.IntRange(min=2)
FRACTION = click.FloatRange(min=0, max=1, min_open=True, max_open=True)


class _Group(click.Group):
    """Turns the project's errors and DuckDB's into one line on stderr and exit status 1
    (``--debug`` shows the traceback instead); anything else is a bug and keeps its
    traceback."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as exc:  # the group's own options, e.g. --db without a value
            click.echo(f"Error: {exc.format_message()} (see {info_name} --help)", err=True)
            sys.exit(exc.exit_code)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            # One line, as for every other failure; --help gives the usage.
            command = exc.ctx.command_path if exc.ctx is not None else ctx.command_path
            click.echo(f"Error: {exc.format_message()} (see {command} --help)", err=True)
            ctx.exit(exc.exit_code)
        except (KeyboardInterrupt, duckdb.InterruptException):
            if ctx.params.get("debug"):
                raise
            # Writers leave the database as it was (storage.write_through); say only that.
            click.echo("Error: interrupted; the database is as it was", err=True)
            ctx.exit(130)
        except (RecsysError, duckdb.Error) as exc:
            if ctx.params.get("debug"):
                raise
            message = (
                " ".join(str(exc).split("\n")[:1]) if isinstance(exc, duckdb.Error) else str(exc)
            )
            click.echo(f"Error: {message}", err=True)
            ctx.exit(1)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_DB,
    show_default=True,
    help="The DuckDB database file.",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress on stderr.")
@click.option("--debug", is_flag=True, help="Show tracebacks and log every SQL statement.")
@click.pass_context
def cli(ctx: click.Context, db: Path, quiet: bool, debug: bool) -> None:
    """A MovieLens recommender inside a DuckDB database.

    \b
    Example:
        recsys-duck build --data data/ml-latest-small
        recsys-duck recommend 1 --method item -n 5
    """
    level = logging.DEBUG if debug else logging.WARNING if quiet else logging.INFO
    logging.basicConfig(level=level, format="%(message)s", stream=sys.stderr, force=True)
    ctx.obj = _Settings(db=db, debug=debug)
    # Progress: bars in a terminal, periodic log lines otherwise, nothing with --quiet.
    if quiet:
        ctx.with_resource(progress.reporting(progress.SILENT))
    elif sys.stderr.isatty():
        from tqdm.contrib.logging import logging_redirect_tqdm

        ctx.with_resource(progress.reporting(progress.BarReporter()))
        ctx.with_resource(logging_redirect_tqdm())


def _deprecated_k(new_flag: str) -> Callable[[click.Context, click.Parameter, Any], Any]:
    """A callback for an old ``--k`` that now has a name of its own: warns, passes it on."""

    def warn(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        if value is not None:
            click.echo(
                f"Warning: --k of {ctx.info_name} is deprecated; use {new_flag} "
                "(--k is the neighbours stored by build).",
                err=True,
            )
        return value

    return warn


def _params_options(fn: F) -> F:
    defaults = BuildParams()
    fn = click.option(
        "--k",
        "k",
        type=COUNT,
        default=defaults.k,
        show_default=True,
        help="Neighbours stored per item, user and movie.",
    )(fn)
    fn = click.option(
        "--n-recommendations",
        type=COUNT,
        default=defaults.n_recommendations,
        show_default=True,
        help="Length of each list in the recommendations table.",
    )(fn)
    fn = click.option(
        "--memory-limit",
        callback=_memory_limit,
        default=None,
        help="DuckDB memory_limit, e.g. 8GB (spills past it).",
    )(fn)
    fn = click.option(
        "--neighbors",
        default=",".join(defaults.neighbors),
        show_default=True,
        help="Neighbour tables to compute (item, user, content); leave out user at "
        "10M ratings and more (its pairs grow with the square of the users).",
    )(fn)
    return fn


@cli.command()
@click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="MovieLens folder to load, of any release: ml-latest-small, ml-latest, ml-32m, "
    "ml-25m, ml-20m (CSV), ml-10m, ml-1m (.dat) or ml-100k (u.data); default: rebuild on "
    "the ratings already loaded, or data/ml-latest-small for a new database.",
)
@click.option(
    "--download",
    "release",
    metavar="NAME",
    is_flag=False,
    flag_value="ml-latest-small",
    default=None,
    help="Download MovieLens release NAME from GroupLens (checked against its published "
    "checksum) into data/NAME, or into --data, and build from it: " + ", ".join(RELEASES) + ".",
)
@click.option(
    "--no-download",
    is_flag=True,
    help="Never download: fail when the default folder data/ml-latest-small is absent.",
)
@click.option(
    "--ratings",
    metavar="FILE",
    help="Ratings of your own instead of --data: a CSV file with a header line, a "
    "Parquet file, folder or glob, or a MovieLens .dat / u.data-style file (by its "
    "suffix); with --engine spark, Parquet at any path Spark reads (s3a://, hdfs://).",
)
@click.option(
    "--items",
    "--movies",
    "items",
    metavar="FILE",
    help="Items of your own (CSV or Parquet): an id, and optionally a title and "
    "|-separated genres (content features need genres); with --ratings. Default: the "
    "items the ratings name, without titles.",
)
@click.option(
    "--tags",
    metavar="FILE",
    help="Tags (userId, movieId, tag, timestamp; CSV or Parquet), optional, with --ratings.",
)
@click.option(
    "--attach",
    multiple=True,
    metavar="DB=URL",
    help="Attach a database read-only as DB (a DuckDB file, or postgresql://user@host/db "
    "with pip install 'recsys-duck[bi]'), so that --ratings/--items may name its tables "
    "as DB.TABLE or DB.SCHEMA.TABLE; repeat for more.",
)
@click.option(
    "--columns",
    metavar="KEY=NAME,...",
    callback=_parsed(parse_columns),
    help="Your files' column names: user=, item=, rating=, time=, title=, genres= "
    "(default: MovieLens' userId, movieId, rating, timestamp, title, genres; the time "
    "may be absent), e.g. user=customer_id,item=sku,rating=stars.",
)
@click.option(
    "--rating-scale",
    metavar="LOW:HIGH:STEP",
    callback=_parsed(RatingScale.parse),
    help="The ratings' scale, e.g. 1:5:1 or 0.5:5:0.5 (LOW:HIGH for any value between): "
    "ratings off it are an error and predictions are clipped to it (default: the "
    "release's, or the one your ratings show).",
)
@_params_options
@click.option(
    "--engine",
    type=click.Choice(ENGINES),
    default="duckdb",
    show_default=True,
    help="Where the tables are computed: DuckDB itself, or Apache Spark (needs "
    "pip install 'recsys-duck[spark]' and Java 17); DuckDB serves them either way.",
)
@click.option(
    "--spark-master",
    default="local[*]",
    show_default=True,
    help="Spark master URL: local[N], spark://host:7077, yarn, k8s://... (--engine spark).",
)
@click.option(
    "--spark-conf",
    multiple=True,
    metavar="KEY=VALUE",
    help="A Spark setting, e.g. spark.executor.memory=8g; repeat for more (--engine spark).",
)
@click.option(
    "--spark-batches",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Cut the pair sums, content neighbours and recommendations into at most N Spark "
    "jobs each, for a cluster where one job's shuffle would not fit (default: one job "
    "each; --engine spark).",
)
@click.option(
    "--warehouse",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder of Spark's Parquet tables, one run folder per build "
    "(default: <database file>.warehouse; --engine spark).",
)
@click.pass_context
def build(
    ctx: click.Context,
    data_dir: Path | None,
    release: str | None,
    no_download: bool,
    ratings: str | None,
    items: str | None,
    tags: str | None,
    attach: tuple[str, ...],
    columns: dict[str, str] | None,
    rating_scale: RatingScale | None,
    k: int,
    n_recommendations: int,
    memory_limit: str | None,
    neighbors: str,
    engine: Engine,
    spark_master: str,
    spark_conf: tuple[str, ...],
    spark_batches: int | None,
    warehouse: Path | None,
) -> None:
    """Load MovieLens and build every table, view and macro, all or nothing.

    \b
    Example:
        recsys-duck --db data/recsys.duckdb build --data data/ml-latest-small
    any MovieLens release, downloaded and checked:
        recsys-duck --db data/ml-1m.duckdb build --download ml-1m
    ratings of your own:
        recsys-duck --db shop.duckdb build --ratings orders.parquet \\
            --columns user=customer_id,item=sku,rating=stars --rating-scale 1:10:1
    and on Apache Spark, served by the same file afterwards:
        recsys-duck --db data/spark.duckdb build --engine spark --spark-master 'local[2]'
    from Parquet files where the data lives:
        recsys-duck --db data/lake.duckdb build --engine spark \\
            --ratings s3a://bucket/ratings/ --movies s3a://bucket/movies.parquet
    """
    settings: _Settings = ctx.obj
    files = _files_input(data_dir, release, ratings, items, tags, columns, attach)
    scale = rating_scale
    if release is not None:
        if no_download:
            raise click.UsageError("give either --download NAME or --no-download")
        data_dir = data_dir or Path("data") / release
        ensure_release(release, data_dir)
    if data_dir is None and files is None and not settings.db.exists():
        data_dir = DEFAULT_DATA
    if data_dir is not None and not no_download and data_dir.resolve() == DEFAULT_DATA.resolve():
        ensure_movielens(data_dir)
    kinds = tuple(kind.strip() for kind in neighbors.split(",") if kind.strip())
    defaults = BuildParams()
    # The recommendations' neighbourhoods cannot exceed the neighbours stored.
    params = BuildParams(
        k=k,
        n_similar_users=min(defaults.n_similar_users, k),
        n_item_neighbors=min(defaults.n_item_neighbors, k),
        n_recommendations=n_recommendations,
        neighbors=kinds,
        rating_min=None if scale is None else scale.low,
        rating_max=None if scale is None else scale.high,
        rating_step=None if scale is None else scale.step,
    )
    params.check()  # before the database file is created
    spark = SparkOptions(spark_master, _spark_settings(spark_conf), warehouse, spark_batches)
    with Recommender(settings.db, memory_limit=memory_limit) as rec:
        report = rec.build(data_dir, params, engine=engine, spark=spark, files=files)
    summary = pd.DataFrame(
        {"step": list(report.seconds), "seconds": [round(s, 3) for s in report.seconds.values()]}
    )
    logging.getLogger(__name__).info("built %s in %.1f s", settings.db, report.total_seconds)
    _emit(summary, None)


def _files_input(
    data_dir: Path | None,
    release: str | None,
    ratings: str | None,
    items: str | None,
    tags: str | None,
    columns: dict[str, str] | None,
    attach: tuple[str, ...] = (),
) -> FilesInput | None:
    """The files of your own that the options name, checked for sense, or None."""
    if ratings is None:
        named = (("--items", items), ("--tags", tags), ("--columns", columns), ("--attach", attach))
        given = [flag for flag, v in named if v]
        if given:
            raise click.UsageError(f"{' and '.join(given)} go with --ratings FILE")
        return None
    if data_dir is not None or release is not None:
        raise click.UsageError(
            "give either --data / --download (a MovieLens release) or --ratings (your own files)"
        )
    databases = {}
    for entry in attach:
        name, sep, url = entry.partition("=")
        if not sep or not name.strip() or not url.strip():
            raise click.BadParameter(
                f"{entry!r} is not DB=URL; give e.g. --attach shop=shop.duckdb",
                param_hint="--attach",
            )
        databases[name.strip()] = url.strip()
    return FilesInput(ratings, items, tags, columns or {}, databases)


def _spark_settings(pairs: tuple[str, ...]) -> dict[str, str]:
    settings = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint="--spark-conf")
        settings[key.strip()] = value.strip()
    return settings


def _in_place_options(fn: F) -> F:
    """--memory-limit and --wait, of add-ratings and refresh (which write the database in
    place with --defer-weights, else through a copy)."""
    fn = click.option(
        "--wait",
        "wait_seconds",
        type=click.FloatRange(min=0),
        default=0,
        metavar="SECONDS",
        help="Wait this long for other processes to close the database when it is written "
        "in place (add-ratings --defer-weights); default: fail at once.",
    )(fn)
    return click.option(
        "--memory-limit",
        callback=_memory_limit,
        help="DuckDB memory_limit, e.g. 8GB (spills past it).",
    )(fn)


@cli.command("add-ratings")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@_in_place_options
@click.option(
    "--refresh",
    is_flag=True,
    help="Also recompute the baseline and the marts (as the refresh verb does), in the "
    "same all-or-nothing run.",
)
@click.option(
    "--defer-weights",
    is_flag=True,
    help="Leave the ranking methods' weights (item_weights) stale for the refresh "
    "instead of recomputing the rows the new ratings change (most of them when the "
    "ratings touch popular movies).",
)
@click.pass_context
def add_ratings_command(
    ctx: click.Context,
    file: Path,
    memory_limit: str | None,
    wait_seconds: float,
    refresh: bool,
    defer_weights: bool,
) -> None:
    """Add new ratings (a CSV with ratings.csv's columns) to a built database.

    Updates the co-rating sums and re-ranks only the neighbours and ranking weights of
    the movies and users the new ratings affect, all or nothing: recommendations by
    macro use them at once. The baseline biases and the marts (popular_movies,
    recommendations), and item_weights with --defer-weights, are marked stale in the
    freshness table until `recsys-duck refresh` (or --refresh), after which the
    database equals a full rebuild. Pairs already rated are refused.

    \b
    Example:
        recsys-duck add-ratings new_ratings.csv
        recsys-duck add-ratings new_ratings.csv --defer-weights
        recsys-duck add-ratings new_ratings.csv --refresh
    """
    settings: _Settings = ctx.obj
    with Recommender(settings.db, memory_limit=memory_limit) as rec:
        report = rec.add_ratings(
            file, refresh=refresh, defer_weights=defer_weights, wait_seconds=wait_seconds
        )
    logging.getLogger(__name__).info(
        "added %d ratings to %s in %.1f s (neighbours of %d movies and %d users refreshed)",
        report.n_ratings,
        settings.db,
        report.total_seconds,
        report.affected_movies,
        report.affected_users,
    )
    summary = pd.DataFrame(
        {"step": list(report.seconds), "seconds": [round(s, 3) for s in report.seconds.values()]}
    )
    _emit(summary, None)


@cli.command("refresh")
@_in_place_options
@click.pass_context
def refresh_command(ctx: click.Context, memory_limit: str | None, wait_seconds: float) -> None:
    """Recompute what add-ratings left stale: the baseline biases, the marts and
    item_weights if deferred.

    The freshness table lists them, since when they are stale and how many ratings were
    added since; afterwards none is stale and the database equals a full rebuild.

    \b
    Example:
        recsys-duck refresh
    """
    settings: _Settings = ctx.obj
    with Recommender(settings.db, memory_limit=memory_limit) as rec:
        seconds = rec.refresh(wait_seconds=wait_seconds)
    summary = pd.DataFrame(
        {"step": list(seconds), "seconds": [round(s, 3) for s in seconds.values()]}
    )
    _emit(summary, None)


@cli.command()
@_output_options
@click.pass_context
def stats(ctx: click.Context, fmt: str | None) -> None:
    """Rating-matrix statistics (the rating_matrix_stats view).

    \b
    Example:
        recsys-duck stats --json
    """
    with _open(ctx) as rec:
        _emit(rec.stats(), fmt)


@cli.command()
@click.argument("movie")
@click.option("-n", type=COUNT, default=10, show_default=True, help="How many movies.")
@click.option(
    "--method",
    type=click.Choice(["content", "item"]),
    default="content",
    show_default=True,
    help="content: TF-IDF of genres and tags; item: rating cosine.",
)
@_output_options
@click.pass_context
def similar(ctx: click.Context, movie: str, n: int, method: str, fmt: str | None) -> None:
    """Movies most similar to MOVIE (an exact title or a movie_id).

    \b
    Example:
        recsys-duck similar "Toy Story (1995)" -n 5
    """
    key: str | int = int(movie) if movie.isdigit() else movie
    with _open(ctx) as rec:
        _emit(rec.similar(key, n=n, method=method), fmt)


@cli.command()
@click.argument("user_id", type=int)
@click.option("-n", type=COUNT, default=10, show_default=True, help="How many movies.")
@click.option(
    "--method",
    default=None,
    help="A ranking method of the ranking_models table (item_ridge, rp3beta, item_knn; "
    "default: the one of best validation NDCG@10), user, item, content or popularity, or a "
    "rating predictor of the knn_models table (e.g. knn_baseline_item_pearson_baseline: "
    "every unrated movie ranked by its prediction).",
)
@click.option(
    "--neighbors-used",
    type=COUNT,
    default=None,
    help="Neighbourhood of user/item/content: similar users (user, default 5) or "
    "neighbours per rated movie (item/content, default 10); at most build's --k.",
)
@click.option(
    "--k",
    "old_k",
    type=COUNT,
    default=None,
    hidden=True,
    callback=_deprecated_k("--neighbors-used"),
)
@_output_options
@click.pass_context
def recommend(
    ctx: click.Context,
    user_id: int,
    n: int,
    method: str | None,
    neighbors_used: int | None,
    old_k: int | None,
    fmt: str | None,
) -> None:
    """Top-N unrated movies for USER_ID.

    \b
    Example:
        recsys-duck recommend 1 --method item -n 5 --neighbors-used 20
        recsys-duck recommend 1 --method knn_baseline_item_pearson_baseline
    """
    used = neighbors_used if neighbors_used is not None else old_k
    with _open(ctx) as rec:
        _emit(rec.recommend(user_id, n=n, method=method, k=used), fmt)


def _given_pairs(train: tuple[str, ...], test: tuple[str, ...]) -> list[tuple[str, str]]:
    """The (train, test) file pairs of --train/--test, braces expanded ('u{1..5}.base')."""
    trains = [path for pattern in train for path in expand_braces(pattern)]
    tests = [path for pattern in test for path in expand_braces(pattern)]
    if len(trains) != len(tests):
        raise click.UsageError(
            f"{len(trains)} --train file(s) but {len(tests)} --test file(s); give one test "
            "file per train file"
        )
    return list(zip(trains, tests, strict=True))


def _names(value: str | None) -> list[str] | None:
    return None if value is None else [name.strip() for name in value.split(",") if name.strip()]


@cli.command()
@click.option(
    "--split",
    type=click.Choice(["holdout", "validation", "temporal", "leave_last_out", "kfold"]),
    default=None,
    help="holdout: a seeded 20% of each user's ratings; validation: a seeded 20% of the "
    "holdout's train part (what tune chooses on); temporal: each user's latest 20%; "
    "leave_last_out: each user's latest rating; kfold: --folds folds over all ratings  "
    "[default: holdout, or the given split of --train/--test]",
)
@click.option(
    "--train",
    multiple=True,
    metavar="FILE",
    help="Train on this ratings file instead of a split of the database's ratings (CSV "
    "with a header, Parquet, .dat, or tab-separated .base/.test/.data as ml-100k's "
    "u1.base); with --test. Repeat both, or write 'u{1..5}.base' (quoted), for folds.",
)
@click.option(
    "--test",
    multiple=True,
    metavar="FILE",
    help="Score the ratings of this file (same formats as --train), one per --train.",
)
@click.option(
    "--columns",
    metavar="KEY=NAME,...",
    callback=_parsed(parse_columns),
    help="The --train/--test files' column names, as for build: user=, item=, rating=, time=.",
)
@click.option(
    "--models",
    default=None,
    metavar="NAMES",
    help="Comma-separated models: user_based, item_based, content_based, popularity and "
    "the rows of the knn_models table (baseline_only, knn_basic_item_cosine, ...). "
    "Default: the four methods, baseline_only and knn_baseline_item_pearson_baseline.",
)
@click.option("--folds", type=FOLDS, default=None, help="Folds of the kfold split (default 5).")
@click.option(
    "--rank-models",
    default=None,
    metavar="NAMES",
    help="k-NN models to also rank with: each user's n_rank_candidates (100) candidates by "
    "item_based, ordered by the model's predicted rating (item-based pearson_baseline: "
    "about 20 s per fold on ml-latest-small).",
)
@click.option(
    "--cutoff",
    type=COUNT,
    default=None,
    help="Cutoff k of the ranking metrics shown (precision@k, ...)  [default: 10]",
)
@click.option(
    "--k", "old_k", type=COUNT, default=None, hidden=True, callback=_deprecated_k("--cutoff")
)
@click.option(
    "--test-fraction",
    type=FRACTION,
    default=None,
    help="Share of each user's ratings held out (default: the stored setting, 0.2).",
)
@click.option("--seed", type=int, default=None, help="Seed of the splits (default 42).")
@click.option(
    "--memory-limit",
    callback=_memory_limit,
    help="DuckDB memory_limit, e.g. 8GB (spills past it).",
)
@click.option(
    "--results-csv",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write every metric of the split, mean and std over folds "
    "(default: <db>.<split>.evaluation.csv beside the database).",
)
@_output_options
@click.pass_context
def evaluate(
    ctx: click.Context,
    split: str | None,
    train: tuple[str, ...],
    test: tuple[str, ...],
    columns: dict[str, str] | None,
    models: str | None,
    folds: int | None,
    rank_models: str | None,
    cutoff: int | None,
    old_k: int | None,
    test_fraction: float | None,
    seed: int | None,
    memory_limit: str | None,
    results_csv: Path | None,
    fmt: str | None,
) -> None:
    """Split the ratings, retrain each model on the train part, and print a model x metric
    table (RMSE, MAE, coverage, precision, recall, NDCG, MAP, hit rate, MRR, catalogue
    coverage, novelty at --cutoff; mean ± std over folds). Results are stored in the
    eval_* tables (query eval_summary) and written to a CSV.

    \b
    Example:
        recsys-duck evaluate --split temporal --cutoff 10
        recsys-duck evaluate --split kfold --folds 5 \\
            --models baseline_only,knn_basic_user_cosine,knn_baseline_item_pearson_baseline
    on the split you bring (MovieLens 100K's five folds, built with --data ml-100k):
        recsys-duck evaluate --train 'ml-100k/u{1..5}.base' --test 'ml-100k/u{1..5}.test'
    """
    given = _given_pairs(train, test)
    if given and split is not None:
        raise click.UsageError(f"--train/--test bring their own split; leave out --split {split}")
    split = "given" if given else split or "holdout"
    k = cutoff if cutoff is not None else old_k if old_k is not None else 10
    with _open(ctx, read_only=False, memory_limit=memory_limit) as rec:
        rec.require_built()
        # Checked before the (long) evaluation: the lists it ranks are this long.
        longest = read_params(rec.con).n_recommendations
        if k > longest:
            raise click.BadParameter(
                f"{k} is beyond the {longest} movies each evaluated list holds; use 1 to "
                f"{longest}, or rebuild with: recsys-duck build --n-recommendations {k}",
                param_hint="--cutoff",
            )
        result = rec.evaluate(
            split,  # type: ignore[arg-type]
            models=_names(models),
            folds=folds,
            rank_models=_names(rank_models) or (),
            test_fraction=test_fraction,
            seed=seed,
            given=given,
            columns=columns,
        )
    db = Path(ctx.obj.db)
    target = results_csv or db.with_name(f"{db.name}.{split}.evaluation.csv")
    write_text_atomically(target, result.summary.to_csv(index=False))
    logging.getLogger(__name__).info("wrote every metric of the %s split to %s", split, target)
    _emit(result.table(k) if fmt is None else result.at(k), fmt)


@cli.command()
@click.option(
    "--models",
    default=None,
    metavar="NAMES",
    help="Comma-separated ranking models to tune (rows of ranking_models; default: all).",
)
@click.option(
    "--memory-limit",
    callback=_memory_limit,
    help="DuckDB memory_limit, e.g. 8GB (spills past it).",
)
@_output_options
@click.pass_context
def tune(ctx: click.Context, models: str | None, memory_limit: str | None, fmt: str | None) -> None:
    """Choose the ranking models' settings on your ratings: NDCG@10 of each ranking_grid
    row of a model's algorithm, and of its current settings, on validation_split (a
    holdout of the holdout split's train part, so evaluate --split holdout stays an
    honest test). Each model keeps its best (ranking_models.validation_ndcg, tuned_on);
    recommend's default method is then the best of them. Prints what was tried, best
    first per model (the ranking_tuning table). About 2.5 minutes on ml-latest-small.

    \b
    Example:
        recsys-duck tune
        recsys-duck tune --models rp3beta
    to search elsewhere, add rows to ranking_grid first (any SQL client), e.g.
        duckdb data/recsys.duckdb "insert into ranking_grid (algorithm, neighbors,
            alpha, beta, normalize) values ('rp3beta', 200, 0.8, 0.4, true)"
    """
    with _open(ctx, read_only=False, memory_limit=memory_limit) as rec:
        tried = rec.tune(_names(models))
    # tuned_on is one long line, the same for every row: in --csv / --json only.
    shown = tried.drop(columns="tuned_on")
    _emit(shown if fmt is None else tried, fmt)


@cli.command("predict")
@click.option(
    "--pairs",
    "pairs_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="CSV or Parquet file of the pairs to predict, with columns userId,movieId.",
)
@click.option(
    "--model",
    default="knn_baseline_item_pearson_baseline",
    show_default=True,
    help="A rating predictor of the knn_models table (recsys-duck sql 'from knn_models').",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the predictions to this .csv or .parquet file (default: print them).",
)
@_output_options
@click.pass_context
def predict_command(
    ctx: click.Context, pairs_file: Path, model: str, out: Path | None, fmt: str | None
) -> None:
    """Predict the ratings of (userId, movieId) pairs with a rating predictor: one row
    per distinct pair with predicted_rating (clipped to the rating scale), the neighbours
    used, and unknown_user / unknown_movie where the user or the movie has no rating, so
    the prediction is only the baseline's guess.

    \b
    Example:
        recsys-duck predict --pairs u1.test.csv --out predictions.parquet
    """
    pairs = read_pairs(pairs_file)
    with _open(ctx) as rec:
        predictions = rec.predict(pairs, model=model)
    if out is None:
        _emit(predictions, fmt)
        return
    write_frame_atomically(out, predictions)
    logging.getLogger(__name__).info("wrote %d predictions to %s", len(predictions), out)


@cli.command("sql")
@click.argument("query")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=ReadLimits.timeout_seconds,
    show_default=True,
    metavar="SECONDS",
    help="Stop the query after this many seconds.",
)
@click.option(
    "--max-rows",
    type=click.IntRange(min=1),
    default=ReadLimits.max_rows,
    show_default=True,
    help="Refuse a result of more rows than this.",
)
@click.option(
    "--memory-limit",
    callback=_memory_limit,
    default=default_memory_limit(),
    show_default=True,
    help="DuckDB memory_limit of the query (spills past it).",
)
@_output_options
@click.pass_context
def sql_command(
    ctx: click.Context,
    query: str,
    timeout: float,
    max_rows: int,
    memory_limit: str,
    fmt: str | None,
) -> None:
    """Run a query against the database, read-only: it can read the database's tables,
    views and macros but no other file (read_csv, COPY, ATTACH and INSTALL fail), and
    statements that change state (SET, CALL, PRAGMA enable_..., enable_logging()) are
    refused.

    \b
    Example:
        recsys-duck sql "select * from recommend_item_based(1, n := 5)"
    """
    settings: _Settings = ctx.obj
    limits = ReadLimits(timeout, max_rows, memory_limit)
    with Recommender(settings.db, read_only=True, limits=limits) as rec:
        _emit(rec.sql(query), fmt)


@cli.command("publish")
@click.option(
    "--postgres",
    "postgres_url",
    required=True,
    metavar="URL",
    help="libpq URL of the PostgreSQL database: postgresql://user@host:5432/dbname "
    "(password from PGPASSWORD or ~/.pgpass, or user:password@ in the URL).",
)
@click.option(
    "--schema", default="recsys", show_default=True, help="The schema to (re)place the tables in."
)
@click.option(
    "--grant-readonly",
    "grant_readonly",
    default=None,
    metavar="ROLE",
    help="An existing role, not a superuser, to get USAGE on the schema and SELECT on "
    "its tables (it keeps them on later publishes).",
)
@_output_options
@click.pass_context
def publish_command(
    ctx: click.Context,
    postgres_url: str,
    schema: str,
    grant_readonly: str | None,
    fmt: str | None,
) -> None:
    """Copy the analyst-facing tables (movies, statistics, neighbours, recommendations,
    evaluation results) into a PostgreSQL schema for BI tools, replacing the previous
    publication atomically: readers see the old tables or the new ones, never a mix, and
    a failure leaves the old ones. Needs pip install 'recsys-duck[bi]'.

    \b
    Example:
        PGPASSWORD=... recsys-duck publish \\
            --postgres postgresql://publisher@127.0.0.1:5432/bi --grant-readonly analyst
    """
    settings: _Settings = ctx.obj
    report = publish(settings.db, postgres_url, schema=schema, grant_readonly=grant_readonly)
    summary = pd.DataFrame({"table": list(report.rows), "rows": list(report.rows.values())})
    logging.getLogger(__name__).info(
        "published %d tables to schema %s in %.1f s", len(report.rows), schema, report.total_seconds
    )
    _emit(summary, fmt)


@cli.command()
@click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_DATA,
    show_default=True,
    help="MovieLens ml-latest-small folder.",
)
@click.pass_context
def tour(ctx: click.Context, data_dir: Path) -> None:
    """The main job: build the database from ml-latest-small (downloading it if absent)
    and print a short tour of what it holds.

    \b
    Example:
        recsys-duck tour
    """
    settings: _Settings = ctx.obj
    if data_dir.resolve() == DEFAULT_DATA.resolve():
        ensure_movielens(data_dir)
    with Recommender(settings.db) as rec:
        report = rec.build(data_dir)
        click.echo(f"Built {settings.db} in {report.total_seconds:.1f} s\n")
        click.echo("== Rating matrix (select * from rating_matrix_stats)")
        _emit(rec.stats(), None)
        click.echo(
            "\n== Most similar to Toy Story (1995) by content "
            "(select * from similar_movies('Toy Story (1995)'))"
        )
        _emit(rec.similar("Toy Story (1995)", n=10), None)
        (best,) = rec.sql("select ranking_model_of(null) as model")["model"]
        title = "\n== Recommendations for user 1 by " + str(best)
        click.echo(title + ", the method of best validation NDCG@10, by macro recommend_ranked")
        _emit(rec.recommend(1, n=10), None)
        for method, macro in (
            ("user", "recommend_user_based"),
            ("item", "recommend_item_based"),
            ("content", "recommend_content_based"),
        ):
            click.echo("\n== Recommendations for user 1, " + method + "-based, by macro " + macro)
            _emit(rec.recommend(1, n=10, method=method), None)
        click.echo(
            "\n== Evaluation on a seeded 20% per-user holdout "
            "(select * from eval_rating_metrics / eval_ranking_metrics where k = 10)"
        )
        shown = ["method", "rmse", "mae", "coverage", "precision_at_k", "recall_at_k", "ndcg_at_k"]
        _emit(rec.evaluate("holdout").at(10)[shown], None)


def _user_ids(value: str | None) -> list[int] | None:
    names = _names(value)
    if names is None:
        return None
    if not names or not all(name.isdigit() for name in names):
        raise InvalidArgumentError(
            f"--users takes comma-separated user ids, e.g. 1,2,3; got {value!r}"
        )
    return [int(name) for name in names]


@cli.command("report")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("report.html"),
    show_default=True,
    help="The HTML file to write (replaced atomically).",
)
@click.option(
    "--users",
    default=None,
    metavar="IDS",
    help="Comma-separated user ids for the examples (default: 3 users drawn with --seed).",
)
@click.option(
    "--seed", type=int, default=None, help="Seed of the example users (default: the build's, 42)."
)
@click.pass_context
def report_command(ctx: click.Context, out: Path, users: str | None, seed: int | None) -> None:
    """Write one self-contained HTML report (plots embedded, no JavaScript, opens offline):
    the data, the neighbours' similarities, every stored evaluation, and what three users
    rated highly next to what each method recommends them.

    \b
    Example:
        recsys-duck report --out report.html
        recsys-duck report --users 1,2,3
    """
    chosen = _user_ids(users)
    with _open(ctx) as rec:
        summary = rec.report(out, users=chosen, seed=seed)
    logging.getLogger(__name__).info(
        "wrote %s (%d images) in %.1f s", summary.path, summary.n_images, summary.seconds
    )
    _emit(
        pd.DataFrame(
            {
                "path": [str(summary.path)],
                "images": [summary.n_images],
                "tables": [summary.n_tables],
                "bytes": [summary.n_bytes],
                "users": [",".join(map(str, summary.users))],
                "seconds": [round(summary.seconds, 2)],
            }
        ),
        None,
    )


def main() -> None:
    cli(prog_name="recsys-duck")


if __name__ == "__main__":
    main()
