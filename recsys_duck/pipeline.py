"""The build, declared once: the ordered steps that make every table, and the scopes
that run them.

:data:`PLAN` lists, in the order they run, the SQL layers of ``sql/`` and the steps that
fill the tables those layers declare empty: Python steps (settings, load, the TF-IDF
fit) and SQL filled in parts (the pair sums and the content neighbours in batches, the
neighbour tables ranked for a scope of ids, the recommendations mart in batches of
users). Every command runs this one plan, with a :class:`Scope` that says which part:

* ``build``: every step, in schema ``main``, from a MovieLens folder or from the raw
  tables of the file being rebuilt (``recsys-duck build``);
* ``train``: the steps that depend on ratings, in schema ``eval_train`` where an
  evaluation fold has put its training ratings (``recsys-duck evaluate``);
* ``increment``: new ratings added (``recsys-duck add-ratings``): the pair sums get
  what they add and only the neighbour rows whose similarities changed are ranked
  again; the tables that are global by nature (baseline biases, marts: :data:`DEFERRED`)
  are left for ``refresh`` and marked stale in ``freshness``; views read the new
  ratings as they are;
* ``refresh``: the deferred tables recomputed from every rating (``recsys-duck
  refresh``, ``add-ratings --refresh``), after which the database equals a full build.

A step names the tables it fills, the scopes it runs in and the neighbour kind it needs
(``item``, ``user`` or ``content``: ``build --neighbors`` leaves the others out). What a
step runs is SQL in ``sql/``: a layer's files, or the parts beside a table
(``<table>.batch.sql``, ``<table>.refresh.sql``, ...; see :mod:`recsys_duck.sql`).

Layers only declare tables, make views and macros; steps fill tables. So the same plan
runs on two engines (``build --engine spark``, :func:`build`): the steps that load
(``driver``) on DuckDB, the layers on both, the filling steps on Spark, each table
handed over as Parquet (:class:`Phase`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

import duckdb

from recsys_duck import content, pairs
from recsys_duck.errors import NotBuiltError
from recsys_duck.layouts import file_kind
from recsys_duck.loader import (
    FilesInput,
    Loaded,
    attach_databases,
    load_files,
    load_movielens,
    load_new_ratings,
)
from recsys_duck.params import BuildParams, RatingScale, write_params
from recsys_duck.progress import tracked
from recsys_duck.sql import (
    apply_layers,
    batches,
    cleaned_up,
    duckdb_setting,
    execute,
    has_part,
    layer_files,
    layers,
    part_file,
    quote_identifier,
    run_file,
    settings,
    step_file,
    string_literal,
)
from recsys_duck.storage import all_or_nothing

if TYPE_CHECKING:  # pragma: no cover
    from recsys_duck.spark import SparkOptions

logger = logging.getLogger(__name__)

Mode = Literal["build", "train", "increment", "refresh"]
#: The passes of a build whose tables Spark computes (:func:`recsys_duck.spark.build`):
#: ``driver`` (DuckDB: the layers and the steps that load), ``compute`` (Spark: the
#: layers, the loaded tables received, the filling steps run), ``serve`` (DuckDB: the
#: computed tables received).
Phase = Literal["driver", "compute", "serve"]
#: What a pass does with a step: run it, receive its tables from the other engine, or not.
Action = Literal["run", "receive", "skip"]
MODES: frozenset[Mode] = frozenset(("build", "train", "increment"))
#: The command that runs each scope, as its log lines name it.
COMMANDS: dict[Mode, str] = {
    "build": "build",
    "train": "evaluate",
    "increment": "add-ratings",
    "refresh": "refresh",
}
#: The tables add-ratings leaves to refresh (their computation is global: every rating
#: moves the baseline's fit and every user's list), and the modes that compute them.
DEFERRED = ("baseline_biases", "popular_movies", "recommendations")
RECOMPUTED: frozenset[Mode] = frozenset(("build", "train", "refresh"))
#: The ranking methods' weights: exact after add-ratings, unless it defers them to
#: refresh (``defer_weights``: most rows follow a new rating of a popular movie, so
#: keeping them exact costs about as much as computing them).
WEIGHTS = "item_weights"

#: The objects of content similarity (from movies and tags, not ratings): a training fold
#: computes them again from the tags known at training time (prepare_evaluation.sql).
CONTENT_OBJECTS = frozenset(
    {
        "content_features",
        "content_profiles",
        "content_profile_similarity",
        "content_similarity",
        "content_neighbors",
    }
)
#: The objects of the k-NN rating predictors in ``30_similarity`` (they read the baseline).
KNN_OBJECTS = frozenset(
    {"knn_pair_scope", "item_pair_stats", "user_pair_stats", "knn_pair_similarity"}
)
#: The cosine similarity objects, which the k-NN predictors do not use.
COSINE_OBJECTS = frozenset(
    f"{side}_{name}"
    for side in ("item", "user")
    for name in ("pair_sums", "co_ratings", "pair_similarity", "similarity")
)

#: The raw MovieLens tables, loaded from files or copied from the file being rebuilt.
RAW_TABLES = ("movies", "ratings", "tags", "links")
#: The model definitions (settings you edited or ``tune`` chose, and what tune tried),
#: which a build keeps from the file it replaces, with or without new data.
MODEL_TABLES = ("knn_models", "ranking_models", "ranking_grid", "ranking_tuning")

#: The pair-sum table of each side (:mod:`recsys_duck.pairs`), and the neighbour table of
#: each kind.
PAIR_SUMS = {"item": "item_pair_sums", "user": "user_pair_sums"}
NEIGHBOR_TABLES = {
    "item": "item_neighbors",
    "user": "user_neighbors",
    "content": "content_neighbors",
}
#: The steps that make what a neighbour table is computed from, besides the similarity
#: layer (the content profiles, declared by 10_staging).
NEIGHBOR_INPUTS = {"content": ("10_staging", "content_profiles")}

#: Self-join rows of content_profile_similarity per batch of content_neighbors
#: (bench/results: 500k-row batches beat 2M and 16M on ml-latest-small and at 10M
#: ratings, when the batches joined movies rather than profiles).
CONTENT_BATCH_ROWS = 500_000
#: Joined rows per batch of users of the recommendations mart (recommendations.work.sql;
#: ml-latest-small: one batch; 10M ratings: 10.4 billion rows with the ranking models,
#: about 11 s and under 1 GB of memory per batch).
MART_BATCH_ROWS = 100_000_000
#: The range [lo, hi) of a single batch: every id and position (ids are 32-bit integers).
EVERY_POSITION = (-(2**31), 2**31 - 1)


@dataclass(frozen=True)
class Scope:
    """Which part of the plan a command runs, and how.

    ``neighbors``: the neighbour kinds to compute (steps that need another are skipped);
    ``predictors_only``: only the steps whose objects the k-NN rating predictors read.
    ``steps``: run only the steps of these names (the benchmarks time one table);
    ``skip``: objects of the layers not to create (a training fold reads the content
    objects from ``main``). ``autocommit`` says that the connection has no transaction
    open (statements commit as they go, see :mod:`recsys_duck.pairs`) and
    ``memory_limit`` is DuckDB's limit as configured. ``data_dir`` (build) is the
    MovieLens folder to load, or ``files`` the files of your own; else, with
    ``copy_previous``, the raw tables of the attached database ``previous`` are copied.
    ``keep_models``: the model tables (:data:`MODEL_TABLES`) are copied from
    ``previous``.
    ``new_ratings`` (increment) is the CSV file of ratings to add; ``params`` (build) the
    settings written to ``recsys_params``. ``ranking`` names the models of
    ``ranking_models`` whose weights to compute (None: every one). ``defer_weights``
    (increment): leave ``item_weights`` as it is and mark it stale.
    """

    mode: Mode
    neighbors: frozenset[str] = frozenset(("item", "user", "content"))
    predictors_only: bool = False
    steps: frozenset[str] | None = None
    skip: frozenset[str] = frozenset()
    autocommit: bool = False
    memory_limit: str | None = None
    data_dir: Path | None = None
    files: FilesInput | None = None
    copy_previous: bool = False
    keep_models: bool = False
    new_ratings: Path | None = None
    params: BuildParams | None = None
    phase: Phase | None = None
    handoff: Handoff | None = None
    spark_batches: int | None = None
    ranking: frozenset[str] | None = None
    defer_weights: bool = False


class Handoff(Protocol):
    """Moves tables between the engines of a build that Spark computes."""

    def to_spark(self, tables: Sequence[str]) -> None:
        """Fill the Spark tables of these names from the DuckDB ones."""

    def to_duckdb(self, tables: Sequence[str]) -> None:
        """Fill the DuckDB tables of these names from the Spark ones."""

    def read_input(self, sources: Mapping[str, str]) -> dict[str, str]:
        """Have Spark copy the Parquet files of each table (where data lives: any path
        Spark reads) to local Parquet that DuckDB loads; returns the copies' globs."""


@dataclass
class RunReport:
    """What a run of the plan did: rows loaded or added, vocabulary sizes, ids whose
    neighbours were ranked, and seconds per step."""

    rows: dict[str, int] = field(default_factory=dict)
    vocabulary: dict[str, int] = field(default_factory=dict)
    refreshed: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    #: Batches of each table filled in batches.
    batches: dict[str, int] = field(default_factory=dict)
    #: The warehouse folder of a build that Spark computed.
    spark_run: Path | None = None
    #: Whether item_weights was computed (in full or the rows a change touched), or
    #: left stale by add-ratings.
    weights_computed: bool = False
    weights_deferred: bool = False
    #: Steps that found nothing to do (item_weights when not stale, or deferred): not
    #: listed in ``seconds``.
    skipped: set[str] = field(default_factory=set)

    @property
    def total_seconds(self) -> float:
        return sum(self.seconds.values())


@dataclass(frozen=True)
class Context:
    """What a step runs with: the connection, the scope and the report to fill."""

    con: duckdb.DuckDBPyConnection
    scope: Scope
    report: RunReport


@dataclass(frozen=True)
class Step:
    """One step of the plan: its name (a layer folder, or the table it fills), the tables
    it fills (a layer's are its files'), the scopes it runs in, the neighbour kind it
    needs, whether the k-NN rating predictors read what it makes (``predictors``), a
    condition on the scope (``when``), and what it runs."""

    name: str
    run: Callable[[Context], None]
    modes: frozenset[Mode] = MODES
    fills: tuple[str, ...] = ()
    needs: str | None = None
    predictors: bool = True
    when: Callable[[Scope], bool] | None = None
    driver: bool = False
    spark: bool = True

    @property
    def is_layer(self) -> bool:
        return self.name[:2].isdigit()

    def objects(self) -> tuple[str, ...]:
        """The objects this step creates or fills."""
        if self.is_layer:
            return tuple(path.stem for path in layer_files(self.name))
        return self.fills

    def applies(self, scope: Scope) -> bool:
        if scope.mode not in self.modes:
            return False
        if self.needs is not None and self.needs not in scope.neighbors:
            return False
        if scope.predictors_only and not self.predictors:
            return False
        if self.when is not None and not self.when(scope):
            return False
        return scope.steps is None or self.name in scope.steps

    def action(self, scope: Scope) -> Action:
        """What a pass of a build that Spark computes does with this step: run it, receive
        the tables it fills from the other engine, or nothing (every step runs when no
        Spark is involved)."""
        if scope.phase is None:
            return "run"
        if self.is_layer:
            runs = scope.phase == "driver" or (scope.phase == "compute" and self.spark)
            return "run" if runs else "skip"
        actions: dict[Phase, Action]
        if self.driver:
            actions = {"driver": "run", "compute": "receive", "serve": "skip"}
        else:
            actions = {"driver": "skip", "compute": "run", "serve": "receive"}
        return actions[scope.phase]


# -- what the steps run ------------------------------------------------------------------


def _layer(
    name: str, modes: Iterable[Mode] = MODES, *, predictors: bool = True, spark: bool = True
) -> Step:
    def run(ctx: Context) -> None:
        apply_layers(ctx.con, [name], skip=ctx.scope.skip)

    return Step(name, run, frozenset(modes), predictors=predictors, spark=spark)


def _filled(table: str) -> Callable[[Context], None]:
    """Fill ``table`` by its ``<table>.fill.sql``."""

    def run(ctx: Context) -> None:
        run_file(ctx.con, part_file(table, "fill"))

    return run


def _write_settings(ctx: Context) -> None:
    write_params(ctx.con, ctx.scope.params or BuildParams())


def _load(ctx: Context) -> None:
    scope = ctx.scope
    if scope.mode == "increment":
        assert scope.new_ratings is not None
        ctx.report.rows["ratings"] = load_new_ratings(ctx.con, scope.new_ratings)
        run_file(ctx.con, step_file("add_ratings/insert_ratings"))
    elif scope.data_dir is not None:
        _store(ctx, load_movielens(ctx.con, scope.data_dir, scope.params))
    elif scope.files is not None:
        # On Spark, Spark reads Parquet where it lives; DuckDB checks and loads its copy.
        files = scope.files
        sources = {
            t: p for t, p in files.sources().items() if file_kind(p, files.attach) == "parquet"
        }
        staged = None if scope.handoff is None or not sources else scope.handoff.read_input(sources)
        _store(ctx, load_files(ctx.con, scope.files, scope.params, staged))


def _store(ctx: Context, loaded: Loaded) -> None:
    """Count what was loaded and store the ratings' scale in ``recsys_params``."""
    ctx.report.rows.update(loaded.rows)
    _store_scale(ctx, loaded.scale)


def _store_scale(ctx: Context, scale: RatingScale) -> None:
    run_file(
        ctx.con,
        step_file("build/store_scale"),
        {"rating_min": scale.low, "rating_max": scale.high, "rating_step": scale.step},
    )


def _loads(scope: Scope) -> bool:
    return scope.data_dir is not None or scope.files is not None


def _copy_previous(ctx: Context) -> None:
    run_file(ctx.con, step_file("build/copy_raw_tables"))
    # The ratings keep their scale, unless this build gives one; a file built before
    # the scale had a step was on MovieLens' half stars.
    row = execute(ctx.con, "select * from previous.recsys_params").df().iloc[0]
    kept = RatingScale(row["rating_min"], row["rating_max"], row.get("rating_step", 0.5))
    _store_scale(ctx, (ctx.scope.params or BuildParams()).given_scale(kept))


def _keep_models(ctx: Context) -> None:
    """Replace the seeded rows of each model table by those of ``previous`` (the columns
    both files have: a file built by an older version keeps what it can)."""
    for table in MODEL_TABLES:
        columns = [
            quote_identifier(name)
            for (name,) in execute(
                ctx.con,
                "select n.column_name from duckdb_columns() as n "
                "inner join duckdb_columns() as o using (table_name, column_name) "
                "where n.database_name = current_database() and n.schema_name = 'main' "
                "and o.database_name = 'previous' and o.schema_name = 'main' "
                "and n.table_name = ? order by n.column_index",
                [table],
            ).fetchall()
        ]
        if not columns:
            continue
        names = ", ".join(columns)
        target = quote_identifier(table)
        # Identifiers only, through the quoting helper; there are no values to bind.
        execute(ctx.con, f"delete from {target}")  # noqa: S608
        execute(
            ctx.con,
            f"insert into {target} ({names}) select {names} from previous.main.{target}",  # noqa: S608
        )
        logger.info("build: %s kept from the file it replaces", table)


def _keeps_models(scope: Scope) -> bool:
    return scope.keep_models


def _require_ratings(ctx: Context) -> None:
    (n_ratings,) = execute(ctx.con, "select count(*) from ratings").fetchone() or (0,)
    if n_ratings == 0:
        raise NotBuiltError(
            "there are no ratings to build on; pass the MovieLens folder, e.g. "
            "recsys-duck build --data data/ml-latest-small"
        )


def _copies(scope: Scope) -> bool:
    return scope.copy_previous


def _pairs_wanted(scope: Scope) -> bool:
    return bool(set(PAIR_SUMS) & scope.neighbors)


def _weights_stale(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether an add-ratings deferred ``item_weights`` since it was last computed."""
    row = execute(con, "select is_stale from freshness where table_name = ?", [WEIGHTS]).fetchone()
    return bool(row and row[0])


def _fresh_tables(ctx: Context) -> list[str]:
    """The tables of ``freshness`` this run computed from every rating (build, refresh)
    or left stale (increment)."""
    if ctx.scope.mode == "increment":
        weights = ctx.report.weights_deferred
    elif ctx.scope.mode == "refresh":
        weights = ctx.report.weights_computed
    else:
        # A build computes every model's weights where it has item neighbours (on Spark
        # in another run of the plan than this step's); tune recomputes some models only.
        weights = "item" in ctx.scope.neighbors and ctx.scope.ranking is None
    return [*DEFERRED, *([WEIGHTS] if weights else [])]


def _movie_terms(ctx: Context) -> None:
    ctx.report.vocabulary = content.build_movie_terms(ctx.con)


def _pair_sums(ctx: Context) -> None:
    sides = [side for side in pairs.SIDES if side in ctx.scope.neighbors]
    if ctx.scope.mode == "increment":
        for side in sides:
            run_file(ctx.con, part_file(PAIR_SUMS[side], "increment"))
    elif sides and ctx.scope.phase == "compute":
        done = pairs.compute_portably(ctx.con, sides, EVERY_POSITION, ctx.scope.spark_batches)
        ctx.report.batches.update({PAIR_SUMS[side]: n for side, n in done.items()})
    elif sides:
        done = pairs.compute(
            ctx.con,
            sides=sides,
            autocommit=ctx.scope.autocommit,
            memory_limit=ctx.scope.memory_limit,
        )
        ctx.report.batches.update({PAIR_SUMS[side]: n for side, n in done.items()})


def _ranked_neighbors(table: str, count_scope: str) -> Callable[[Context], None]:
    """Rank the ids of the table's scope into ``table`` with its ``.refresh.sql``: every id
    at a build (its ``.scope.sql``), those that the increment listed at add-ratings,
    less those its ``.patch.sql`` (if any) could update from their stored rows;
    ``count_scope`` counts them for the report. Its ``.cleanup.sql`` drops the scope."""

    def run(ctx: Context) -> None:
        with cleaned_up(lambda: run_file(ctx.con, part_file(table, "cleanup"))):
            if ctx.scope.mode != "increment":
                run_file(ctx.con, part_file(table, "scope"))
            elif has_part(table, "patch"):
                run_file(ctx.con, part_file(table, "patch"), settings(ctx.con))
            (n_ids,) = execute(ctx.con, count_scope).fetchone() or (0,)
            ctx.report.refreshed[table] = int(n_ids)
            run_file(ctx.con, part_file(table, "refresh"), settings(ctx.con))

    return run


def fill_in_batches(
    con: duckdb.DuckDBPyConnection,
    table: str,
    work: float | None,
    *,
    count: int | None = None,
    params: Mapping[str, object] | None = None,
    fill: Callable[[Mapping[str, object]], int] | None = None,
) -> int:
    """Fill ``table`` by its ``<table>.batch.sql``, once per range ``[lo, hi)`` of
    positions that its ``<table>.work.sql`` cuts into about ``work`` work each (or into
    at most ``count`` ranges of about equal work; one range holding every position when
    both are None), after its optional ``.prepare`` part and before its ``.finish``
    (``.cleanup`` runs even on error). Returns the number of batches. Every part sees the
    settings of ``recsys_params`` and ``params``; ``table`` may name a variant's parts
    (``item_weights.rp3beta``). ``fill``, given those values, runs the batches another
    way instead and returns how many (the pair sums' dense batches, for rp3beta)."""
    values = {**settings(con), **(params or {})}
    with cleaned_up(lambda: _run_part(con, table, "cleanup", values)):
        _run_part(con, table, "prepare", values)
        if fill is not None:
            n = fill(values)
        else:
            n = _fill_ranges(con, table, work, count, values)
        _run_part(con, table, "finish", values)
    return n


def _fill_ranges(
    con: duckdb.DuckDBPyConnection,
    table: str,
    work: float | None,
    count: int | None,
    values: Mapping[str, object],
) -> int:
    if work is None and count is None:
        ranges = [EVERY_POSITION]
    else:
        ranges = batches(con, part_file(table, "work"), work, values, count=count)
    body = part_file(table, "batch")
    with tracked(table, len(ranges), "batches") as advance:
        for lo, hi in ranges:
            run_file(con, body, {**values, "lo": lo, "hi": hi})
            advance(1)
    logger.info("%s: %d %s", table, len(ranges), "batch" if len(ranges) == 1 else "batches")
    return len(ranges)


def _run_part(
    con: duckdb.DuckDBPyConnection,
    table: str,
    part: str,
    params: Mapping[str, object] | None = None,
) -> None:
    """Run the table's optional ``<table>.<part>.sql``, if it has one."""
    if has_part(table, part):
        run_file(con, part_file(table, part), params)


def fill_by_epochs(
    con: duckdb.DuckDBPyConnection,
    table: str,
    epochs: int,
    params: Mapping[str, object] | None = None,
    *,
    variant: str | None = None,
    perfect_hash_bits: int | None = None,
) -> None:
    """Fill ``table`` by its ``<table>.epoch.sql`` run ``epochs`` times, between its
    ``.prepare`` and ``.finish`` parts (``.cleanup`` runs even on error): an iterative fit
    as a loop of statements, each reading the tables the one before wrote. ``variant``
    names parts ``<table>.<variant>.epoch.sql``, ...; ``params`` are bound in every part.
    ``perfect_hash_bits`` sets DuckDB's ``perfect_ht_threshold`` for the epochs alone."""
    name = table if variant is None else f"{table}.{variant}"
    with cleaned_up(lambda: _run_part(con, name, "cleanup", params)):
        _run_part(con, name, "prepare", params)
        body = part_file(name, "epoch")
        with duckdb_setting(con, "perfect_ht_threshold", perfect_hash_bits):
            for _ in range(epochs):
                run_file(con, body, params)
        _run_part(con, name, "finish", params)


def _baseline(ctx: Context) -> None:
    fill_by_epochs(ctx.con, "baseline_biases", int(settings(ctx.con)["baseline_epochs"]))


#: The settings of a ranking_models row that its algorithm's SQL reads as parameters.
RANKING_SETTINGS = (
    "model",
    "algorithm",
    "neighbors",
    "shrinkage",
    "normalize",
    "rating_values",
    "alpha",
    "beta",
    "l2",
    "steps",
)


#: Group keys of at most this many bits get DuckDB's perfect hash aggregate in the
#: iterative weights (slots: movies x neighbours, 5.9M at 25M ratings).
PERFECT_HASH_BITS = 24


def _item_weights(ctx: Context) -> None:
    """Fill ``item_weights`` for every row of ``ranking_models`` (of ``scope.ranking``):
    by the algorithm's ``item_weights.<algorithm>.sql``, in batches by its batch parts
    (:func:`fill_in_batches`), or, for an iterative one, by its epoch parts run
    ``steps`` times (:func:`fill_by_epochs`). Each replaces the rows of the movies its
    scope lists: every movie at a build (``item_weights.scope.sql``), at add-ratings
    those whose rows the new ratings can change (``item_weights.increment.sql``, which
    says why that is exact). add-ratings leaves them stale instead when the scope defers
    them or they are stale already; refresh recomputes them when stale."""
    if ctx.scope.mode in ("increment", "refresh"):
        stale = _weights_stale(ctx.con)
        if ctx.scope.mode == "refresh" and not stale:
            logger.info("item_weights: up to date")
            ctx.report.skipped.add(WEIGHTS)
            return
        if ctx.scope.mode == "increment" and (stale or ctx.scope.defer_weights):
            # Once stale, patching the rows of more ratings would not make them exact.
            logger.info("item_weights: left stale for the refresh")
            ctx.report.weights_deferred = True
            ctx.report.skipped.add(WEIGHTS)
            return
    scope = "increment" if ctx.scope.mode == "increment" else "scope"
    with cleaned_up(lambda: run_file(ctx.con, part_file("item_weights", "cleanup"))):
        run_file(ctx.con, part_file("item_weights", scope))
        _fill_weights(ctx)
    ctx.report.weights_computed = True


def _fill_weights(ctx: Context) -> None:
    columns = ", ".join(RANKING_SETTINGS)
    query = f"select {columns} from ranking_models order by model"  # noqa: S608
    for row in execute(ctx.con, query).fetchall():
        model = dict(zip(RANKING_SETTINGS, row, strict=True))
        if ctx.scope.ranking is not None and model["model"] not in ctx.scope.ranking:
            continue
        algorithm = str(model["algorithm"])
        logger.info("item_weights: %s (%s)", model["model"], algorithm)
        started = time.perf_counter()
        _fill_model_weights(ctx, algorithm, model)
        # One line per model: an operator sees which method's weights cost the time.
        logger.info(
            "item_weights: %s done in %.2f s", model["model"], time.perf_counter() - started
        )


def _fill_model_weights(ctx: Context, algorithm: str, model: Mapping[str, Any]) -> None:
    """Fill one model's weights: in batches, by epochs, or by one statement, as its
    algorithm's parts say."""
    variant = f"item_weights.{algorithm}"
    if has_part(variant, "batch") and ctx.scope.phase == "compute":
        fill_in_batches(ctx.con, variant, None, count=ctx.scope.spark_batches, params=model)
    elif has_part(variant, "batch"):
        _fill_pairs(ctx, variant, model)
    elif has_part(variant, "epoch"):
        # Each step sums ~100 parts into each of up to millions of integer slots: a
        # perfect hash table (slot ranges up to 2^24) halves its time at 10M ratings.
        # Not for the prepare part, whose joins it slowed down on ml-latest-small.
        fill_by_epochs(
            ctx.con,
            "item_weights",
            int(model["steps"]),
            model,
            variant=algorithm,
            perfect_hash_bits=PERFECT_HASH_BITS,
        )
    else:
        run_file(ctx.con, part_file("item_weights", algorithm), model)


def _fill_pairs(ctx: Context, variant: str, model: Mapping[str, object]) -> None:
    """Fill a model's weights whose batch part is a self-join of the ratings aggregated
    by pairs of movies (rp3beta's walk sums, staged as ``_recsys_walk_entries``): its
    batches cut and aggregated as the pair sums are
    (:func:`recsys_duck.pairs.fill_pair_batches`), in :func:`fill_in_batches`' frame."""
    label = f"{variant}, {model['model']}"

    def fill(values: Mapping[str, object]) -> int:
        return pairs.fill_pair_batches(
            ctx.con,
            variant,
            "_recsys_walk_entries",
            ("movie_idx", "user_idx"),
            "auto",
            ctx.scope.memory_limit,
            label=label,
            params=values,
        )

    ctx.report.batches[label] = fill_in_batches(ctx.con, variant, None, params=model, fill=fill)


def _freshness(ctx: Context) -> None:
    """Mark the deferred tables fresh (build, refresh) or stale by the ratings just added
    (increment), in ``freshness``."""
    tables = _fresh_tables(ctx)
    if ctx.scope.mode == "increment":
        run_file(
            ctx.con,
            step_file("pipeline/mark_stale"),
            {"n_ratings": ctx.report.rows["ratings"], "tables": tables},
        )
    else:
        run_file(ctx.con, step_file("pipeline/mark_fresh"), {"tables": tables})


def _batched(table: str, work: float) -> Callable[[Context], None]:
    def run(ctx: Context) -> None:
        if ctx.scope.phase == "compute":
            # Spark ranks with a partial/final window top-k and spills on its own: one
            # statement, where DuckDB's batches would cost it about 1.5x, unless the
            # build asks for batches (a cluster whose one shuffle would be too large).
            n = fill_in_batches(ctx.con, table, None, count=ctx.scope.spark_batches)
        else:
            n = fill_in_batches(ctx.con, table, work)
        ctx.report.batches[table] = n

    return run


#: The build, in the order it runs. A table that a step fills is declared (created
#: empty) by its layer, which comes before the step.
PLAN: tuple[Step, ...] = (
    _layer("00_tables", ["build"]),
    Step("recsys_params", _write_settings, frozenset(["build"]), ("recsys_params",), driver=True),
    Step(
        "load",
        _load,
        frozenset(["build", "increment"]),
        RAW_TABLES,
        when=lambda scope: scope.mode == "increment" or _loads(scope),
        driver=True,
    ),
    Step("copy", _copy_previous, frozenset(["build"]), RAW_TABLES, when=_copies, driver=True),
    Step(
        "models",
        _keep_models,
        frozenset(["build"]),
        MODEL_TABLES,
        when=_keeps_models,
        driver=True,
    ),
    Step("ratings_check", _require_ratings, frozenset(["build"]), driver=True),
    Step(
        "movie_terms",
        _movie_terms,
        frozenset(["build", "train"]),
        ("movie_terms", "movie_tag_terms"),
        needs="content",
        predictors=False,
        driver=True,
    ),
    _layer("10_staging", ["build", "train"], predictors=False),
    Step(
        "content_profiles",
        _filled("content_profiles"),
        frozenset(["build", "train"]),
        ("content_profiles",),
        "content",
        predictors=False,
    ),
    _layer("20_stats", ["build", "train"]),
    _layer("25_baseline", RECOMPUTED),
    Step("baseline_biases", _baseline, RECOMPUTED, ("baseline_biases",)),
    _layer("30_similarity", ["build", "train"]),
    Step(
        "pair_sums",
        _pair_sums,
        MODES,
        ("item_pair_sums", "user_pair_sums"),
        predictors=False,
        when=_pairs_wanted,
    ),
    _layer("40_neighbors", ["build", "train"], predictors=False),
    Step(
        "item_neighbors",
        _ranked_neighbors("item_neighbors", "select count(*) from _recsys_refresh_movies"),
        MODES,
        ("item_neighbors",),
        "item",
        predictors=False,
    ),
    Step(
        "user_neighbors",
        _ranked_neighbors("user_neighbors", "select count(*) from _recsys_refresh_users"),
        MODES,
        ("user_neighbors",),
        "user",
        predictors=False,
    ),
    Step(
        "content_neighbors",
        _batched("content_neighbors", CONTENT_BATCH_ROWS),
        frozenset(["build", "train"]),
        ("content_neighbors",),
        "content",
        predictors=False,
    ),
    Step(
        "item_weights",
        _item_weights,
        MODES | {"refresh"},
        ("item_weights",),
        "item",
        predictors=False,
    ),
    _layer("50_recommend", ["build", "train"]),
    _layer("60_marts", RECOMPUTED, predictors=False),
    Step(
        "popular_movies",
        _filled("popular_movies"),
        RECOMPUTED,
        ("popular_movies",),
        predictors=False,
    ),
    Step(
        "recommendations",
        _batched("recommendations", MART_BATCH_ROWS),
        RECOMPUTED,
        ("recommendations",),
        predictors=False,
    ),
    Step(
        "freshness",
        _freshness,
        frozenset(["build", "increment", "refresh"]),
        ("freshness",),
        driver=True,
    ),
    _layer("70_evaluation", ["build"]),
    _layer("75_report", ["build"]),
    _layer("80_macros", ["build"], spark=False),
)


def run(con: duckdb.DuckDBPyConnection, scope: Scope) -> RunReport:
    """Run the steps of :data:`PLAN` that ``scope`` selects, in order, on ``con`` (in its
    current schema; the caller owns the transaction). Returns what they did."""
    report = RunReport()
    ctx = Context(con, scope, report)
    for step in PLAN:
        action = step.action(scope)
        if not step.applies(scope) or action == "skip":
            continue
        command = COMMANDS[scope.mode]
        logger.info("%s: %s ...", command, step.name)
        start = time.perf_counter()
        if action == "run":
            step.run(ctx)
        elif step.fills:
            assert scope.handoff is not None
            move = scope.handoff.to_spark if scope.phase == "compute" else scope.handoff.to_duckdb
            move(step.fills)
        if step.name in report.skipped:
            continue
        report.seconds[step.name] = time.perf_counter() - start
        logger.info("%s: %s done in %.2f s", command, step.name, report.seconds[step.name])
    return report


def build(
    con: duckdb.DuckDBPyConnection,
    params: BuildParams,
    *,
    data_dir: Path | None,
    previous: str | None,
    autocommit: bool,
    files: FilesInput | None = None,
    memory_limit: str | None,
    spark: SparkOptions | None = None,
    database: str = ":memory:",
) -> RunReport:
    """Run the ``build`` scope on a writer's connection (:func:`recsys_duck.storage.writer`),
    all or nothing: loading ``data_dir`` or ``files`` of your own, or else copying the raw
    tables of the database file ``previous`` (attached read-only meanwhile) when it has them.
    The model tables of ``previous`` are kept either way (:data:`MODEL_TABLES`).

    With ``spark``, Spark computes and DuckDB serves: DuckDB loads (and checks) the data
    and fits TF-IDF (the ``driver`` pass), Spark runs the layers and fills every computed
    table (``compute``), and DuckDB receives the tables it serves (``serve``); see
    :mod:`recsys_duck.spark`. ``database`` names the file being built (the warehouse
    lies beside it by default)."""
    loads = data_dir is not None or files is not None
    if previous is not None:
        # ATTACH takes no bound parameters; the path is quoted as a string literal.
        # (storage.writer refused a file that is not a DuckDB database.)
        execute(con, f"attach {string_literal(previous)} as previous (read_only)")
    # Databases whose tables are read are attached outside the build's transaction.
    attached = dict(files.attach) if files is not None else {}
    try:
        attach_databases(con, attached)
        scope = Scope(
            "build",
            neighbors=frozenset(params.neighbors),
            autocommit=autocommit,
            memory_limit=memory_limit,
            data_dir=data_dir,
            files=files,
            copy_previous=previous is not None and not loads and _has_raw_tables(con, "previous"),
            keep_models=previous is not None,
            params=params,
        )
        with all_or_nothing(con, autocommit):
            if spark is None:
                return run(con, scope)
            return _build_on_spark(con, scope, spark, database)
    finally:
        if previous is not None:
            execute(con, "detach database if exists previous")
        for name in attached:
            execute(con, f"detach database if exists {quote_identifier(name)}")


def _build_on_spark(
    con: duckdb.DuckDBPyConnection, scope: Scope, options: SparkOptions, database: str
) -> RunReport:
    from recsys_duck.spark import spark_run  # pyspark is an optional extra

    with spark_run(con, options, database) as spark:
        spark_con = spark.start()
        report = run(con, replace(scope, phase="driver", handoff=spark))
        # A SparkConnection stands in for the DuckDB connection: the steps only execute
        # statements and fetch small results (recsys_duck.spark).
        compute = replace(scope, phase="compute", handoff=spark, spark_batches=options.batches)
        computed = run(spark_con, compute)  # type: ignore[arg-type]
        served = run(con, replace(scope, phase="serve", handoff=spark))
        spark.publish()
    report.seconds.update({f"spark:{name}": s for name, s in computed.seconds.items()})
    report.seconds.update({f"serve:{name}": s for name, s in served.seconds.items()})
    report.batches.update(computed.batches)
    report.spark_run = spark.final
    return report


def _has_raw_tables(con: duckdb.DuckDBPyConnection, database: str) -> bool:
    """Whether ``database`` holds every raw table (a never-built file holds none)."""
    (found,) = execute(
        con,
        "select count(*) from duckdb_tables() "
        "where database_name = ? and schema_name = 'main' and list_contains(?, table_name)",
        [database, list(RAW_TABLES)],
    ).fetchone() or (0,)
    return bool(found == len(RAW_TABLES))


def neighbor_scope(
    kind: str, *, autocommit: bool = False, memory_limit: str | None = None
) -> Scope:
    """The part of the ``build`` scope that computes one neighbour table (``kind``: item,
    user or content) again from the loaded data: the similarity views, the pair sums of
    its side, what else it is computed from (:data:`NEIGHBOR_INPUTS`) and its ranking;
    the other neighbour and pair-sum tables are left as they are. The benchmarks time a
    neighbour table this way."""
    table = NEIGHBOR_TABLES[kind]
    inputs = set(NEIGHBOR_INPUTS.get(kind, ()))
    others = {t for k, t in NEIGHBOR_TABLES.items() if k != kind}
    others |= {t for side, t in PAIR_SUMS.items() if side != kind}
    return Scope(
        "build",
        neighbors=frozenset([kind]),
        steps=frozenset({"30_similarity", "pair_sums", "40_neighbors", table} | inputs),
        skip=frozenset(KNN_OBJECTS | others | (CONTENT_OBJECTS if kind != "content" else set())),
        autocommit=autocommit,
        memory_limit=memory_limit,
    )


def layer_names() -> list[str]:
    """The layers of the plan, in order (every layer folder of ``sql/`` is one)."""
    return [step.name for step in PLAN if step.is_layer]


def check() -> list[str]:
    """What is wrong with the plan: a layer folder not in it, a filler step whose table
    no layer declares, or a table with parts but no step. Empty when it is sound."""
    problems = []
    planned = layer_names()
    for layer in layers():
        if layer not in planned:
            problems.append(f"layer {layer} is not in the plan")
    declared = {obj for step in PLAN if step.is_layer for obj in step.objects()}
    for step in PLAN:
        for table in () if step.is_layer else step.fills:
            if table not in declared:
                problems.append(f"step {step.name} fills {table}, which no layer declares")
    return problems
