"""The settings of a build and the names of methods and splits, each written once.

:class:`BuildParams` is the one row of the ``recsys_params`` table: each field maps to
one column (:data:`COLUMNS`), the build writes it by column name and
:func:`read_params` reads it back as a ``BuildParams``. The SQL files read the same
columns as bound parameters (``$neighbors_k``, see :func:`recsys_duck.sql.apply_layers`).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, fields
from typing import Any, Literal, get_args

import duckdb
import pandas as pd

from recsys_duck.errors import InvalidArgumentError
from recsys_duck.sql import execute, settings

#: The neighbour tables a build can compute (``BuildParams.neighbors``).
NeighborKind = Literal["item", "user", "content"]
NEIGHBOR_KINDS: tuple[str, ...] = get_args(NeighborKind)

#: The recommenders of the ``recommendations`` mart, as the API names them, and as the
#: ``recommendations`` and ``eval_*`` tables name them.
Method = Literal["user", "item", "content", "popularity"]
METHOD_NAMES: dict[str, str] = {
    "user": "user_based",
    "item": "item_based",
    "content": "content_based",
    "popularity": "popularity",
}
#: The methods of the recommendations table, by their stored names.
FOUNDATION_METHODS: tuple[str, ...] = tuple(METHOD_NAMES[m] for m in get_args(Method))

#: The evaluation splits: ``sql/70_evaluation/<split>_split.sql``, and ``given``, a split
#: brought as files (``eval_given_ratings``).
Split = Literal["holdout", "validation", "temporal", "leave_last_out", "kfold", "given"]
SPLITS: tuple[str, ...] = get_args(Split)

#: The engines a build computes on: DuckDB itself, or Apache Spark (recsys_duck.spark).
Engine = Literal["duckdb", "spark"]
ENGINES: tuple[str, ...] = get_args(Engine)


@dataclass(frozen=True)
class BuildParams:
    """Settings of a build, stored as the one row of ``recsys_params``.

    ``k`` neighbours are stored per item, user and movie; ``n_similar_users`` and
    ``n_item_neighbors`` are the neighbourhoods of the ``recommendations`` table, whose
    lists are ``n_recommendations`` long. A rating predictor (``knn_models``) ranks a
    user's top ``n_rank_candidates`` movies by item_based's score. The baseline
    predictor is fitted by ``baseline_epochs`` of alternating least squares with
    regularisation ``baseline_reg_items`` / ``baseline_reg_users``. The rating scale
    (``rating_min`` .. ``rating_max`` in steps of ``rating_step``, 0 for any value
    between) is what the loader checks ratings against and what predictions are clipped
    to; a field left None comes from the data (:class:`RatingScale`: the release's
    scale, or the one the ratings show). ``neighbors`` names the neighbour tables to
    compute, of 'item', 'user' and 'content'; the others are left empty (and their
    recommenders unavailable): user-user pairs grow with the square of the users, 2.4
    billion at 10M ratings.
    """

    k: int = 50
    n_similar_users: int = 5
    n_item_neighbors: int = 10
    n_recommendations: int = 20
    n_rank_candidates: int = 100
    content_genre_weight: float = 0.6
    content_tag_weight: float = 0.4
    tag_max_features: int = 50
    relevance_threshold: float = 4.0
    test_fraction: float = 0.2
    seed: int = 42
    n_folds: int = 5
    baseline_epochs: int = 10
    baseline_reg_items: float = 10.0
    baseline_reg_users: float = 15.0
    rating_min: float | None = None
    rating_max: float | None = None
    rating_step: float | None = None
    neighbors: tuple[str, ...] = NEIGHBOR_KINDS

    def check(self) -> None:
        """Raise ``ValueError`` naming the first setting out of range."""
        unknown = sorted(set(self.neighbors) - set(NEIGHBOR_KINDS))
        if unknown:
            raise InvalidArgumentError(
                f"unknown neighbour kind(s) {unknown}; use some of {', '.join(NEIGHBOR_KINDS)}"
            )
        for name in (
            "k",
            "n_similar_users",
            "n_item_neighbors",
            "n_recommendations",
            "n_rank_candidates",
        ):
            if getattr(self, name) < 1:
                raise InvalidArgumentError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.n_similar_users > self.k or self.n_item_neighbors > self.k:
            raise InvalidArgumentError(
                f"n_similar_users ({self.n_similar_users}) and n_item_neighbors "
                f"({self.n_item_neighbors}) cannot exceed the k={self.k} neighbours stored"
            )
        if not 0 < self.test_fraction < 1:
            raise InvalidArgumentError(
                f"test_fraction must be between 0 and 1, got {self.test_fraction}"
            )
        if self.tag_max_features < 1:
            raise InvalidArgumentError(
                f"tag_max_features must be at least 1, got {self.tag_max_features}"
            )
        if self.n_folds < 2:
            raise InvalidArgumentError(f"n_folds must be at least 2, got {self.n_folds}")
        if self.baseline_epochs < 0:
            raise InvalidArgumentError(
                f"baseline_epochs must be at least 0, got {self.baseline_epochs}"
            )
        if self.baseline_reg_items < 0 or self.baseline_reg_users < 0:
            raise InvalidArgumentError("the baseline regularisations cannot be negative")
        if self.rating_min is not None and self.rating_max is not None:
            RatingScale(self.rating_min, self.rating_max, self.rating_step or 0).check()
        if self.rating_step is not None and self.rating_step < 0:
            raise InvalidArgumentError(f"rating_step cannot be negative, got {self.rating_step}")

    def given_scale(self, found: RatingScale) -> RatingScale:
        """The rating scale of a build: the fields given here, the others from ``found``
        (the release's scale or the data's)."""
        scale = RatingScale(
            found.low if self.rating_min is None else self.rating_min,
            found.high if self.rating_max is None else self.rating_max,
            found.step if self.rating_step is None else self.rating_step,
        )
        scale.check()
        return scale

    def row(self) -> dict[str, Any]:
        """The ``recsys_params`` row, column by column."""
        values: dict[str, Any] = {
            COLUMNS.get(f.name, f.name): getattr(self, f.name)
            for f in fields(self)
            if f.name != "neighbors"
        }
        for kind, column in BUILT_COLUMNS.items():
            values[column] = kind in self.neighbors
        # Until the load fills in the scale from the data, MovieLens' stands in.
        for column, value in zip(_SCALE_COLUMNS, _MOVIELENS_SCALE, strict=True):
            if values[column] is None:
                values[column] = value
        return values

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> BuildParams:
        """The settings of a ``recsys_params`` row (see :meth:`row`)."""
        by_field = {
            f.name: row[COLUMNS.get(f.name, f.name)] for f in fields(cls) if f.name != "neighbors"
        }
        neighbors = tuple(kind for kind, column in BUILT_COLUMNS.items() if row[column])
        return cls(**by_field, neighbors=neighbors)


@dataclass(frozen=True)
class RatingScale:
    """The values a rating may take: ``low`` .. ``high`` in steps of ``step`` from
    ``low`` (``step`` 0: any number between). MovieLens' is 0.5 .. 5 in half stars;
    ml-100k's and ml-1m's 1 .. 5 in whole stars."""

    low: float
    high: float
    step: float

    @classmethod
    def parse(cls, text: str) -> RatingScale:
        """A scale written ``LOW:HIGH:STEP`` (``1:5:1``, ``0.5:5:0.5``) or ``LOW:HIGH``
        (any value between)."""
        parts = text.split(":")
        try:
            numbers = [float(part) for part in parts]
        except ValueError:
            numbers = []
        if len(numbers) not in (2, 3):
            raise InvalidArgumentError(
                f"rating scale {text!r} is not LOW:HIGH:STEP; give e.g. 1:5:1 or 0.5:5:0.5 "
                "(or LOW:HIGH for any value between)"
            )
        scale = cls(numbers[0], numbers[1], numbers[2] if len(numbers) == 3 else 0.0)
        scale.check()
        return scale

    def check(self) -> None:
        """Raise unless low < high and the step, if any, fits between them."""
        if not self.low < self.high:
            raise InvalidArgumentError(
                f"the rating scale's low end ({self.low:g}) must be below its high end "
                f"({self.high:g})"
            )
        if self.step < 0 or self.step > self.high - self.low:
            raise InvalidArgumentError(
                f"the rating scale's step ({self.step:g}) must be between 0 (any value) and "
                f"{self.high - self.low:g}"
            )

    def show(self, value: float) -> str:
        """A value as messages write it: 1..5 on a whole scale, 0.5..5.0 on a finer one."""
        if all(float(v).is_integer() for v in (self.low, self.high, self.step)):
            return f"{value:g}"
        return f"{value:.1f}" if round(value, 1) == value else f"{value:g}"

    def __str__(self) -> str:
        ends = f"{self.show(self.low)}..{self.show(self.high)}"
        return ends if self.step == 0 else f"{ends} in steps of {self.show(self.step)}"

    def flag(self) -> str:
        """The scale as ``--rating-scale`` takes it."""
        return f"{self.low:g}:{self.high:g}" + (f":{self.step:g}" if self.step else "")


#: MovieLens' own scale, of the CSV releases and ml-10m.
MOVIELENS_SCALE = RatingScale(0.5, 5.0, 0.5)
_MOVIELENS_SCALE = (MOVIELENS_SCALE.low, MOVIELENS_SCALE.high, MOVIELENS_SCALE.step)
_SCALE_COLUMNS = ("rating_min", "rating_max", "rating_step")


#: The fields whose column in ``recsys_params`` has another name; every other field is
#: its own column, and ``neighbors`` is one boolean column per kind (:data:`BUILT_COLUMNS`).
COLUMNS = {"k": "neighbors_k"}
BUILT_COLUMNS = {
    "item": "build_item_neighbors",
    "user": "build_user_neighbors",
    "content": "build_content_neighbors",
}


def write_params(con: duckdb.DuckDBPyConnection, params: BuildParams) -> None:
    """Replace the row of ``recsys_params`` by ``params``, column by name."""
    frame = pd.DataFrame([params.row()])
    execute(con, "delete from recsys_params")
    con.register("_recsys_params_row", frame)
    try:
        execute(con, "insert into recsys_params by name select * from _recsys_params_row")
    finally:
        con.unregister("_recsys_params_row")


def read_params(con: duckdb.DuckDBPyConnection) -> BuildParams:
    """The settings stored in ``recsys_params`` (of the connection's current schema)."""
    return BuildParams.from_row(settings(con))


# -- argument checks shared by the command line and the Python API ---------------------


def at_least(name: str, value: int, least: int = 1) -> int:
    """``value``, unless it is below ``least``: then an error naming ``name``."""
    if value < least:
        raise InvalidArgumentError(f"{name} must be at least {least}, got {value}")
    return value


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b|bytes)\s*$", re.IGNORECASE)
_UNIT_BYTES = {"b": 1, "bytes": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12}
_UNIT_BYTES.update({"kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40})


def memory_limit(text: str) -> str:
    """``text`` if it is a DuckDB memory size (``8GB``, ``512MiB``) above zero and within
    this machine's memory; else an error that says what to give instead. DuckDB itself
    accepts a negative size and any size, and then fails later or not at all."""
    match = _SIZE.match(text)
    unit = match.group(2).lower() if match else ""
    if match is None or unit not in _UNIT_BYTES:
        raise InvalidArgumentError(
            f"memory limit {text!r} is not a size; give e.g. 8GB, 512MB or 4GiB"
        )
    size = float(match.group(1)) * _UNIT_BYTES[unit]
    if size <= 0:
        raise InvalidArgumentError(f"memory limit {text!r} must be above zero")
    physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    if size > physical:
        raise InvalidArgumentError(
            f"memory limit {text!r} is more than this machine's {physical / 2**30:.1f} GiB "
            "of memory; give at most that (DuckDB spills to disk past its limit)"
        )
    return text
