"""Progress inside long steps: batches of the pair sums, the content neighbours and the
recommendations mart, evaluation folds, published tables.

A step wraps its loop in :func:`tracked` and calls the function it yields once per unit
done. Where that goes is the current reporter (a context variable, so threads and nested
calls each see theirs):

* by default, :class:`LogReporter`: a line on the ``recsys_duck.progress`` logger at
  most every :data:`LOG_EVERY_SECONDS` and when the task ends (``--quiet`` silences it
  with the rest of the log), with units done, rate and time left;
* in a terminal, the command line installs :class:`BarReporter`: a tqdm bar on stderr;
* in Python, ``with reporting(callback):`` (or ``Recommender(progress=callback)``) hands
  each update to ``callback(Update)``.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

logger = logging.getLogger(__name__)

#: Seconds between two progress lines of one task in the log.
LOG_EVERY_SECONDS = 10.0


@dataclass(frozen=True)
class Update:
    """Where a task stands: ``done`` of ``total`` ``unit`` after ``seconds``."""

    task: str
    done: int
    total: int
    unit: str
    seconds: float

    @property
    def rate(self) -> float:
        """Units per second so far (0 before the first)."""
        return self.done / self.seconds if self.seconds > 0 else 0.0

    @property
    def seconds_left(self) -> float | None:
        """Time to the end at the rate so far; None before the first unit."""
        return (self.total - self.done) / self.rate if self.done and self.rate else None

    def __str__(self) -> str:
        left = self.seconds_left
        eta = "" if left is None else f", about {left:.0f} s left"
        return (
            f"{self.task}: {self.done:,}/{self.total:,} {self.unit}, "
            f"{self.rate:.2f} {self.unit}/s{eta}"
        )


@runtime_checkable
class Reporter(Protocol):
    """Receives a task's updates: ``start`` once, ``update`` per unit, ``end`` once."""

    def start(self, update: Update) -> None: ...

    def update(self, update: Update) -> None: ...

    def end(self, update: Update) -> None: ...


class LogReporter:
    """Periodic lines on the logger: at most every ``every`` seconds per task, and the
    last; a task that ends sooner logs nothing (its step's own line says enough)."""

    def __init__(self, every: float = LOG_EVERY_SECONDS) -> None:
        self.every = every
        #: Per task: when the last line was logged, and the units it said were done.
        self._last: dict[str, tuple[float, int]] = {}

    def start(self, update: Update) -> None:
        self._last[update.task] = (0.0, 0)

    def update(self, update: Update) -> None:
        logged_at, _ = self._last.get(update.task, (0.0, 0))
        if update.seconds - logged_at >= self.every:
            self._last[update.task] = (update.seconds, update.done)
            logger.info("%s", update)

    def end(self, update: Update) -> None:
        logged_at, done = self._last.pop(update.task, (0.0, 0))
        if logged_at > 0 and done != update.done:  # the last state, unless just logged
            logger.info("%s", update)


class CallbackReporter:
    """Every update handed to a function of the caller's."""

    def __init__(self, callback: Callable[[Update], None]) -> None:
        self.callback = callback

    def start(self, update: Update) -> None:
        self.callback(update)

    def update(self, update: Update) -> None:
        self.callback(update)

    def end(self, update: Update) -> None:
        pass


class BarReporter:
    """A tqdm progress bar per task on stderr, for a terminal."""

    def __init__(self) -> None:
        self._bars: dict[str, Any] = {}

    def start(self, update: Update) -> None:
        from tqdm import tqdm

        # A terminal that reports no size (a bare pseudo-terminal) would hide the bars.
        size = shutil.get_terminal_size((100, 24))
        self._bars[update.task] = tqdm(
            total=update.total,
            desc=update.task,
            unit=f" {update.unit}",
            leave=False,
            ncols=size.columns,
            nrows=size.lines,
        )

    def update(self, update: Update) -> None:
        bar = self._bars.get(update.task)
        if bar is not None:
            bar.update(update.done - bar.n)

    def end(self, update: Update) -> None:
        bar = self._bars.pop(update.task, None)
        if bar is not None:
            bar.close()


class _Silent:
    def start(self, update: Update) -> None:
        pass

    def update(self, update: Update) -> None:
        pass

    def end(self, update: Update) -> None:
        pass


SILENT: Reporter = _Silent()

_reporter: ContextVar[Reporter | None] = ContextVar("recsys_duck_progress", default=None)


@contextmanager
def reporting(to: Reporter | Callable[[Update], None] | None) -> Iterator[None]:
    """Send the progress of the block to ``to`` (a :class:`Reporter`, or a function that
    takes an :class:`Update`); None keeps the current one."""
    if to is None:
        yield
        return
    reporter: Reporter = to if isinstance(to, Reporter) else CallbackReporter(to)
    token = _reporter.set(reporter)
    try:
        yield
    finally:
        _reporter.reset(token)


@contextmanager
def tracked(task: str, total: int, unit: str) -> Iterator[Callable[[int], None]]:
    """Report the progress of ``total`` ``unit`` of ``task``: yields ``advance(n=1)``."""
    reporter = _reporter.get() or LogReporter()
    start = time.monotonic()
    done = 0

    def state() -> Update:
        return Update(task, done, total, unit, time.monotonic() - start)

    def advance(n: int = 1) -> None:
        nonlocal done
        done += n
        reporter.update(state())

    reporter.start(state())
    try:
        yield advance
    finally:
        reporter.end(state())
