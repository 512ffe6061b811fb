"""Fetching MovieLens releases from GroupLens, verified, into a local folder.

:func:`ensure_release` returns at once when the folder already holds the release's
required files (``movies.csv`` and ``ratings.csv`` for the CSV releases). Otherwise it
streams the official zip to a temporary file beside the folder, checks its published
checksum, unpacks it into a temporary folder beside the target, checks the SHA-256 of
each file when known, and only then renames the unpacked folder into place, so a failed
or interrupted download never leaves a half-written folder behind.
:func:`ensure_movielens` does the same for ml-latest-small with an overridable URL and
checksums.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import BinaryIO

from recsys_duck.errors import DownloadError

logger = logging.getLogger(__name__)

_BASE_URL = "https://files.grouplens.org/datasets/movielens"

GROUPLENS_URL = f"{_BASE_URL}/ml-latest-small.zip"

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

#: The files whose presence means a CSV release (ml-latest-small, ml-20m on) is there.
REQUIRED_FILES = ("movies.csv", "ratings.csv")

_CHUNK = 1 << 16

#: hashlib's name of each checksum algorithm a release may give.
_HASHLIB_NAMES = {"SHA-256": "sha256", "MD5": "md5"}


@dataclass(frozen=True, kw_only=True)
class Release:
    """One MovieLens release: where its zip is, how to check it and what it unpacks to.

    ``md5`` and ``sha256`` are the zip's published checksums (lowercase hex, ``None``
    when unknown); the SHA-256 is checked when given, else the MD5. ``folder`` is the
    top-level folder inside the zip, ``required`` the files whose presence means the
    release is already unpacked, and ``file_sha256`` optionally maps files in the
    release to their SHA-256.
    """

    name: str
    url: str
    md5: str | None
    sha256: str | None
    folder: str
    required: tuple[str, ...]
    # A MappingProxyType is unhashable, so leave it out of the dataclass hash.
    file_sha256: Mapping[str, str] | None = dataclasses.field(default=None, hash=False)


def _release(
    name: str,
    *,
    md5: str | None,
    sha256: str | None,
    folder: str | None = None,
    required: tuple[str, ...] = REQUIRED_FILES,
    file_sha256: Mapping[str, str] | None = None,
) -> Release:
    """A release served as ``<name>.zip`` from GroupLens, unpacking to ``folder`` (or ``name``)."""
    return Release(
        name=name,
        url=f"{_BASE_URL}/{name}.zip",
        md5=md5,
        sha256=sha256,
        folder=folder or name,
        required=required,
        file_sha256=file_sha256,
    )


# Checksums of the zips, taken from public code, none computed here:
# - MD5, the checksum GroupLens publishes beside each zip (<url>.md5): lenskit/lenskit-codex,
#   movielens/<ML...>/<name>.zip.dvc (DVC's record of the downloaded zip), and for ml-100k to
#   ml-25m also eli-osherovich/papers_with_code, datasets/movielens/dl_config.py.
# - SHA-256: tensorflow/datasets, tensorflow_datasets/url_checksums/movielens.txt (its zip
#   sizes match lenskit-codex's), and ISG-Siegen/OmniRec, src/omnirec/data_loaders/
#   movielens_large.py and movielens_100k.py (the only source found for ml-latest's).
# ml-latest (and, in principle, ml-latest-small) is rebuilt upstream from time to time; a
# rebuilt zip then fails its check with a message saying so.
#: Every MovieLens release by name: the two rolling "latest" ones, then largest to smallest.
RELEASES: Mapping[str, Release] = MappingProxyType(
    {
        release.name: release
        for release in (
            _release(
                "ml-latest-small",
                md5=None,  # no public copy of its .md5 was found; the SHA-256 is verified
                sha256=ML_LATEST_SMALL_SHA256,
                file_sha256=ML_LATEST_SMALL_FILES,
            ),
            _release(
                "ml-latest",
                md5="0f3c4dd7304d471e367f237b314f3d86",
                sha256="66a9e518c747d76b241d9a859b001a2619d3ed1672ceef599eb50daf73a7b4a3",
            ),
            _release(
                "ml-32m",
                md5="d472be332d4daa821edc399621853b57",
                sha256=None,  # newer than tensorflow_datasets' list; no SHA-256 found
            ),
            _release(
                "ml-25m",
                md5="6b51fb2759a8657d3bfcbfc42b592ada",
                sha256="8b21cfb7eb1706b4ec0aac894368d90acf26ebdfb6aced3ebd4ad5bd1eb9c6aa",
            ),
            _release(
                "ml-20m",
                md5="cd245b17a1ae2cc31bb14903e1204af3",
                sha256="96f243c338a8665f6bcc89c53edf6ee39162a846940de6b7c8c48aeada765ff3",
            ),
            _release(
                "ml-10m",
                md5="ce571fd55effeba0271552578f2648bd",
                sha256=None,  # not in tensorflow_datasets' list; no SHA-256 found
                folder="ml-10M100K",
                required=("movies.dat", "ratings.dat"),
            ),
            _release(
                "ml-1m",
                md5="c4d9eecfca2ab87c1945afe126590906",
                sha256="a6898adb50b9ca05aa231689da44c217cb524e7ebd39d264c56e2832f2c54e20",
                required=("movies.dat", "ratings.dat"),
            ),
            _release(
                "ml-100k",
                md5="0e33842e24a9c977be4e0107933c0723",
                sha256="50d2a982c66986937beb9ffb3aa76efe955bf3d5c6b761f4e3a7cd717c6a3229",
                required=("u.data", "u.item", "u.genre"),
            ),
        )
    }
)


def ensure_movielens(
    target: Path,
    *,
    url: str = GROUPLENS_URL,
    sha256: str | None = ML_LATEST_SMALL_SHA256,
    file_sha256: Mapping[str, str] | None = ML_LATEST_SMALL_FILES,
    timeout: float = 60,
) -> Path:
    """Return ``target`` holding ml-latest-small, downloading and unpacking it if needed.

    ``sha256`` is the expected digest of the zip and ``file_sha256`` maps each CSV file
    to its expected digest (``None`` skips a check). ``timeout`` is in seconds, per
    network operation. Raises :class:`DownloadError` when the download fails or a
    checksum differs; ``target`` is then left as it was.
    """
    release = dataclasses.replace(
        RELEASES["ml-latest-small"], url=url, md5=None, sha256=sha256, file_sha256=file_sha256
    )
    return ensure_release(release, target, timeout=timeout)


def ensure_release(release: Release | str, target: Path, *, timeout: float = 60) -> Path:
    """Return ``target`` holding ``release``, downloading and unpacking its zip if needed.

    ``release`` is a :class:`Release` or a name in :data:`RELEASES`. ``timeout`` is in
    seconds, per network operation. Raises :class:`DownloadError` when the name is
    unknown, the download fails or a checksum differs; ``target`` is then left as it was.
    """
    if isinstance(release, str):
        release = _lookup(release)
    target = Path(target)
    if _has_required(target, release):
        logger.info("MovieLens %s is already in %s", release.name, target)
        return target
    if target.exists() and not _is_empty_dir(target):
        raise DownloadError(
            f"{target} exists but lacks {' and '.join(release.required)}; move it away, or "
            f"put {_file_list(release)} in it by hand"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{target.name}.", dir=target.parent) as tmp:
        zip_path = Path(tmp) / "download.zip"
        expected = _expected_digest(release)
        algorithm = expected[0] if expected else "SHA-256"
        digest = _download(release, zip_path, target, timeout, algorithm)
        if expected is None:
            logger.warning("no checksum known for %s; its SHA-256 is %s", release.url, digest)
        elif digest != expected[1]:
            raise DownloadError(
                f"the zip from {release.url} has {algorithm} {digest} but {expected[1]} was "
                "expected: the download is corrupt or the file changed upstream. Try again, "
                "or " + _by_hand(release, target)
            )
        unpacked = _unpack(zip_path, Path(tmp) / "unpacked", release, target)
        if release.file_sha256 is not None:
            _verify_files(unpacked, release, target)
        if target.is_dir():  # an empty folder: renaming onto it is not portable
            target.rmdir()
        try:
            os.replace(unpacked, target)
        except OSError as exc:
            if _has_required(target, release):
                logger.info(
                    "MovieLens %s appeared in %s meanwhile; keeping it", release.name, target
                )
                return target
            raise DownloadError(f"could not move the unpacked files to {target}: {exc}") from exc
    logger.info("MovieLens %s unpacked into %s", release.name, target)
    return target


def _lookup(name: str) -> Release:
    try:
        return RELEASES[name]
    except KeyError:
        raise DownloadError(
            f"unknown MovieLens release {name!r}; known releases: {', '.join(RELEASES)}"
        ) from None


def _expected_digest(release: Release) -> tuple[str, str] | None:
    """(algorithm, lowercase hex digest) to check the zip against: SHA-256, else MD5."""
    if release.sha256 is not None:
        return "SHA-256", release.sha256.lower()
    if release.md5 is not None:
        return "MD5", release.md5.lower()
    return None


def _download(release: Release, dest: Path, target: Path, timeout: float, algorithm: str) -> str:
    """Stream the release's zip into ``dest`` and return the ``algorithm`` digest written."""
    url = release.url
    logger.info("downloading %s", url)
    start = time.perf_counter()
    # MD5 only checks integrity against GroupLens' published value, hence not for security.
    digest = hashlib.new(_HASHLIB_NAMES[algorithm], usedforsecurity=False)
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
            f"could not download {url}: HTTP {exc.code} {exc.reason}. " + _by_hand(release, target)
        ) from exc
    except urllib.error.URLError as exc:
        raise DownloadError(
            f"could not download {url}: {exc.reason}. " + _by_hand(release, target)
        ) from exc
    except TimeoutError as exc:
        raise DownloadError(
            f"could not download {url}: no answer within {timeout:g} s. "
            + _by_hand(release, target)
        ) from exc
    except OSError as exc:
        raise DownloadError(
            f"could not download {url}: {exc}. " + _by_hand(release, target)
        ) from exc
    if length is not None and n_bytes != length:
        raise DownloadError(
            f"could not download {url}: got {n_bytes} of {length} bytes. "
            + _by_hand(release, target)
        )
    logger.info("downloaded %d bytes in %.1f s", n_bytes, time.perf_counter() - start)
    return digest.hexdigest()


def _content_length(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _unpack(zip_path: Path, dest: Path, release: Release, target: Path) -> Path:
    """Extract the zip into ``dest`` and return the folder in it holding the release."""
    url = release.url
    try:
        with zipfile.ZipFile(zip_path) as archive:
            for member in archive.namelist():
                resolved = (dest / member).resolve()
                if not resolved.is_relative_to(dest.resolve()):
                    raise DownloadError(f"the zip from {url} has an unsafe path {member!r}")
            archive.extractall(dest)
    except (zipfile.BadZipFile, OSError) as exc:
        raise DownloadError(
            f"could not unpack the zip from {url}: {exc}. " + _by_hand(release, target)
        ) from exc
    # GroupLens' zips hold one top-level folder (release.folder); accept files at the root
    # or in another single folder too, should a zip be repacked.
    others = sorted(p for p in dest.iterdir() if p.is_dir() and p.name != release.folder)
    for folder in [dest / release.folder, dest, *others]:
        if _has_required(folder, release):
            return folder
    raise DownloadError(
        f"the zip from {url} holds no folder with {' and '.join(release.required)}. "
        + _by_hand(release, target)
    )


def _verify_files(folder: Path, release: Release, target: Path) -> None:
    file_sha256 = release.file_sha256 or {}
    for name, expected in sorted(file_sha256.items()):
        path = folder / name
        if not path.is_file():
            raise DownloadError(
                f"the zip from {release.url} lacks {name}. " + _by_hand(release, target)
            )
        with path.open("rb") as f:
            actual = _sha256(f)
        if actual != expected.lower():
            raise DownloadError(
                f"{name} in the zip from {release.url} has SHA-256 {actual} but {expected} "
                "was expected. " + _by_hand(release, target)
            )
    logger.info("checked the SHA-256 of %s", ", ".join(sorted(file_sha256)))


def _sha256(f: BinaryIO) -> str:
    digest = hashlib.sha256()
    while chunk := f.read(_CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def _has_required(folder: Path, release: Release) -> bool:
    return all((folder / name).is_file() for name in release.required)


def _is_empty_dir(path: Path) -> bool:
    return path.is_dir() and not any(path.iterdir())


def _file_list(release: Release) -> str:
    names = sorted(set(release.required) | set(release.file_sha256 or ()))
    return ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0]


def _by_hand(release: Release, target: Path) -> str:
    """How to do by hand what the download could not."""
    # The MD5 comes first: GroupLens publishes it beside the zip, so it is easy to compare.
    if release.md5 is not None:
        check = f", check that its MD5 is {release.md5} (as in {release.url}.md5)"
    elif release.sha256 is not None:
        check = f", check that its SHA-256 is {release.sha256}"
    else:
        check = ""
    return (
        f"To install it by hand, download {release.url}{check}, unzip it and put "
        f"{_file_list(release)} in {target.resolve()}"
    )
