"""Where a frame's milliseconds go: a look run on a sequence of frames with every stage recorded.

:func:`profile` runs a :class:`~tryon.pipeline.TryOnPipeline` over frames from a
:class:`FrameSource` (the moving synthetic sequence, a video, an image folder, a camera) with a
:class:`~tryon.timing.Recorder` on, and summarises every stage and sub-stage that ran (detector,
landmark model run, pre-processing crop, post-processing, smoothing, each renderer, compositing,
colour conversion): median, p95 and max milliseconds over the frames it ran on, and its share of
all frame time. A :class:`~tryon.trace.Tracer` given to it gets every frame as a trace.

The stages directly under ``frame`` (``convert``, ``perception``, ``render``) add up to the frame
time but for the untimed glue between them (input validation, counters), shown as ``(untimed)``:
:data:`SUM_TOLERANCE` bounds it.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import onnxruntime as ort
from numpy.typing import NDArray

from tryon.errors import InputError, MediaError
from tryon.pipeline import TryOnPipeline
from tryon.runtime.providers import (
    CPU,
    GPU_PROVIDERS,
    TENSORRT,
    choose_providers,
    cuda_device_count,
    normalize,
    tensorrt_libraries_present,
)
from tryon.runtime.session import RuntimeConfig
from tryon.timing import Recorder, Span, recording, span
from tryon.trace import FRAME, Tracer

logger = logging.getLogger(__name__)

SUM_TOLERANCE = 0.05
"""The top-level stages' total is within this fraction of the frames' total (or 0.3 ms a frame,
whichever is more): the rest is untimed glue."""
SUM_TOLERANCE_MS = 0.3
UNTIMED = "(untimed)"
SYNTHETIC_SIZE = (640, 480)


# -- inputs ------------------------------------------------------------------------------------


@dataclass
class FrameSource:
    """Frames to profile on: ``frames()`` yields ``(image, timestamp s, bgr)``; ``dropped``
    counts frames the input could not deliver (a camera read that failed, an unreadable image)."""

    name: str
    frames: Callable[[], Iterator[tuple[NDArray[np.uint8], float | None, bool]]]
    dropped: int = 0


def synthetic_frames(n: int = 60) -> list[NDArray[np.uint8]]:
    """The moving test sequence: skimage's astronaut (public domain) as a 640×480 webcam-like
    frame (head and shoulders), moving smoothly (rotation, zoom, drift); ``n`` frames, one cycle."""
    try:
        from skimage.data import astronaut
    except ImportError:
        raise InputError(
            "--synthetic: the test sequence is made from scikit-image's astronaut, and scikit-image "
            "is not installed (pip install scikit-image)"
        ) from None
    from tryon.testing import moving

    img = cv2.resize(np.asarray(astronaut()), (480, 480), interpolation=cv2.INTER_AREA)  # type: ignore[no-untyped-call]
    base = np.asarray(cv2.copyMakeBorder(img, 0, 0, 80, 80, cv2.BORDER_REFLECT), dtype=np.uint8)
    return [t.apply(base) for t in moving(n)]


def synthetic_source(cycle: int = 60) -> FrameSource:
    frames = synthetic_frames(cycle)

    def gen() -> Iterator[tuple[NDArray[np.uint8], float | None, bool]]:
        i = 0
        while True:
            # Back and forth, so the motion never jumps.
            k = i % (2 * cycle - 2)
            yield frames[k if k < cycle else 2 * cycle - 2 - k], i / 30, False
            i += 1

    return FrameSource("synthetic", gen)


def capture_source(target: str | int, name: str) -> FrameSource:
    """A video file or a camera through OpenCV (frames come as BGR: converted in the frame)."""
    cap = cv2.VideoCapture(target)
    if not cap.isOpened():
        raise MediaError(f"{name}: OpenCV cannot open it")
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    camera = isinstance(target, int)
    source = FrameSource(name, lambda: iter(()))

    def gen() -> Iterator[tuple[NDArray[np.uint8], float | None, bool]]:
        i = 0
        failures = 0
        try:
            while True:
                ok, frame = cap.read()
                if not ok:
                    if camera and failures < 30:
                        failures += 1
                        source.dropped += 1
                        continue
                    return
                failures = 0
                ts = time.monotonic() if camera else i / fps
                yield np.ascontiguousarray(frame, np.uint8), ts, True
                i += 1
        finally:
            cap.release()

    source.frames = gen
    return source


def folder_source(folder: Path) -> FrameSource:
    """The images of a folder in name order, as a video at 30 fps."""
    from tryon.media import is_image, read_image

    paths = sorted(p for p in folder.iterdir() if is_image(p))
    if not paths:
        raise MediaError(f"{folder}: no images (.png, .jpg, ...) in it")
    source = FrameSource(str(folder), lambda: iter(()))

    def gen() -> Iterator[tuple[NDArray[np.uint8], float | None, bool]]:
        for i, p in enumerate(paths):
            try:
                image = read_image(p)
            except MediaError as exc:
                logger.warning("%s", exc)
                source.dropped += 1
                continue
            yield image, i / 30, False

    source.frames = gen
    return source


# -- providers ---------------------------------------------------------------------------------


def runtime_for(provider: str | None, threads: int | None) -> RuntimeConfig:
    """The runtime settings for ``--provider``/``--threads``; a provider that cannot run here is
    an error saying why (not a silent fall-back to the CPU)."""
    if threads is not None and threads < 1:
        raise InputError(f"--threads: expected a number >= 1, got {threads}")
    if provider is None:
        return RuntimeConfig(threads=threads)
    full = normalize(provider)
    if full != CPU:
        reason = None
        if full not in ort.get_available_providers():
            reason = (
                f"this onnxruntime build has no {full} (it has {', '.join(ort.get_available_providers())})"
            )
        elif full in GPU_PROVIDERS and cuda_device_count() == 0:
            reason = "no CUDA GPU found"
        elif full == TENSORRT and not tensorrt_libraries_present():
            reason = "the TensorRT libraries (libnvinfer) are not found"
        if reason:
            raise InputError(f"--provider {provider}: {full} cannot run here: {reason}")
    return RuntimeConfig(providers=(full, CPU) if full != CPU else (CPU,), threads=threads)


# -- the profile -------------------------------------------------------------------------------


@dataclass
class StageStats:
    name: str
    parent: str | None
    depth: int
    runs: int
    """Frames the stage ran on (a detector: only some)."""
    calls: int
    """Times it ran (a landmark model: once per face and refinement)."""
    median_ms: float
    p95_ms: float
    max_ms: float
    mean_ms: float
    total_ms: float
    share: float
    """Of all frame time."""


@dataclass
class Profile:
    input: str
    look: list[str]
    provider: str
    providers: list[str]
    threads: int
    frames: int
    warmup: int
    wall_s: float
    fps: float
    """Frames measured / wall time of the measured loop (reading the input included)."""
    frame_ms: dict[str, float]
    stages: list[StageStats]
    detector_runs: dict[str, int]
    failed: int
    failures: dict[str, int]
    dropped: int
    sum_tolerance: float = SUM_TOLERANCE
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def stage(self, name: str) -> StageStats | None:
        return next((s for s in self.stages if s.name == name), None)


def _stats(values: Sequence[float]) -> tuple[float, float, float, float]:
    a = np.asarray(values, np.float64)
    return float(np.median(a)), float(np.percentile(a, 95)), float(a.max()), float(a.mean())


def summarise(frames: Sequence[list[Span]]) -> tuple[dict[str, float], list[StageStats]]:
    """Per-frame spans (each list holding one ``frame`` span) as frame statistics and the stage
    tree (depth-first, siblings in the order they run)."""
    frame_ms: list[float] = []
    per_frame: dict[str, list[float]] = defaultdict(list)
    calls: dict[str, int] = defaultdict(int)
    parent: dict[str, str | None] = {}
    offset: dict[str, list[float]] = defaultdict(list)
    untimed: list[float] = []
    for spans in frames:
        root = next(s for s in spans if s.name == FRAME and s.parent is None)
        total = (root.end - root.start) * 1e3
        frame_ms.append(total)
        sums: dict[str, float] = defaultdict(float)
        for s in spans:
            if s is root:
                continue
            sums[s.name] += (s.end - s.start) * 1e3
            calls[s.name] += 1
            parent.setdefault(s.name, s.parent)
            offset[s.name].append(s.start - root.start)
        for name, ms in sums.items():
            per_frame[name].append(ms)
        untimed.append(total - sum(ms for name, ms in sums.items() if parent.get(name) == FRAME))
    grand = float(sum(frame_ms)) or 1.0
    children: dict[str | None, list[str]] = defaultdict(list)
    for name in sorted(per_frame, key=lambda n: float(np.mean(offset[n]))):
        children[parent[name]].append(name)
    per_frame[UNTIMED] = untimed
    calls[UNTIMED] = len(untimed)
    children[FRAME].append(UNTIMED)
    parent[UNTIMED] = FRAME
    out: list[StageStats] = []

    def walk(node: str, depth: int) -> None:
        for name in children.get(node, []):
            values = per_frame[name]
            med, p95, mx, mean = _stats(values)
            total = float(sum(values))
            out.append(
                StageStats(
                    name, node, depth, len(values), calls[name], med, p95, mx, mean, total, total / grand
                )
            )
            walk(name, depth + 1)

    walk(FRAME, 1)
    orphans = [n for n in children if n is not None and n != FRAME and n not in per_frame]
    for node in orphans:  # a stage whose parent is not a recorded span (should not happen)
        walk(node, 1)
    med, p95, mx, mean = _stats(frame_ms) if frame_ms else (0.0, 0.0, 0.0, 0.0)
    return {"median": med, "p95": p95, "max": mx, "mean": mean, "total": float(sum(frame_ms))}, out


def profile(
    pipeline: TryOnPipeline,
    source: FrameSource,
    *,
    frames: int = 200,
    warmup: int = 10,
    tracer: Tracer | None = None,
    progress: Callable[[int], None] | None = None,
) -> Profile:
    """Run ``pipeline`` on ``warmup`` frames, then measure ``frames`` more (fewer if the input ends)."""
    if frames < 1 or warmup < 0:
        raise InputError(f"expected frames >= 1 and warmup >= 0, got {frames} and {warmup}")
    it = source.frames()
    rec = Recorder()
    recorded: list[list[Span]] = []
    runs_before: dict[str, int] = {}
    failures_before = dict(pipeline.stats.failures)
    t_start = time.perf_counter()
    n = 0
    with recording(rec):
        for i, (image, ts, bgr) in enumerate(it):
            if i == warmup:
                runs_before = dict(pipeline.perception.detector_runs)
                failures_before = dict(pipeline.stats.failures)
                t_start = time.perf_counter()
            with span(FRAME):
                if bgr:
                    with span("convert"):
                        image = np.ascontiguousarray(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
                pipeline.process(image, ts)
            spans = rec.take()
            if i < warmup:
                continue
            recorded.append(spans)
            if tracer is not None:
                tracer.add(spans, {"frame": n})
            n += 1
            if progress is not None:
                progress(n)
            if n >= frames:
                break
    wall = time.perf_counter() - t_start
    if not recorded:
        raise MediaError(f"{source.name}: no frame to measure after {warmup} warm-up frames")
    frame_ms, stages = summarise(recorded)
    runs = pipeline.perception.detector_runs
    failures = {k: v - failures_before.get(k, 0) for k, v in pipeline.stats.failures.items()}
    failures = {k: v for k, v in failures.items() if v}
    runtime = pipeline.perception.config.runtime
    providers = choose_providers(runtime.providers)
    notes = []
    if n < frames:
        notes.append(f"the input ended after {n} measured frames ({frames} asked)")
    return Profile(
        input=source.name,
        look=[item.spec for item in pipeline.look],
        provider=providers[0],
        providers=providers,
        threads=runtime.thread_count(),
        frames=n,
        warmup=warmup,
        wall_s=wall,
        fps=n / wall if wall > 0 else 0.0,
        frame_ms=frame_ms,
        stages=stages,
        detector_runs={k: v - runs_before.get(k, 0) for k, v in runs.items()},
        failed=sum(failures.values()),
        failures=failures,
        dropped=source.dropped,
        notes=notes,
    )
