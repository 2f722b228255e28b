"""One batcher per model for every session of a process: many callers' samples, one inference.

A server runs one pipeline per session, each on its own worker thread; at batch 1 a small model
(face mesh 192×192, hand 224×224) is launch-bound on a GPU, and on a CPU each session's
thread pool fights the others'. With batching on (``RuntimeConfig.batching``), every
:class:`~tryon.runtime.session.ModelLoader` of the process hands out :class:`BatchedModel` views
of one shared session per model (the models converted with a dynamic batch, ``ModelSpec.batch``).
A view's ``run`` queues its sample with the model's :class:`ModelBatcher` and blocks; the
batcher's thread concatenates the queued samples along the batch axis, runs them as one
inference and hands each caller its rows.

When a batch goes: as soon as it holds ``max_batch`` samples, or as many as there are active
callers (threads that used the model within ``active_window_s``: a lone session never waits),
or when its oldest sample has waited ``deadline_ms``: no caller waits longer than that for
others. Waiting adapts to the load: the batcher tracks how many samples its waits gathered, and
when sessions are so out of step that waiting gathers none, it stops waiting (checking again
every 16th batch). The queue is bounded (``max_queue`` samples); a caller finding it full gets
:class:`BatchQueueFullError` at once. A batch whose inference raises fails its own callers with
:class:`BatchFailedError` (the perception stage counts a failed frame) and nothing else.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tryon.errors import InputError, TryOnError
from tryon.runtime.session import OnnxModel, RuntimeConfig

logger = logging.getLogger(__name__)


MIN_GAIN = 0.25
"""Below this many samples gained per wait (smoothed), a batch runs with what is queued."""
PROBE_EVERY = 16
"""While waits do not pay, every 16th batch waits anyway, to notice when they would."""
GAIN_SMOOTHING = 0.25


class BatchQueueFullError(TryOnError):
    """The model's queue holds ``max_queue`` samples: this one is refused (its frame fails)."""


class BatchFailedError(TryOnError):
    """The batch this sample ran in failed; the cause is chained."""


@dataclass(frozen=True)
class BatchConfig:
    max_batch: int = 8
    """Samples in one inference at most."""
    deadline_ms: float = 4.0
    """The longest a sample waits for others before its batch runs anyway."""
    max_queue: int = 64
    """Samples queued per model at most (beyond them a caller is refused at once)."""
    active_window_s: float = 0.5
    """A caller counts as active for this long after its last sample: a batch holding a sample
    of every active caller runs without waiting for the deadline (adaptive to the load)."""

    def __post_init__(self) -> None:
        if self.max_batch < 1:
            raise InputError(f"max_batch: expected at least 1, got {self.max_batch}")
        if not 0.0 <= self.deadline_ms <= 1000.0:
            raise InputError(f"deadline_ms: expected 0..1000, got {self.deadline_ms}")
        if self.max_queue < 1:
            raise InputError(f"max_queue: expected at least 1, got {self.max_queue}")
        if self.active_window_s <= 0:
            raise InputError(f"active_window_s: expected > 0, got {self.active_window_s}")


@dataclass
class BatcherStats:
    batches: int = 0
    samples: int = 0
    failed_batches: int = 0
    refused: int = 0
    """Samples refused because the queue was full."""
    waited_ms_max: float = 0.0
    """The longest a sample waited in the queue before its batch started."""

    @property
    def mean_batch(self) -> float:
        return self.samples / self.batches if self.batches else 0.0


class _Request:
    __slots__ = ("caller", "done", "error", "feeds", "queued_at", "result", "rows")

    def __init__(self, feeds: dict[str, NDArray[Any]], caller: int) -> None:
        self.feeds = feeds
        self.rows = int(next(iter(feeds.values())).shape[0])
        self.caller = caller
        self.queued_at = time.perf_counter()
        self.done = threading.Event()
        self.result: dict[str, NDArray[np.float32]] | None = None
        self.error: BaseException | None = None


class ModelBatcher:
    """Collects samples for one model from any number of threads and runs them in batches."""

    def __init__(self, model: OnnxModel, config: BatchConfig | None = None) -> None:
        self.model = model
        self.config = config or BatchConfig()
        self.max_batch = self.config.max_batch if model.dynamic_batch else 1
        self.stats = BatcherStats()
        self._queue: deque[_Request] = deque()
        self._queued_rows = 0
        self._seen: dict[int, float] = {}
        self._cond = threading.Condition()
        self._closed = False
        self._gain = 1.0
        """Smoothed samples a wait brought (sessions in step fill batches; out of step, waits
        only add latency, and below MIN_GAIN the batcher stops waiting, probing now and then)."""
        self._thread = threading.Thread(target=self._loop, name=f"batcher-{model.name}", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------------------ callers
    def run(self, feeds: Mapping[str, NDArray[Any]]) -> dict[str, NDArray[np.float32]]:
        """Run ``feeds`` (``(N, ...)`` arrays, usually N = 1) in the next batch; its outputs."""
        request = _Request(self.model.check_inputs(feeds), threading.get_ident())
        with self._cond:
            if self._closed:
                raise BatchFailedError(f"model {self.model.name!r}: the batcher is closed")
            if self._queued_rows + request.rows > self.config.max_queue:
                self.stats.refused += 1
                raise BatchQueueFullError(
                    f"model {self.model.name!r}: {self._queued_rows} samples queued "
                    f"(max_queue {self.config.max_queue}); this frame is dropped"
                )
            self._seen[request.caller] = request.queued_at
            self._queue.append(request)
            self._queued_rows += request.rows
            self._cond.notify_all()
        request.done.wait()
        if request.error is not None:
            raise BatchFailedError(
                f"model {self.model.name!r}: the batch failed: {request.error}"
            ) from request.error
        assert request.result is not None
        return request.result

    def close(self) -> None:
        """Stop the thread; queued samples fail, later calls are refused."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join(timeout=5.0)

    # ------------------------------------------------------------------------------ the loop
    def _active_callers(self, now: float) -> int:
        window = self.config.active_window_s
        for caller in [c for c, t in self._seen.items() if now - t > window]:
            del self._seen[caller]
        return max(1, len(self._seen))

    def _take(self) -> list[_Request] | None:
        """The next batch (``None`` once closed): waits for the first sample, then until the
        batch is full, holds every active caller's sample, or the first one's deadline passes."""
        deadline_s = self.config.deadline_ms / 1e3
        with self._cond:
            while not self._queue and not self._closed:
                self._cond.wait()
            if self._closed:
                for r in self._queue:
                    r.error = RuntimeError("the batcher closed")
                    r.done.set()
                self._queue.clear()
                return None
            due = self._queue[0].queued_at + deadline_s
            before = self._queued_rows
            waiting = self._gain >= MIN_GAIN or self.stats.batches % PROBE_EVERY == 0
            waited = False
            while waiting and not self._closed:
                now = time.perf_counter()
                target = min(self.max_batch, self._active_callers(now))
                if self._queued_rows >= target or now >= due:
                    break
                waited = True
                self._cond.wait(due - now)
            if waited:  # what waiting brought: others' samples, or nothing but latency
                gained = min(self._queued_rows, self.max_batch) - before
                self._gain += GAIN_SMOOTHING * (gained - self._gain)
            batch: list[_Request] = []
            rows = 0
            while self._queue and (not batch or rows + self._queue[0].rows <= self.max_batch):
                r = self._queue.popleft()
                batch.append(r)
                rows += r.rows
            self._queued_rows -= rows
            return batch

    def _loop(self) -> None:
        while True:
            batch = self._take()
            if batch is None:
                return
            start = time.perf_counter()
            self.stats.waited_ms_max = max(
                self.stats.waited_ms_max, max((start - r.queued_at) * 1e3 for r in batch)
            )
            self._run_batch(batch)

    def _run_batch(self, batch: list[_Request]) -> None:
        try:
            if len(batch) == 1:
                outputs = self.model.run(batch[0].feeds)
            else:
                feeds = {k: np.concatenate([r.feeds[k] for r in batch]) for k in batch[0].feeds}
                outputs = self.model.run(feeds)
            offset = 0
            for r in batch:
                r.result = {k: v[offset : offset + r.rows] for k, v in outputs.items()}
                offset += r.rows
        except Exception as exc:  # the model's own failure: it fails this batch's callers only
            self.stats.failed_batches += 1
            logger.warning("model %s: a batch of %d failed: %s", self.model.name, len(batch), exc)
            for r in batch:
                r.error = exc
        self.stats.batches += 1
        self.stats.samples += sum(r.rows for r in batch)
        for r in batch:
            r.done.set()


class BatchedModel(OnnxModel):
    """A session's view of a shared model: ``run`` goes through the model's batcher. Everything
    else (inputs, outputs, provider) is the shared model's."""

    def __init__(self, batcher: ModelBatcher) -> None:  # no super().__init__: nothing is opened
        shared = batcher.model
        self.batcher = batcher
        self.name, self.path, self.config = shared.name, shared.path, shared.config
        self.session, self.providers = shared.session, shared.providers
        self.dynamic_batch, self.inputs, self.output_names = (
            shared.dynamic_batch,
            shared.inputs,
            shared.output_names,
        )
        self.input_dims = shared.input_dims
        self.on_gpu, self._binding = shared.on_gpu, None

    def run(self, feeds: Mapping[str, NDArray[Any]]) -> dict[str, NDArray[np.float32]]:
        return self.batcher.run(feeds)


_registry_lock = threading.Lock()
_registry: dict[tuple[str, str, tuple[int, ...] | None, str], ModelBatcher] = {}


def shared_batcher(
    path: Path, name: str, config: RuntimeConfig, outputs: Sequence[int] | None = None
) -> ModelBatcher:
    """The process's batcher of model ``name`` (with these outputs and runtime settings): made,
    with its one session, by the first caller; every later one shares it."""
    batching = config.batching or BatchConfig()
    plain = replace(config, batching=None)
    key = (str(path), name, tuple(outputs) if outputs is not None else None, repr((plain, batching)))
    with _registry_lock:
        batcher = _registry.get(key)
        if batcher is None:
            batcher = ModelBatcher(OnnxModel(path, name, plain, outputs), batching)
            _registry[key] = batcher
        return batcher


def batchers() -> list[ModelBatcher]:
    """The process's batchers (their ``stats``)."""
    with _registry_lock:
        return list(_registry.values())


def close_batchers() -> None:
    """Close every shared batcher (their sessions go with the last reference)."""
    with _registry_lock:
        found = list(_registry.values())
        _registry.clear()
    for b in found:
        b.close()
