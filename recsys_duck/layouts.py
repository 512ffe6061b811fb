"""How the data files are laid out: the MovieLens releases' folders, and files of your own.

A MovieLens folder is recognised by the files in it (:func:`detect`):

* ``movies.csv`` + ``ratings.csv`` (and optional ``tags.csv``, ``links.csv``):
  ml-latest-small, ml-latest, ml-32m, ml-25m and ml-20m; comma-separated UTF-8 with a
  header line, ratings on half stars 0.5 .. 5;
* ``movies.dat`` + ``ratings.dat`` (+ ``tags.dat``): ml-10m, ``::``-separated UTF-8
  without a header, half stars;
* ``movies.dat`` + ``ratings.dat`` + ``users.dat``: ml-1m, ``::``-separated Latin-1,
  whole stars 1 .. 5;
* ``u.data`` + ``u.item`` + ``u.genre``: ml-100k, tab-separated ratings, pipe-separated
  Latin-1 movies whose genres are 19 flags named by ``u.genre``, whole stars 1 .. 5.

Each file is described by a :class:`TableFile`: the table it fills, how its text is
written (:class:`TextFormat`) and which of its fields are MovieLens' columns (``userId``,
``movieId``, ``rating``, ``timestamp``, ``title``, ``genres``, ``tag``, ...), the names
the loader's SQL steps read. :func:`ratings_file` and :func:`items_file` describe files
of your own: CSV with a header, Parquet, or MovieLens' ``.dat``/``u.data`` forms, with
your column names mapped onto MovieLens' (``--columns user=...,item=...``).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType

from recsys_duck.errors import DataError, InvalidArgumentError
from recsys_duck.params import MOVIELENS_SCALE, RatingScale

GROUPLENS_PAGE = "https://grouplens.org/datasets/movielens/"


@dataclass(frozen=True)
class TextFormat:
    """How a text file is written: its field separator, whether line 1 names the
    columns, whether double quotes enclose values, and its encoding."""

    delim: str = ","
    header: bool = True
    quoted: bool = True
    encoding: str = "utf-8"

    def describe(self) -> str:
        """The format in words, for messages: "comma-separated UTF-8 text with a header"."""
        names = {",": "comma", "::": "'::'", "\t": "tab", "|": "'|'"}
        encoding = {"utf-8": "UTF-8", "latin-1": "Latin-1"}[self.encoding]
        header = "with a header line" if self.header else "without a header line"
        return f"{names.get(self.delim, repr(self.delim))}-separated {encoding} text {header}"


CSV = TextFormat()
DAT = TextFormat(delim="::", header=False, quoted=False)
DAT_LATIN1 = replace(DAT, encoding="latin-1")
U_DATA = TextFormat(delim="\t", header=False, quoted=False)
U_ITEM = TextFormat(delim="|", header=False, quoted=False, encoding="latin-1")

#: ml-100k's u.item: id, title, two dates, an IMDb URL, then one 0/1 flag per genre of
#: u.genre (19 of them, in its order).
U_ITEM_FIELDS = (
    "movieId",
    "title",
    "_release_date",
    "_video_release_date",
    "_imdb_url",
    *(f"genre_{i}" for i in range(19)),
)


@dataclass(frozen=True)
class TableFile:
    """One file of the input: the table it fills and how to read it.

    ``columns`` are the MovieLens columns the loader needs from it; a file with a header
    must name them (or, with ``renamed``, the names mapped to them; ``optional`` ones
    may be absent), a file without one lists every field in order in ``fields``.
    ``example`` is a valid row, for messages; ``movies_from`` says where the movies its
    rows refer to are listed.
    """

    table: str
    name: str
    columns: tuple[str, ...]
    required: bool
    example: str
    movies_from: str = "movies.csv"
    format: TextFormat = CSV
    fields: tuple[str, ...] = ()
    renamed: Mapping[str, str] = field(default_factory=dict)
    optional: tuple[str, ...] = ()

    def source_name(self, column: str) -> str:
        """What the file calls MovieLens column ``column``."""
        return self.renamed.get(column, column)

    def label(self, column: str) -> str:
        """A column as messages name it: the file's own name, or for a file without a
        header the field's position ("rating (field 3)"); "userId,movieId" for a pair."""
        if "," in column:
            return ",".join(self.label(part) for part in column.split(","))
        if not self.format.header and column in self.fields:
            return f"{column} (field {self.fields.index(column) + 1})"
        return self.source_name(column)


@dataclass(frozen=True)
class Layout:
    """A MovieLens release's folder: its files (movies, ratings, tags, links, in the
    order they are loaded; absent ones leave their table empty), its rating scale and,
    for ml-100k, the file naming the genre flags of its movies."""

    name: str
    releases: str
    files: tuple[TableFile, ...]
    scale: RatingScale
    genre_names: str | None = None

    def file(self, table: str) -> TableFile | None:
        """The file filling ``table``, or None when this layout has none."""
        return next((f for f in self.files if f.table == table), None)


_MOVIES = TableFile(
    "movies",
    "movies.csv",
    ("movieId", "title", "genres"),
    True,
    "1,Toy Story (1995),Adventure|Animation|Children|Comedy|Fantasy",
)
_RATINGS = TableFile(
    "ratings",
    "ratings.csv",
    ("userId", "movieId", "rating", "timestamp"),
    True,
    "1,1,4.0,964982703",
)
_TAGS = TableFile(
    "tags", "tags.csv", ("userId", "movieId", "tag", "timestamp"), False, "2,60756,funny,1445714994"
)
_LINKS = TableFile("links", "links.csv", ("movieId", "imdbId", "tmdbId"), False, "1,0114709,862")


def _dat(spec: TableFile, name: str, fmt: TextFormat, example: str) -> TableFile:
    return replace(
        spec, name=name, format=fmt, fields=spec.columns, example=example, movies_from="movies.dat"
    )


def _dat_layout(name: str, releases: str, fmt: TextFormat, scale: RatingScale) -> Layout:
    movies = _dat(_MOVIES, "movies.dat", fmt, "1::Toy Story (1995)::Animation|Children's|Comedy")
    files = [
        movies,
        _dat(_RATINGS, "ratings.dat", fmt, "1::1193::5::978300760"),
    ]
    if fmt is DAT:
        files.append(_dat(_TAGS, "tags.dat", fmt, "15::4973::excellent!::1215184630"))
    return Layout(name, releases, tuple(files), scale)


WHOLE_STARS = RatingScale(1.0, 5.0, 1.0)

LAYOUTS: Mapping[str, Layout] = MappingProxyType(
    {
        "csv": Layout(
            "MovieLens CSV",
            "ml-latest-small, ml-latest, ml-32m, ml-25m, ml-20m",
            (_MOVIES, _RATINGS, _TAGS, _LINKS),
            MOVIELENS_SCALE,
        ),
        "ml-10m": _dat_layout("MovieLens 10M", "ml-10m", DAT, MOVIELENS_SCALE),
        "ml-1m": _dat_layout("MovieLens 1M", "ml-1m", DAT_LATIN1, WHOLE_STARS),
        "ml-100k": Layout(
            "MovieLens 100K",
            "ml-100k",
            (
                replace(
                    _MOVIES,
                    name="u.item",
                    format=U_ITEM,
                    fields=U_ITEM_FIELDS,
                    example="1|Toy Story (1995)|01-Jan-1995||http://us.imdb.com/M/title-exact?"
                    "Toy%20Story%20(1995)|0|0|0|1|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0",
                ),
                replace(
                    _RATINGS,
                    name="u.data",
                    format=U_DATA,
                    fields=_RATINGS.columns,
                    example="196\t242\t3\t881250949",
                    movies_from="u.item",
                ),
            ),
            WHOLE_STARS,
            genre_names="u.genre",
        ),
    }
)


def detect(folder: Path) -> Layout:
    """The layout of a MovieLens folder, by the files in it; a :class:`DataError` that
    lists what each release holds when none fits."""
    present = {p.name for p in folder.iterdir()} if folder.is_dir() else set()
    # A layout is known by either of its two files, so that the other's absence is
    # reported as such.
    if present & {"movies.csv", "ratings.csv"}:
        return LAYOUTS["csv"]
    if present & {"movies.dat", "ratings.dat"}:
        return LAYOUTS["ml-1m" if "users.dat" in present else "ml-10m"]
    if present & {"u.data", "u.item"}:
        return LAYOUTS["ml-100k"]
    raise DataError(
        "this folder holds no MovieLens release: expected movies.csv and ratings.csv "
        "(ml-latest-small, ml-latest, ml-20m, ml-25m, ml-32m), movies.dat and ratings.dat "
        "(ml-10m, ml-1m) or u.data and u.item (ml-100k); download one from "
        f"{GROUPLENS_PAGE} (or with --download NAME) and pass the folder holding its files",
        path=str(folder),
    )


# -- files of your own -------------------------------------------------------------------

#: What ``--columns`` may map, and the MovieLens column each key stands for.
COLUMN_KEYS: Mapping[str, str] = MappingProxyType(
    {
        "user": "userId",
        "item": "movieId",
        "rating": "rating",
        "time": "timestamp",
        "title": "title",
        "genres": "genres",
    }
)


def parse_columns(text: str | None) -> dict[str, str]:
    """``user=uid,item=sku,...`` as a map from MovieLens column to the file's column."""
    if not text:
        return {}
    mapping: dict[str, str] = {}
    for part in text.split(","):
        key, sep, name = part.partition("=")
        key, name = key.strip(), name.strip()
        if not sep or key not in COLUMN_KEYS or not name:
            raise InvalidArgumentError(
                f"--columns entry {part.strip()!r} is not KEY=COLUMN with KEY one of "
                f"{', '.join(COLUMN_KEYS)}; e.g. --columns user=customer_id,item=sku,rating=stars"
            )
        if COLUMN_KEYS[key] in mapping:
            raise InvalidArgumentError(f"--columns names {key} twice")
        mapping[COLUMN_KEYS[key]] = name
    return mapping


def file_kind(path: str, databases: Collection[str] = ()) -> str:
    """How a ratings or items source is read, by its name: ``table`` (``DB.TABLE`` or
    ``DB.SCHEMA.TABLE`` of one of the attached ``databases``), ``parquet``
    (``.parquet``, or a folder or glob of them), ``csv`` (``.csv``, with a header),
    ``dat`` (``::``-separated, MovieLens 1M/10M) or ``u.data`` (tab-separated, MovieLens
    100K: ``u.data``, ``u1.base``, ``ua.test``, ...)."""
    if table_name(path, databases) is not None:
        return "table"
    lowered = path.lower().rstrip("/")
    if lowered.endswith(".parquet") or "://" in path or Path(path).is_dir():
        return "parquet"
    suffix = Path(lowered).suffix
    if suffix in (".csv", ".txt"):
        return "csv"
    if suffix == ".dat":
        return "dat"
    if suffix in (".data", ".base", ".test", ".tsv"):
        return "u.data"
    raise InvalidArgumentError(
        f"cannot tell the format of {path}: name it .csv (with a header line), .parquet, "
        ".dat (userId::movieId::rating::timestamp) or .data/.base/.test (tab-separated, as "
        "MovieLens 100K's u.data)"
    )


def table_name(path: str, databases: Collection[str]) -> tuple[str, ...] | None:
    """The parts of ``DB.TABLE`` / ``DB.SCHEMA.TABLE`` when DB is an attached database's
    name (``--attach DB=URL``), else None."""
    parts = tuple(path.split("."))
    if 2 <= len(parts) <= 3 and parts[0] in databases and "/" not in path:
        return parts
    return None


def ratings_file(
    path: str, renamed: Mapping[str, str], databases: Collection[str] = ()
) -> TableFile:
    """The ratings source ``path`` of your own (see :func:`file_kind`): CSV, Parquet or a
    table of an attached database with the columns named by ``renamed`` (MovieLens'
    names otherwise; the time may be absent), or a MovieLens ``.dat`` / ``u.data`` file."""
    kind = file_kind(path, databases)
    name = Path(path).name
    if kind == "dat":
        return replace(_dat(_RATINGS, name, DAT, "1::1193::5::978300760"), movies_from="the items")
    if kind == "u.data":
        return replace(
            _RATINGS,
            name=name,
            format=U_DATA,
            fields=_RATINGS.columns,
            example="196\t242\t3\t881250949",
            movies_from="the items",
        )
    own = {c: n for c, n in renamed.items() if c in _RATINGS.columns}
    example = ",".join(own.get(c, c) for c in _RATINGS.columns) + " then e.g. 1,42,4,1700000000"
    return replace(
        _RATINGS,
        name=name,
        renamed=own,
        optional=("timestamp",),
        example=example,
        movies_from="the items",
    )


def items_file(path: str, renamed: Mapping[str, str], databases: Collection[str] = ()) -> TableFile:
    """The items source ``path`` of your own: CSV, Parquet or a table of an attached
    database with an item id column and optionally a title and genres (``|``-separated)
    column, named by ``renamed``."""
    file_kind(path, databases)
    own = {c: n for c, n in renamed.items() if c in _MOVIES.columns}
    return replace(
        _MOVIES,
        name=Path(path).name,
        renamed=own,
        optional=("title", "genres"),
        example=f"{own.get('movieId', 'movieId')} then e.g. 42 (title and genres optional)",
    )


_BRACES = re.compile(r"\{([^{}]*)\}")


def expand_braces(pattern: str) -> list[str]:
    """A path pattern with shell-style braces expanded, in order: ``u{1..5}.base`` gives
    u1.base .. u5.base, ``u{a,b}.test`` ua.test and ub.test (for ml-100k's folds, in a
    quoted argument the shell leaves alone)."""
    match = _BRACES.search(pattern)
    if match is None:
        return [pattern]
    inside = match.group(1)
    numbers = re.fullmatch(r"(-?\d+)\.\.(-?\d+)", inside)
    if numbers:
        first, last = int(numbers.group(1)), int(numbers.group(2))
        step = 1 if last >= first else -1
        choices = [str(n) for n in range(first, last + step, step)]
    elif "," in inside:
        choices = inside.split(",")
    else:
        choices = ["{" + inside + "}"]  # not a pattern: kept as written
    head, tail = pattern[: match.start()], pattern[match.end() :]
    if choices == ["{" + inside + "}"]:
        return [head + choices[0] + rest for rest in expand_braces(tail)]
    return [path for choice in choices for path in expand_braces(head + choice + tail)]
