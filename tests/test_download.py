"""ensure_release and ensure_movielens, offline: a local HTTP server on 127.0.0.1 serves a
small fake zip of every release's layout, built here."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import http.server
import logging
import re
import socket
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from recsys_duck.download import (
    ML_LATEST_SMALL_FILES,
    RELEASES,
    Release,
    ensure_movielens,
    ensure_release,
)
from recsys_duck.errors import DownloadError
from tests.conftest import require_ml_small

TINY_FILES = {
    "movies.csv": b"movieId,title,genres\r\n1,Toy Story (1995),Animation\r\n",
    "ratings.csv": b"userId,movieId,rating,timestamp\r\n1,1,4.0,964982703\r\n",
    "tags.csv": b"userId,movieId,tag,timestamp\r\n1,1,funny,1445714994\r\n",
    "links.csv": b"movieId,imdbId,tmdbId\r\n1,0114709,862\r\n",
}
TINY_SHA256 = {name: hashlib.sha256(data).hexdigest() for name, data in TINY_FILES.items()}

#: One tiny line of each file a release may require, in that file's format.
SAMPLE_FILES = {
    **TINY_FILES,
    "movies.dat": b"1::Toy Story (1995)::Animation\n",
    "ratings.dat": b"1::1::5::978300760\n",
    "u.data": b"1\t1\t5\t874965758\n",
    "u.item": b"1|Toy Story (1995)|01-Jan-1995||http://x|0|0|0|1|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0\n",
    "u.genre": b"unknown|0\nAction|1\nAdventure|2\n",
}

#: The checksums no public source gave (see the comments in RELEASES).
MISSING_CHECKSUMS = {("ml-latest-small", "md5"), ("ml-32m", "sha256"), ("ml-10m", "sha256")}


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@dataclasses.dataclass(frozen=True)
class Served:
    """What the local server offers."""

    base: str  # its base URL
    digest: str  # the SHA-256 of its ml-latest-small.zip
    releases: dict[str, Release]  # each release pointed at its fake zip, with its checksums


def _fake_files(release: Release) -> dict[str, bytes]:
    """The files of a fake zip of ``release``: the required ones and those with a SHA-256."""
    names = set(release.required) | set(release.file_sha256 or ())
    return {name: SAMPLE_FILES[name] for name in sorted(names)}


def _zip_name(release: Release) -> str:
    return release.url.rsplit("/", 1)[-1]


def _write_zip(path: Path, files: dict[str, bytes], folder: str) -> bytes:
    """Write ``files`` into the zip ``path`` under ``folder`` (the root when empty)."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(f"{folder}/{name}" if folder else name, data)
    return path.read_bytes()


def _fake_release(release: Release, base: str, root: Path) -> Release:
    """``release`` as a fake zip in ``root``: same layout, local URL, the fake's checksums."""
    files = _fake_files(release)
    data = _write_zip(root / _zip_name(release), files, release.folder)
    return dataclasses.replace(
        release,
        url=f"{base}/{_zip_name(release)}",
        md5=hashlib.md5(data).hexdigest() if release.md5 else None,
        sha256=hashlib.sha256(data).hexdigest() if release.sha256 else None,
        file_sha256=(
            {name: hashlib.sha256(files[name]).hexdigest() for name in release.file_sha256}
            if release.file_sha256 is not None
            else None
        ),
    )


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """A server on 127.0.0.1 with a fake zip of each release in RELEASES, stopped after."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        releases = {name: _fake_release(r, base, root) for name, r in RELEASES.items()}
        digest = hashlib.sha256((root / "ml-latest-small.zip").read_bytes()).hexdigest()
        yield Served(base, digest, releases)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_downloads_checks_and_unpacks(served: Served, tmp_path: Path) -> None:
    base, digest = served.base, served.digest
    target = tmp_path / "data" / "ml-latest-small"
    got = ensure_movielens(
        target, url=f"{base}/ml-latest-small.zip", sha256=digest, file_sha256=TINY_SHA256
    )
    assert got == target
    assert {p.name: p.read_bytes() for p in target.iterdir()} == TINY_FILES
    assert _leftovers(target.parent) == ["ml-latest-small"]  # no temporary files left


def test_present_target_skips_the_network(tmp_path: Path) -> None:
    target = tmp_path / "ml-latest-small"
    target.mkdir()
    for name in ("movies.csv", "ratings.csv"):
        (target / name).write_bytes(TINY_FILES[name])
    url = f"http://127.0.0.1:{_closed_port()}/ml-latest-small.zip"  # would fail if used
    assert ensure_movielens(target, url=url) == target


def test_zip_checksum_mismatch_leaves_no_target(served: Served, tmp_path: Path) -> None:
    base, digest = served.base, served.digest
    target = tmp_path / "data" / "ml-latest-small"
    wrong = "0" * 64
    with pytest.raises(DownloadError) as info:
        ensure_movielens(target, url=f"{base}/ml-latest-small.zip", sha256=wrong, file_sha256=None)
    assert wrong in str(info.value) and digest in str(info.value)
    assert not target.exists()
    assert _leftovers(target.parent) == []


def test_file_checksum_mismatch_leaves_no_target(served: Served, tmp_path: Path) -> None:
    base, digest = served.base, served.digest
    target = tmp_path / "ml-latest-small"
    with pytest.raises(DownloadError, match=r"ratings\.csv .*SHA-256"):
        ensure_movielens(
            target,
            url=f"{base}/ml-latest-small.zip",
            sha256=digest,
            file_sha256={**TINY_SHA256, "ratings.csv": "f" * 64},
        )
    assert not target.exists()
    assert _leftovers(tmp_path) == ["www"]


def test_http_404_names_the_target(served: Served, tmp_path: Path) -> None:
    base = served.base
    target = tmp_path / "ml-latest-small"
    url = f"{base}/no-such.zip"
    with pytest.raises(DownloadError) as info:
        ensure_movielens(target, url=url)
    message = str(info.value)
    assert "404" in message and url in message
    assert str(target.resolve()) in message and "movies.csv" in message
    assert not target.exists()


def test_connection_refused_names_the_target(tmp_path: Path) -> None:
    target = tmp_path / "ml-latest-small"
    url = f"http://127.0.0.1:{_closed_port()}/ml-latest-small.zip"
    with pytest.raises(DownloadError) as info:
        ensure_movielens(target, url=url, timeout=5)
    message = str(info.value)
    assert url in message and str(target.resolve()) in message
    assert "ratings.csv" in message
    assert not target.exists()
    assert _leftovers(tmp_path) == []


def test_silent_server_times_out(tmp_path: Path) -> None:
    """A server that accepts the connection but never answers must not hang the caller."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/ml-latest-small.zip"
        with pytest.raises(DownloadError, match="could not download"):
            ensure_movielens(tmp_path / "ml-latest-small", url=url, timeout=0.3)
    assert _leftovers(tmp_path) == []


def test_file_url(served: Served, tmp_path: Path) -> None:
    digest = served.digest
    zip_path = tmp_path / "www" / "ml-latest-small.zip"
    target = tmp_path / "ml-latest-small"
    ensure_movielens(target, url=zip_path.as_uri(), sha256=digest, file_sha256=TINY_SHA256)
    assert (target / "ratings.csv").read_bytes() == TINY_FILES["ratings.csv"]


def test_missing_file_url_raises(tmp_path: Path) -> None:
    target = tmp_path / "ml-latest-small"
    with pytest.raises(DownloadError, match="could not download"):
        ensure_movielens(target, url=(tmp_path / "absent.zip").as_uri())
    assert not target.exists()


def test_empty_target_folder_is_filled(served: Served, tmp_path: Path) -> None:
    base, digest = served.base, served.digest
    target = tmp_path / "ml-latest-small"
    target.mkdir()
    ensure_movielens(
        target, url=f"{base}/ml-latest-small.zip", sha256=digest, file_sha256=TINY_SHA256
    )
    assert (target / "movies.csv").is_file()


def test_incomplete_target_folder_is_not_overwritten(tmp_path: Path) -> None:
    target = tmp_path / "ml-latest-small"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    with pytest.raises(DownloadError, match="lacks movies.csv and ratings.csv"):
        ensure_movielens(target, url=f"http://127.0.0.1:{_closed_port()}/x.zip")
    assert _leftovers(target) == ["notes.txt"]


def test_file_checksums_match_the_real_files() -> None:
    """Guards the constants: each CSV's SHA-256 as GroupLens ships ml-latest-small."""
    folder = require_ml_small()
    actual = {
        name: hashlib.sha256((folder / name).read_bytes()).hexdigest()
        for name in ML_LATEST_SMALL_FILES
    }
    assert actual == dict(ML_LATEST_SMALL_FILES)


# ---- every release, by name or as a Release ----

NAMES = list(RELEASES)

#: The layout of each release's zip: (top-level folder, required files).
LAYOUTS = {
    "ml-latest-small": ("ml-latest-small", ("movies.csv", "ratings.csv")),
    "ml-latest": ("ml-latest", ("movies.csv", "ratings.csv")),
    "ml-32m": ("ml-32m", ("movies.csv", "ratings.csv")),
    "ml-25m": ("ml-25m", ("movies.csv", "ratings.csv")),
    "ml-20m": ("ml-20m", ("movies.csv", "ratings.csv")),
    "ml-10m": ("ml-10M100K", ("movies.dat", "ratings.dat")),
    "ml-1m": ("ml-1m", ("movies.dat", "ratings.dat")),
    "ml-100k": ("ml-100k", ("u.data", "u.item", "u.genre")),
}


def test_releases_are_named_in_order_and_read_only() -> None:
    assert NAMES == list(LAYOUTS)
    with pytest.raises(TypeError):
        RELEASES["ml-2m"] = RELEASES["ml-1m"]  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        RELEASES["ml-1m"].url = "http://example.org/ml-1m.zip"  # type: ignore[misc]


@pytest.mark.parametrize("name", NAMES)
def test_release_url_and_layout(name: str) -> None:
    release = RELEASES[name]
    assert release.name == name
    assert release.url == f"https://files.grouplens.org/datasets/movielens/{name}.zip"
    assert (release.folder, release.required) == LAYOUTS[name]


@pytest.mark.parametrize("name", NAMES)
def test_release_checksums_have_the_right_form(name: str) -> None:
    """Each checksum is lowercase hex of its length; only the documented ones are missing."""
    release = RELEASES[name]
    assert release.md5 is not None or release.sha256 is not None
    for field, length in (("md5", 32), ("sha256", 64)):
        value = getattr(release, field)
        if value is None:
            assert (name, field) in MISSING_CHECKSUMS
        else:
            assert (name, field) not in MISSING_CHECKSUMS
            assert re.fullmatch(f"[0-9a-f]{{{length}}}", value), (name, field, value)


@pytest.mark.parametrize("name", NAMES)
def test_release_downloads_checks_and_unpacks(name: str, served: Served, tmp_path: Path) -> None:
    target = tmp_path / "data" / name
    assert ensure_release(served.releases[name], target, timeout=5) == target
    assert {p.name: p.read_bytes() for p in target.iterdir()} == _fake_files(RELEASES[name])
    assert _leftovers(target.parent) == [name]  # no temporary files left


@pytest.mark.parametrize("name", NAMES)
def test_release_checksum_mismatch_leaves_nothing(
    name: str, served: Served, tmp_path: Path
) -> None:
    release = served.releases[name]
    if release.sha256 is not None:  # the SHA-256 is the one checked when given
        label, actual, wrong = "SHA-256", release.sha256, "0" * 64
        bad = dataclasses.replace(release, sha256=wrong)
    else:
        assert release.md5 is not None
        label, actual, wrong = "MD5", release.md5, "0" * 32
        bad = dataclasses.replace(release, md5=wrong)
    target = tmp_path / "data" / name
    with pytest.raises(DownloadError) as info:
        ensure_release(bad, target, timeout=5)
    message = str(info.value)
    assert f"has {label} {actual} but {wrong} was expected" in message
    assert release.url in message and str(target.resolve()) in message
    assert _leftovers(target.parent) == []


@pytest.mark.parametrize("name", NAMES)
def test_present_release_skips_the_network(name: str, tmp_path: Path) -> None:
    release = RELEASES[name]
    target = tmp_path / name
    target.mkdir()
    for file in release.required:
        (target / file).write_bytes(SAMPLE_FILES[file])
    url = f"http://127.0.0.1:{_closed_port()}/{name}.zip"  # would fail if used
    assert ensure_release(dataclasses.replace(release, url=url), target) == target
    assert ensure_release(name, target) == target  # by name: present, so no download either


def test_unknown_release_name_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(DownloadError) as info:
        ensure_release("ml-2m", tmp_path / "data" / "ml-2m")
    message = str(info.value)
    assert "'ml-2m'" in message and all(name in message for name in NAMES)
    assert _leftovers(tmp_path) == []


def test_sha256_is_checked_in_preference_to_md5(served: Served, tmp_path: Path) -> None:
    release = served.releases["ml-1m"]
    assert release.sha256 is not None and release.md5 is not None
    target = tmp_path / "ml-1m"
    ensure_release(dataclasses.replace(release, md5="0" * 32), target)
    assert (target / "ratings.dat").read_bytes() == SAMPLE_FILES["ratings.dat"]


def test_files_at_the_zip_root_are_found(tmp_path: Path) -> None:
    files = _fake_files(RELEASES["ml-100k"])
    zip_path = tmp_path / "ml-100k.zip"
    data = _write_zip(zip_path, files, "")
    release = dataclasses.replace(
        RELEASES["ml-100k"], url=zip_path.as_uri(), sha256=hashlib.sha256(data).hexdigest()
    )
    target = tmp_path / "data" / "ml-100k"
    ensure_release(release, target)
    assert {p.name: p.read_bytes() for p in target.iterdir()} == files


def test_release_without_checksum_logs_its_sha256(
    served: Served, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    release = dataclasses.replace(served.releases["ml-10m"], md5=None, sha256=None)
    digest = hashlib.sha256((tmp_path / "www" / "ml-10m.zip").read_bytes()).hexdigest()
    with caplog.at_level(logging.WARNING, logger="recsys_duck.download"):
        ensure_release(release, tmp_path / "ml-10m")
    assert digest in caplog.text
    assert (tmp_path / "ml-10m" / "movies.dat").is_file()
