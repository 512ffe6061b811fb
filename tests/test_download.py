"""ensure_movielens, offline: a local HTTP server on 127.0.0.1 serves a zip built here."""

from __future__ import annotations

import functools
import hashlib
import http.server
import socket
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from recsys_duck.download import ML_LATEST_SMALL_FILES, ensure_movielens
from recsys_duck.errors import DownloadError
from tests.conftest import require_ml_small

TINY_FILES = {
    "movies.csv": b"movieId,title,genres\r\n1,Toy Story (1995),Animation\r\n",
    "ratings.csv": b"userId,movieId,rating,timestamp\r\n1,1,4.0,964982703\r\n",
    "tags.csv": b"userId,movieId,tag,timestamp\r\n1,1,funny,1445714994\r\n",
    "links.csv": b"movieId,imdbId,tmdbId\r\n1,0114709,862\r\n",
}
TINY_SHA256 = {name: hashlib.sha256(data).hexdigest() for name, data in TINY_FILES.items()}


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(base URL, sha256 of ml-latest-small.zip) of a server on 127.0.0.1, stopped after."""
    root = tmp_path / "www"
    root.mkdir()
    zip_path = root / "ml-latest-small.zip"
    with zipfile.ZipFile(zip_path, "w") as archive:
        for name, data in TINY_FILES.items():
            archive.writestr(f"ml-latest-small/{name}", data)
    digest = hashlib.sha256(zip_path.read_bytes()).hexdigest()
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", digest
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


def test_downloads_checks_and_unpacks(served: tuple[str, str], tmp_path: Path) -> None:
    base, digest = served
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


def test_zip_checksum_mismatch_leaves_no_target(served: tuple[str, str], tmp_path: Path) -> None:
    base, digest = served
    target = tmp_path / "data" / "ml-latest-small"
    wrong = "0" * 64
    with pytest.raises(DownloadError) as info:
        ensure_movielens(target, url=f"{base}/ml-latest-small.zip", sha256=wrong, file_sha256=None)
    assert wrong in str(info.value) and digest in str(info.value)
    assert not target.exists()
    assert _leftovers(target.parent) == []


def test_file_checksum_mismatch_leaves_no_target(served: tuple[str, str], tmp_path: Path) -> None:
    base, digest = served
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


def test_http_404_names_the_target(served: tuple[str, str], tmp_path: Path) -> None:
    base, _ = served
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


def test_file_url(served: tuple[str, str], tmp_path: Path) -> None:
    _, digest = served
    zip_path = tmp_path / "www" / "ml-latest-small.zip"
    target = tmp_path / "ml-latest-small"
    ensure_movielens(target, url=zip_path.as_uri(), sha256=digest, file_sha256=TINY_SHA256)
    assert (target / "ratings.csv").read_bytes() == TINY_FILES["ratings.csv"]


def test_missing_file_url_raises(tmp_path: Path) -> None:
    target = tmp_path / "ml-latest-small"
    with pytest.raises(DownloadError, match="could not download"):
        ensure_movielens(target, url=(tmp_path / "absent.zip").as_uri())
    assert not target.exists()


def test_empty_target_folder_is_filled(served: tuple[str, str], tmp_path: Path) -> None:
    base, digest = served
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
