"""Frame traces in the Chrome trace-event format, which Perfetto and ``chrome://tracing`` open.

A :class:`Tracer` collects spans (:mod:`tryon.timing`) from any thread: each frame is one
complete event (``"ph": "X"``) named ``frame`` with its stages as complete events nested inside
it on the same thread (``tid``); ``ts`` and ``dur`` are microseconds from the tracer's start.
Thread names come as metadata events (``"ph": "M"``). ``tryon profile --trace`` and a live
session's ``trace`` control message write these files; :func:`render_timeline` draws one as a
PNG timeline (matplotlib's Agg canvas).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

from tryon.timing import Span, recording, span

FRAME = "frame"


class _Entry(NamedTuple):
    tid: int
    span: Span
    args: Mapping[str, Any] | None


class Tracer:
    """Spans from any thread, kept until written (thread-safe)."""

    def __init__(self, process_name: str = "tryon") -> None:
        self.process_name = process_name
        self.origin = time.perf_counter()
        self.started_at = time.time()
        self._lock = threading.Lock()
        self._entries: list[_Entry] = []
        self._threads: dict[int, str] = {}

    @property
    def frames(self) -> int:
        """Frame spans recorded so far."""
        with self._lock:
            return sum(1 for e in self._entries if e.span.name == FRAME)

    def add(self, spans: Sequence[Span], args: Mapping[str, Any] | None = None) -> None:
        """Spans recorded on this thread; ``args`` go on its top-level spans."""
        thread = threading.current_thread()
        tid = threading.get_native_id()
        with self._lock:
            self._threads.setdefault(tid, thread.name)
            self._entries.extend(_Entry(tid, s, args if s.parent is None else None) for s in spans)

    @contextmanager
    def frame(self, **args: Any) -> Iterator[None]:
        """One frame on this thread: a ``frame`` span with every stage recorded inside it."""
        with recording() as rec:
            try:
                with span(FRAME):
                    yield
            finally:
                self.add(rec.take(), args or None)

    def events(self) -> list[dict[str, Any]]:
        """The trace events: metadata, then complete events by thread and start (parents first)."""
        pid = os.getpid()
        with self._lock:
            entries = list(self._entries)
            threads = dict(self._threads)
        out: list[dict[str, Any]] = [
            {"ph": "M", "name": "process_name", "pid": pid, "tid": 0, "args": {"name": self.process_name}}
        ]
        for tid, name in sorted(threads.items()):
            out.append({"ph": "M", "name": "thread_name", "pid": pid, "tid": tid, "args": {"name": name}})

        def ns(t: float) -> int:
            return round((t - self.origin) * 1e9)

        timed = sorted(entries, key=lambda e: (e.tid, ns(e.span.start), -ns(e.span.end)))
        for e in timed:
            start, end = ns(e.span.start), ns(e.span.end)
            event: dict[str, Any] = {
                "name": e.span.name,
                "cat": e.span.name.split(".", 1)[0],
                "ph": "X",
                "ts": start / 1e3,
                "dur": (end - start) / 1e3,
                "pid": pid,
                "tid": e.tid,
            }
            if e.args:
                event["args"] = dict(e.args)
            out.append(event)
        return out

    def document(self, **other: Any) -> dict[str, Any]:
        """The JSON object format: ``traceEvents`` and ``otherData``."""
        return {
            "traceEvents": self.events(),
            "displayTimeUnit": "ms",
            "otherData": {"started_at": self.started_at, **other},
        }

    def write(self, path: str | Path, **other: Any) -> Path:
        """Write the trace as JSON (parent folders made); returns the path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".part")
        tmp.write_text(json.dumps(self.document(**other), separators=(",", ":")))
        tmp.replace(path)
        return path


def load_events(path: str | Path) -> list[dict[str, Any]]:
    """The events of a trace file (the JSON object format or a bare array)."""
    data = json.loads(Path(path).read_text())
    events = data["traceEvents"] if isinstance(data, dict) else data
    if not isinstance(events, list):
        raise ValueError(f"{path}: expected trace events, got {type(events).__name__}")
    return events


def render_timeline(
    events: Sequence[Mapping[str, Any]],
    out: str | Path,
    *,
    frames: int = 3,
    title: str = "tryon trace",
) -> Path:
    """A PNG timeline of the first ``frames`` frames of the first thread that has frames: one
    row per nesting depth, a bar per span, labelled with its name and milliseconds."""
    from matplotlib import colormaps
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    xs = [e for e in events if e.get("ph") == "X"]
    frame_tids = [e["tid"] for e in xs if e["name"] == FRAME]
    if not frame_tids:
        raise ValueError("the trace has no frame spans")
    tid = frame_tids[0]
    shown = sorted((e for e in xs if e["tid"] == tid), key=lambda e: (e["ts"], -e["dur"]))
    firsts = [e for e in shown if e["name"] == FRAME][:frames]
    t0, t1 = firsts[0]["ts"], firsts[-1]["ts"] + firsts[-1]["dur"]
    shown = [e for e in shown if e["ts"] >= t0 and e["ts"] + e["dur"] <= t1 + 1e-3]
    depth_of: list[tuple[float, int]] = []  # (end, depth) of the open spans
    rows: list[tuple[Mapping[str, Any], int]] = []
    for e in shown:
        while depth_of and depth_of[-1][0] <= e["ts"] + 1e-3:
            depth_of.pop()
        depth = len(depth_of)
        rows.append((e, depth))
        depth_of.append((e["ts"] + e["dur"], depth + 1))
    depth_max = max(d for _, d in rows) + 1
    fig = Figure(figsize=(14, 0.55 * depth_max + 1.4), dpi=110)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    cats = sorted({str(e.get("cat", e["name"])) for e, _ in rows})
    cmap = colormaps["tab20"]
    colours = {c: cmap(i % 20) for i, c in enumerate(cats)}
    for e, depth in rows:
        x, w = (e["ts"] - t0) / 1e3, e["dur"] / 1e3
        ax.broken_barh([(x, w)], (depth - 0.4, 0.8), facecolors=colours[str(e.get("cat", e["name"]))])
        if w > (t1 - t0) / 1e3 / 40:
            label = f"{str(e['name']).rsplit('.', 1)[-1] if depth > 2 else e['name']} {w:.1f}"
            ax.text(x + w / 2, depth, label, ha="center", va="center", fontsize=6, clip_on=True)
    ax.set_ylim(depth_max - 0.5, -0.5)
    ax.set_yticks(range(depth_max))
    ax.set_yticklabels(["frame"] + [f"depth {d}" for d in range(1, depth_max)])
    ax.set_xlabel("ms")
    ax.set_title(f"{title}: {len(firsts)} frame(s), thread {tid}")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(str(out))
    return out
