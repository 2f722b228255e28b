"""The cross-session batcher: same results as unbatched, the deadline, failures kept to their batch,
bounded queues, and the loader's shared models behind ``RuntimeConfig.batching``."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from tryon.perception import Perception, PerceptionConfig
from tryon.runtime.batcher import (
    BatchConfig,
    BatchedModel,
    BatchFailedError,
    BatchQueueFullError,
    ModelBatcher,
    batchers,
    close_batchers,
)
from tryon.runtime.session import ModelLoader, OnnxModel, RuntimeConfig
from tryon.runtime.store import ModelStore


@pytest.fixture(autouse=True)
def _fresh_batchers() -> Iterator[None]:
    close_batchers()
    yield
    close_batchers()


class FakeModel:
    """Doubles its input; ``hook(batch)`` runs first (to block, or to raise)."""

    name = "fake"
    dynamic_batch = True

    def __init__(self, hook: Callable[[NDArray[Any]], None] | None = None) -> None:
        self.hook = hook
        self.batch_sizes: list[int] = []

    def check_inputs(self, feeds: Mapping[str, NDArray[Any]]) -> dict[str, NDArray[Any]]:
        return {k: np.asarray(v, np.float32) for k, v in feeds.items()}

    def run(self, feeds: Mapping[str, NDArray[Any]]) -> dict[str, NDArray[np.float32]]:
        x = feeds["x"]
        self.batch_sizes.append(int(x.shape[0]))
        if self.hook is not None:
            self.hook(x)
        return {"y": (x * 2).astype(np.float32)}


def fake_batcher(config: BatchConfig, hook: Callable[[NDArray[Any]], None] | None = None) -> ModelBatcher:
    return ModelBatcher(FakeModel(hook), config)  # type: ignore[arg-type]


def test_concurrent_callers_get_the_unbatched_results(store: ModelStore) -> None:
    """8 threads × 6 face-mesh crops: every caller's outputs equal its own batch-1 run (float
    tolerance), and the batcher really ran them together."""
    model = OnnxModel(
        store.path("face_landmark"), "face_landmark", RuntimeConfig(providers=("cpu",), threads=1)
    )
    assert model.dynamic_batch
    batcher = ModelBatcher(model, BatchConfig(max_batch=8, deadline_ms=20.0))
    rng = np.random.default_rng(0)
    inputs = [[rng.random((1, 192, 192, 3), dtype=np.float32) for _ in range(6)] for _ in range(8)]
    barrier = threading.Barrier(8)

    def caller(xs: list[NDArray[np.float32]]) -> list[dict[str, NDArray[np.float32]]]:
        out = []
        for x in xs:
            barrier.wait()
            out.append(batcher.run({"input_1": x}))
        return out

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(caller, inputs))
    for xs, outs in zip(inputs, results, strict=True):
        for x, got in zip(xs, outs, strict=True):
            want = model.run({"input_1": x})
            for name in want:
                assert got[name].shape == want[name].shape
                np.testing.assert_allclose(got[name], want[name], rtol=1e-5, atol=1e-4)
    assert batcher.stats.samples == 48
    assert batcher.stats.mean_batch > 2.0, batcher.stats
    batcher.close()


def test_a_lone_caller_is_not_held_and_no_caller_waits_past_the_deadline() -> None:
    batcher = fake_batcher(BatchConfig(max_batch=8, deadline_ms=60.0))
    x = np.ones((1, 3), np.float32)
    # A lone caller: its batch is complete (every active caller is in it), it runs at once.
    t0 = time.perf_counter()
    for _ in range(5):
        np.testing.assert_array_equal(batcher.run({"x": x})["y"], 2 * x)
    assert (time.perf_counter() - t0) * 1e3 < 5 * 30.0
    # Two active callers: each one's lone sample waits for the other's, but only until the
    # deadline (one sample each here, so each waits it out).
    waits: list[float] = []

    def timed_run() -> None:
        t0 = time.perf_counter()
        batcher.run({"x": x})
        waits.append((time.perf_counter() - t0) * 1e3)

    other = threading.Thread(target=timed_run)
    other.start()
    other.join()
    timed_run()
    assert len(waits) == 2
    assert all(50.0 <= w <= 60.0 + 80.0 for w in waits), waits
    assert batcher.stats.waited_ms_max <= 60.0 + 80.0
    batcher.close()


def test_waiting_stops_when_it_gathers_nothing() -> None:
    """Two active callers that never overlap: the first waits run to the deadline, then the
    batcher learns that waiting gathers nothing and stops (but for a probe every 16th batch)."""
    batcher = fake_batcher(BatchConfig(max_batch=8, deadline_ms=30.0))
    x = np.ones((1, 1), np.float32)
    waits = []
    with ThreadPoolExecutor(2) as pool:
        for i in range(14):
            t0 = time.perf_counter()
            pool.submit(batcher.run, {"x": x}).result() if i % 2 else batcher.run({"x": x})
            waits.append((time.perf_counter() - t0) * 1e3)
    assert min(waits[1:3]) >= 25.0, waits
    assert max(waits[-6:]) < 15.0, waits
    batcher.close()


def test_a_failing_batch_fails_only_its_callers() -> None:
    """A NaN sample makes its batch raise: the callers in that batch get BatchFailedError, the
    batches before and after return their results, and the batcher goes on."""

    def poison(x: NDArray[Any]) -> None:
        if np.isnan(x).any():
            raise ValueError("NaN in the batch")

    batcher = fake_batcher(BatchConfig(max_batch=4, deadline_ms=200.0), poison)
    gate = threading.Barrier(4)

    def caller(value: float) -> tuple[str, float]:
        gate.wait()
        try:
            return "ok", float(batcher.run({"x": np.full((1, 2), value, np.float32)})["y"][0, 0])
        except BatchFailedError as exc:
            return ("failed" if isinstance(exc.__cause__, ValueError) else "other"), value

    with ThreadPoolExecutor(4) as pool:
        bad = list(pool.map(caller, [1.0, 2.0, float("nan"), 3.0]))
        good = list(pool.map(caller, [1.0, 2.0, 3.0, 4.0]))
    assert bad[2][0] == "failed"
    assert all(status in ("ok", "failed") for status, _ in bad)
    assert all(v == 2 * x for (status, v), x in zip(bad, [1.0, 2.0, 0.0, 3.0], strict=True) if status == "ok")
    assert good == [("ok", 2.0), ("ok", 4.0), ("ok", 6.0), ("ok", 8.0)]
    assert batcher.stats.failed_batches >= 1
    assert batcher.stats.failed_batches < batcher.stats.batches
    batcher.close()


def test_the_queue_is_bounded() -> None:
    """While one batch runs (held here), ``max_queue`` samples wait; the next is refused at once."""
    release, running = threading.Event(), threading.Event()

    def hold(_: NDArray[Any]) -> None:
        running.set()
        release.wait(5.0)

    batcher = fake_batcher(BatchConfig(max_batch=1, deadline_ms=0.0, max_queue=2), hold)
    x = np.ones((1, 1), np.float32)
    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(batcher.run, {"x": x})
        assert running.wait(5.0)
        queued = [pool.submit(batcher.run, {"x": x}) for _ in range(2)]
        deadline = time.monotonic() + 5.0
        while batcher._queued_rows < 2 and time.monotonic() < deadline:
            time.sleep(0.005)
        t0 = time.perf_counter()
        with pytest.raises(BatchQueueFullError, match="max_queue 2"):
            batcher.run({"x": x})
        assert time.perf_counter() - t0 < 0.1
        release.set()
        assert [f.result()["y"][0, 0] for f in [first, *queued]] == [2.0, 2.0, 2.0]
    assert batcher.stats.refused == 1
    batcher.close()


def test_loaders_share_one_batched_session_per_model(store: ModelStore) -> None:
    config = RuntimeConfig(providers=("cpu",), threads=1, batching=BatchConfig(deadline_ms=2.0))
    a, b = ModelLoader(store, config), ModelLoader(store, config)
    fa, fb = a.load("face_landmark"), b.load("face_landmark")
    assert isinstance(fa, BatchedModel)
    assert isinstance(fb, BatchedModel)
    assert fa.batcher is fb.batcher
    assert fa.inputs == {"input_1": ((1, 192, 192, 3), np.float32)}
    assert not isinstance(a.load("face_detection_short_range"), BatchedModel)  # detectors: batch 1
    plain = ModelLoader(store, RuntimeConfig(providers=("cpu",), threads=1)).load("face_landmark")
    assert not isinstance(plain, BatchedModel)
    assert len(batchers()) == 1


def test_pipelines_on_threads_perceive_the_same_with_batching(
    store: ModelStore, camera_scene: NDArray[np.uint8]
) -> None:
    """Four perception pipelines on four threads (a server's sessions), faces with iris and
    segmentation: batched results equal the unbatched ones within float tolerance."""
    frames = [np.ascontiguousarray(np.roll(camera_scene, 8 * i, axis=1)) for i in range(4)]

    def perceive(batching: BatchConfig | None) -> list[Any]:
        runtime = RuntimeConfig(providers=("cpu",), threads=1, batching=batching)
        config = PerceptionConfig(iris=True, segmentation=True, runtime=runtime)
        pipelines = [Perception(config, ModelLoader(store, runtime)) for _ in frames]

        def run(k: int) -> Any:
            return [pipelines[k].process(frames[k], t / 30) for t in range(3)][-1]

        with ThreadPoolExecutor(len(frames)) as pool:
            out = list(pool.map(run, range(len(frames))))
        assert all(not p.failures for p in pipelines)
        return out

    plain = perceive(None)
    batched = perceive(BatchConfig(max_batch=8, deadline_ms=10.0))
    for p, q in zip(plain, batched, strict=True):
        assert len(p.faces) == len(q.faces) == 1
        np.testing.assert_allclose(q.faces[0].landmarks, p.faces[0].landmarks, atol=1e-2)
        assert p.segmentation is not None
        assert q.segmentation is not None
        np.testing.assert_allclose(q.segmentation.mask, p.segmentation.mask, atol=1e-4)
    assert {b.model.name for b in batchers()} >= {"face_landmark", "iris_landmark", "selfie_segmentation"}
    assert max(b.stats.mean_batch for b in batchers()) > 1.0


def test_a_failed_batch_is_a_failed_frame_of_its_stage(
    store: ModelStore, camera_scene: NDArray[np.uint8], monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = RuntimeConfig(providers=("cpu",), threads=1, batching=BatchConfig(deadline_ms=1.0))
    perception = Perception(PerceptionConfig(segmentation=True, runtime=runtime), ModelLoader(store, runtime))
    assert perception.process(camera_scene).segmentation is not None
    (batcher,) = (b for b in batchers() if b.model.name == "selfie_segmentation")

    def broken(feeds: Mapping[str, NDArray[Any]]) -> dict[str, NDArray[np.float32]]:
        raise RuntimeError("device lost")

    monkeypatch.setattr(batcher.model, "run", broken)
    result = perception.process(camera_scene)
    assert result.errors == ["segmentation"]
    assert perception.failures["segmentation"] == 1
    assert result.faces  # the other stage went on
    monkeypatch.undo()
    assert perception.process(camera_scene).segmentation is not None


def test_serve_batch_turns_batching_on(tmp_path: Path) -> None:
    import argparse

    from tryon.cli.serve import build_config, register

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    key_file = tmp_path / "host.key"
    key_file.write_text("file-key-0123456789abcdef\n")
    key_file.chmod(0o600)
    base = ["serve", "--host-key-file", str(key_file)]
    assert build_config(parser.parse_args(base)).runtime.batching is None
    config = build_config(parser.parse_args([*base, "--batch", "--batch-deadline-ms", "6"]))
    assert config.runtime.batching == BatchConfig(deadline_ms=6.0)
    assert not config.runtime.allow_spinning
