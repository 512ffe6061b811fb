"""Fetching MovieLens ml-latest-small from GroupLens, verified, into a local folder.

:func:`ensure_movielens` returns at once when the folder already holds ``movies.csv``
and ``ratings.csv``. Otherwise it streams the official zip to a temporary file beside
the folder, checks its SHA-256, unpacks it into a temporary folder beside the target,
checks the SHA-256 of each CSV file, and only then renames the unpacked folder into
place, so a failed or interrupted download never leaves a half-written folder behind.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import BinaryIO

from recsys_duck.errors import DownloadError

logger = logging.getLogger(__name__)

GROUPLENS_URL = "https://files.grouplens.org/datasets/movielens/ml-latest-small.zip"

#: The published SHA-256 of GroupLens' ml-latest-small.zip.
ML_LATEST_SMALL_SHA256 = "696d65a3dfceac7c45750ad32df2c259311949efec81f0f144fdfb91ebc9e436"

#: The SHA-256 of each CSV file inside ml-latest-small.zip, as GroupLens ships them.
ML_LATEST_SMALL_FILES: Mapping[str, str] = MappingProxyType(
    {
        "links.csv": "97ad18e4e56a09363c65676b6cb3482ce3e2cea2372a24620c1599c843325f31",
        "movies.csv": "5a5f32dd9bb3797b8e728a1b98958789d2b13f294a69fdfbc5727f8a9611aa07",
        "ratings.csv": "aa289ca83157595d0df6aea1be6a4ded676ddc4385472e8313a8ed9805352646",
        "tags.csv": "92a9f8bb7916dceef6151209845788c3643f794dfa79d1feaec7121b5960399d",
    }
)

#: The files whose presence means the folder is already there.
REQUIRED_FILES = ("movies.csv", "ratings.csv")

_CHUNK = 1 << 16


def ensure_movielens(
    target: Path,
    *,
    url: str = GROUPLENS_URL,
    sha256: str | None = ML_LATEST_SMALL_SHA256,
    file_sha256: Mapping[str, str] | None = ML_LATEST_SMALL_FILES,
    timeout: float = 60,
) -> Path:
    """Return ``target`` holding MovieLens, downloading and unpacking the zip if needed.

    ``sha256`` is the expected digest of the zip and ``file_sha256`` maps each CSV file
    to its expected digest (``None`` skips a check). ``timeout`` is in seconds, per
    network operation. Raises :class:`DownloadError` when the download fails or a
    checksum differs; ``target`` is then left as it was.
    """
    target = Path(target)
    if all((target / name).is_file() for name in REQUIRED_FILES):
        logger.info("MovieLens is already in %s", target)
        return target
    if target.exists() and not _is_empty_dir(target):
        raise DownloadError(
            f"{target} exists but lacks {' and '.join(REQUIRED_FILES)}; move it away, or put "
            f"{_file_list(file_sha256)} in it by hand"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{target.name}.", dir=target.parent) as tmp:
        zip_path = Path(tmp) / "download.zip"
        digest = _download(url, zip_path, target, timeout, file_sha256)
        if sha256 is not None and digest != sha256.lower():
            raise DownloadError(
                f"the zip from {url} has SHA-256 {digest} but {sha256} was expected: the "
                "download is corrupt or the file changed upstream. Try again, or "
                + _by_hand(url, target, file_sha256)
            )
        unpacked = _unpack(zip_path, Path(tmp) / "unpacked", url, target, file_sha256)
        if file_sha256 is not None:
            _verify_files(unpacked, file_sha256, url, target)
        if target.is_dir():  # an empty folder: renaming onto it is not portable
            target.rmdir()
        try:
            os.replace(unpacked, target)
        except OSError as exc:
            if all((target / name).is_file() for name in REQUIRED_FILES):
                logger.info("MovieLens appeared in %s meanwhile; keeping it", target)
                return target
            raise DownloadError(f"could not move the unpacked files to {target}: {exc}") from exc
    logger.info("MovieLens unpacked into %s", target)
    return target


def _download(
    url: str, dest: Path, target: Path, timeout: float, file_sha256: Mapping[str, str] | None
) -> str:
    """Stream ``url`` into ``dest`` and return the SHA-256 of what was written."""
    logger.info("downloading %s", url)
    start = time.perf_counter()
    digest = hashlib.sha256()
    n_bytes = 0
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, dest.open("wb") as out:
            length = _content_length(response.headers.get("Content-Length"))
            next_report = 0.25
            while chunk := response.read(_CHUNK):
                out.write(chunk)
                digest.update(chunk)
                n_bytes += len(chunk)
                if length and n_bytes / length >= next_report:
                    logger.info("downloaded %d%% of %d bytes", int(100 * n_bytes / length), length)
                    next_report += 0.25
    except urllib.error.HTTPError as exc:
        raise DownloadError(
            f"could not download {url}: HTTP {exc.code} {exc.reason}. "
            + _by_hand(url, target, file_sha256)
        ) from exc
    except urllib.error.URLError as exc:
        raise DownloadError(
            f"could not download {url}: {exc.reason}. " + _by_hand(url, target, file_sha256)
        ) from exc
    except TimeoutError as exc:
        raise DownloadError(
            f"could not download {url}: no answer within {timeout:g} s. "
            + _by_hand(url, target, file_sha256)
        ) from exc
    except OSError as exc:
        raise DownloadError(
            f"could not download {url}: {exc}. " + _by_hand(url, target, file_sha256)
        ) from exc
    if length is not None and n_bytes != length:
        raise DownloadError(
            f"could not download {url}: got {n_bytes} of {length} bytes. "
            + _by_hand(url, target, file_sha256)
        )
    logger.info("downloaded %d bytes in %.1f s", n_bytes, time.perf_counter() - start)
    return digest.hexdigest()


def _content_length(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _unpack(
    zip_path: Path, dest: Path, url: str, target: Path, file_sha256: Mapping[str, str] | None
) -> Path:
    """Extract the zip into ``dest`` and return the folder in it holding the CSV files."""
    try:
        with zipfile.ZipFile(zip_path) as archive:
            for member in archive.namelist():
                resolved = (dest / member).resolve()
                if not resolved.is_relative_to(dest.resolve()):
                    raise DownloadError(f"the zip from {url} has an unsafe path {member!r}")
            archive.extractall(dest)
    except (zipfile.BadZipFile, OSError) as exc:
        raise DownloadError(
            f"could not unpack the zip from {url}: {exc}. " + _by_hand(url, target, file_sha256)
        ) from exc
    # GroupLens' zip holds one top-level folder, ml-latest-small/; accept files at the root too.
    for folder in [dest, *sorted(p for p in dest.iterdir() if p.is_dir())]:
        if all((folder / name).is_file() for name in REQUIRED_FILES):
            return folder
    raise DownloadError(
        f"the zip from {url} holds no folder with {' and '.join(REQUIRED_FILES)}. "
        + _by_hand(url, target, file_sha256)
    )


def _verify_files(folder: Path, file_sha256: Mapping[str, str], url: str, target: Path) -> None:
    for name, expected in sorted(file_sha256.items()):
        path = folder / name
        if not path.is_file():
            raise DownloadError(
                f"the zip from {url} lacks {name}. " + _by_hand(url, target, file_sha256)
            )
        with path.open("rb") as f:
            actual = _sha256(f)
        if actual != expected.lower():
            raise DownloadError(
                f"{name} in the zip from {url} has SHA-256 {actual} but {expected} was "
                "expected. " + _by_hand(url, target, file_sha256)
            )
    logger.info("checked the SHA-256 of %s", ", ".join(sorted(file_sha256)))


def _sha256(f: BinaryIO) -> str:
    digest = hashlib.sha256()
    while chunk := f.read(_CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def _is_empty_dir(path: Path) -> bool:
    return path.is_dir() and not any(path.iterdir())


def _file_list(file_sha256: Mapping[str, str] | None) -> str:
    names = sorted(set(REQUIRED_FILES) | set(file_sha256 or ()))
    return ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0]


def _by_hand(url: str, target: Path, file_sha256: Mapping[str, str] | None) -> str:
    """How to do by hand what the download could not."""
    return (
        f"To install it by hand, download {url}, unzip it and put "
        f"{_file_list(file_sha256)} in {target.resolve()}"
    )
