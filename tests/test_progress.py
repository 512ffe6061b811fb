"""Progress inside long steps (recsys_duck.progress): what a callback receives from a
build and an evaluation, the periodic log lines, and the bars the command line draws
in a terminal (run under a pseudo-terminal) and leaves out with --quiet."""

from __future__ import annotations

import logging
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from recsys_duck import Recommender
from recsys_duck.params import BuildParams
from recsys_duck.progress import LogReporter, Update, reporting, tracked
from tests.conftest import TINY

PARAMS = BuildParams(k=3, n_similar_users=2, n_item_neighbors=2, n_recommendations=3)


def test_a_callback_gets_every_unit_of_every_long_step(tmp_path: Path) -> None:
    updates: list[Update] = []
    with Recommender(tmp_path / "tiny.duckdb", progress=updates.append) as rec:
        report = rec.build(TINY, PARAMS)
        rec.evaluate("kfold", folds=2)
    seen = {u.task: u for u in updates}  # the last update of each task
    for table, batches in report.batches.items():
        task = {"item_pair_sums": "pair sums, item side", "user_pair_sums": "pair sums, user side"}
        last = seen[task.get(table, table)]
        assert (last.done, last.total, last.unit) == (batches, batches, "batches")
    assert (seen["evaluate, kfold split"].done, seen["evaluate, kfold split"].total) == (2, 2)
    # Each run of a task (the build's, then each fold's) starts at 0 and counts up by one.
    for task in seen:
        dones = [u.done for u in updates if u.task == task]
        assert all(b in (0, a + 1) for a, b in zip(dones, dones[1:], strict=False)), dones
        assert dones[0] == 0


def test_log_lines_say_done_rate_and_time_left(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="recsys_duck.progress")
    with (
        reporting(LogReporter(every=0.0)),
        tracked("pair sums, item side", 4, "batches") as advance,
    ):
        for _ in range(4):
            advance(1)
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0].startswith("pair sums, item side: 1/4 batches, ")
    assert "batches/s, about" in lines[0] and lines[0].endswith("s left")
    assert lines[-1].startswith("pair sums, item side: 4/4 batches")
    assert len(lines) == 4  # the end logs nothing when the last update was just logged


def test_a_task_shorter_than_the_period_logs_nothing(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="recsys_duck.progress")
    with tracked("content_neighbors", 3, "batches") as advance:
        for _ in range(3):
            advance(1)
    assert caplog.records == []


def _build_in_a_terminal(db: Path, *options: str) -> str:
    """Run a build with stderr on a pseudo-terminal; what the terminal received."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "recsys_duck.cli", *options, "--db", str(db)]
        + ["build", "--k", "3", "--data", str(TINY)],
        stdout=subprocess.DEVNULL,
        stderr=follower,
    )
    os.close(follower)
    received = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        received += chunk
    os.close(leader)
    assert process.wait(timeout=120) == 0, received.decode(errors="replace")
    return received.decode(errors="replace")


def test_the_command_line_draws_bars_in_a_terminal(tmp_path: Path) -> None:
    shown = _build_in_a_terminal(tmp_path / "tiny.duckdb")
    for task in ("pair sums, item side", "content_neighbors", "recommendations"):
        assert task in shown
    assert "batches/s" in shown or "batches]" in shown  # tqdm's rate
    quiet = _build_in_a_terminal(tmp_path / "quiet.duckdb", "--quiet")
    assert "pair sums" not in quiet and "batches" not in quiet
