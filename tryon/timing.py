"""Per-stage timings, and the spans that profiles and traces are made of.

Every stage adds its milliseconds for the frame to a dict (:func:`timed`): always on, cheap.

A :class:`Recorder` installed on a thread (:func:`recording`) also keeps, on that thread, every
timed stage as a span (name, parent, start, end), and switches on the finer points that cost
something only while recorded: :func:`span` (a named span: a frame, perception, a perception
stage, one renderer) and :func:`step` (a sub-stage named after the enclosing stage: the model
run, the pre-processing crop, the post-processing, compositing, colour conversion). Without a
recorder, ``span`` and ``step`` return one shared no-op context after one thread-local look-up
(about 0.1 µs; ``benchmarks/trace_overhead.py`` measures it).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import NamedTuple

_tls = threading.local()
_perf = time.perf_counter


class Span(NamedTuple):
    name: str
    parent: str | None
    """The enclosing span's name on the same thread (``None``: a top-level span)."""
    start: float
    """``time.perf_counter()`` seconds."""
    end: float


class Recorder:
    """The spans recorded on one thread while installed (:func:`recording`)."""

    __slots__ = ("spans", "stack")

    def __init__(self) -> None:
        self.spans: list[Span] = []
        """In the order they ended (children before their parent)."""
        self.stack: list[str] = []

    def take(self) -> list[Span]:
        """The spans recorded so far; the recorder starts afresh."""
        spans, self.spans = self.spans, []
        return spans


def recorder() -> Recorder | None:
    """The recorder installed on this thread, if any."""
    rec: Recorder | None = getattr(_tls, "recorder", None)
    return rec


@contextmanager
def recording(rec: Recorder | None = None) -> Iterator[Recorder]:
    """Install ``rec`` (a new one by default) on this thread for the ``with`` body."""
    rec = rec if rec is not None else Recorder()
    previous = getattr(_tls, "recorder", None)
    _tls.recorder = rec
    try:
        yield rec
    finally:
        _tls.recorder = previous


class _Null:
    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None


_NULL = _Null()


class _Span:
    """A span recorded on ``rec``; with ``timings``, its milliseconds are added there too."""

    __slots__ = ("name", "rec", "start", "timings")

    def __init__(self, name: str, rec: Recorder | None, timings: dict[str, float] | None) -> None:
        self.name, self.rec, self.timings = name, rec, timings
        self.start = 0.0

    def __enter__(self) -> None:
        rec = self.rec
        if rec is not None:
            rec.stack.append(self.name)
        self.start = _perf()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        end = _perf()
        timings = self.timings
        if timings is not None:
            timings[self.name] = timings.get(self.name, 0.0) + (end - self.start) * 1e3
        rec = self.rec
        if rec is not None:
            stack = rec.stack
            stack.pop()
            rec.spans.append(Span(self.name, stack[-1] if stack else None, self.start, end))


def timed(timings: dict[str, float], stage: str) -> _Span:
    """Add the wall time of the ``with`` body, in ms, to ``timings[stage]`` (and record it as a
    span when a recorder is installed, unless the enclosing span has the same name)."""
    rec: Recorder | None = getattr(_tls, "recorder", None)
    if rec is not None and rec.stack and rec.stack[-1] == stage:
        rec = None
    return _Span(stage, rec, timings)


def span(name: str) -> _Span | _Null:
    """A span named ``name``, recorded only while a recorder is installed on this thread."""
    rec: Recorder | None = getattr(_tls, "recorder", None)
    if rec is None:
        return _NULL
    return _Span(name, rec, None)


def step(name: str) -> _Span | _Null:
    """A sub-stage of the enclosing span, recorded as ``<enclosing>.<name>`` only while a
    recorder is installed on this thread (and only inside a span: a bare call records nothing)."""
    rec: Recorder | None = getattr(_tls, "recorder", None)
    if rec is None or not rec.stack:
        return _NULL
    return _Span(f"{rec.stack[-1]}.{name}", rec, None)
