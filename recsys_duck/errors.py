"""The exceptions recsys-duck raises. Each message says what was wrong and how to fix it."""

from __future__ import annotations


class RecsysError(Exception):
    """Base class of every error recsys-duck raises on purpose."""


class InvalidArgumentError(RecsysError, ValueError):
    """An argument or setting is out of range or unknown (also a ``ValueError``)."""


class DataError(RecsysError):
    """An input file is missing, unreadable or breaks a rule of the MovieLens format.

    ``path``, ``line`` (or, in a Parquet file, ``row``) and ``column`` locate the first
    offending value when known (``line`` counts from 1 and includes the header line;
    ``row`` counts a Parquet file's rows from 1).
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.path = path
        self.line = line
        self.row = row
        self.column = column
        where = ""
        if path is not None:
            where = path
            if line is not None:
                where += f", line {line}"
            if row is not None:
                where += f", row {row}"
            if column is not None:
                where += f", column {column}"
            where += ": "
        super().__init__(where + message)


class DownloadError(RecsysError):
    """MovieLens could not be downloaded or failed its checksum."""


class NotFoundError(RecsysError):
    """A user, movie or title asked for does not exist in the database."""


class NotBuiltError(RecsysError):
    """The database has no data or has not been built yet."""
