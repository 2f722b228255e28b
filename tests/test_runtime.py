"""The ONNX Runtime layer: explicit provider choice with one-line CPU fallback, typed sessions."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest

from tryon.errors import InputError, RuntimeSetupError
from tryon.runtime import providers
from tryon.runtime.prune import prune_outputs
from tryon.runtime.session import ModelLoader, OnnxModel, RuntimeConfig
from tryon.runtime.store import ModelStore

ALL = ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"]


@pytest.fixture
def fake_machine(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """Pretend onnxruntime-gpu is installed; each test sets the GPU count and TensorRT presence."""
    monkeypatch.setattr(providers.ort, "get_available_providers", lambda: list(ALL))
    monkeypatch.delenv("TRYON_PROVIDERS", raising=False)
    providers._warn_once.cache_clear()
    return monkeypatch


def set_gpu(mp: pytest.MonkeyPatch, gpus: int, trt: bool) -> None:
    mp.setattr(providers, "cuda_device_count", lambda: gpus)
    mp.setattr(providers, "tensorrt_libraries_present", lambda: trt)


def test_auto_without_gpu_is_cpu_with_one_log_line(
    fake_machine: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    set_gpu(fake_machine, 0, False)
    with caplog.at_level(logging.INFO, logger="tryon"):
        assert providers.choose_providers() == ["CPUExecutionProvider"]
        assert providers.choose_providers() == ["CPUExecutionProvider"]
    lines = [r for r in caplog.records if r.name.startswith("tryon.runtime")]
    assert len(lines) == 1
    assert "no CUDA GPU" in lines[0].getMessage()


def test_auto_prefers_tensorrt_then_cuda(fake_machine: pytest.MonkeyPatch) -> None:
    set_gpu(fake_machine, 1, True)
    assert providers.choose_providers() == ALL
    providers._warn_once.cache_clear()
    set_gpu(fake_machine, 1, False)
    assert providers.choose_providers() == ["CUDAExecutionProvider", "CPUExecutionProvider"]


def test_requested_cuda_without_gpu_falls_back_with_warning(
    fake_machine: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    set_gpu(fake_machine, 0, False)
    with caplog.at_level(logging.WARNING, logger="tryon"):
        assert providers.choose_providers(["cuda"]) == ["CPUExecutionProvider"]
    (record,) = [r for r in caplog.records if r.name.startswith("tryon.runtime")]
    assert "falling back to CPUExecutionProvider" in record.getMessage()
    assert "no CUDA GPU" in record.getMessage()


def test_configuration_by_environment(fake_machine: pytest.MonkeyPatch) -> None:
    set_gpu(fake_machine, 1, True)
    fake_machine.setenv("TRYON_PROVIDERS", "cuda,cpu")
    assert providers.choose_providers() == ["CUDAExecutionProvider", "CPUExecutionProvider"]
    fake_machine.setenv("TRYON_PROVIDERS", "cpu")
    assert providers.choose_providers() == ["CPUExecutionProvider"]


def test_unknown_provider_is_an_error(fake_machine: pytest.MonkeyPatch) -> None:
    set_gpu(fake_machine, 0, False)
    with pytest.raises(RuntimeSetupError, match=r"unknown execution provider 'quantum'"):
        providers.choose_providers(["quantum"])


def test_thread_count_from_config_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert RuntimeConfig(threads=3).thread_count() == 3
    monkeypatch.setenv("TRYON_THREADS", "1")
    assert RuntimeConfig().thread_count() == 1
    monkeypatch.setenv("TRYON_THREADS", "many")
    with pytest.raises(RuntimeSetupError, match="TRYON_THREADS"):
        RuntimeConfig().thread_count()


@pytest.fixture(scope="module")
def face_landmark(store: ModelStore) -> OnnxModel:
    return ModelLoader(store, RuntimeConfig(providers=("cpu",), threads=1)).load("face_landmark")


def test_session_runs_on_cpu_with_named_outputs(face_landmark: OnnxModel) -> None:
    assert face_landmark.provider == "CPUExecutionProvider"
    assert not face_landmark.on_gpu
    out = face_landmark.run_single(np.zeros((1, 192, 192, 3), np.float32))
    assert set(out) == {"conv2d_21", "conv2d_31"}
    assert out["conv2d_21"].shape == (1, 1, 1, 1404)


def test_session_rejects_wrong_shapes_and_names(face_landmark: OnnxModel) -> None:
    with pytest.raises(InputError, match=r"expected shape \(1, 192, 192, 3\), got \(1, 3, 192, 192\)"):
        face_landmark.run_single(np.zeros((1, 3, 192, 192), np.float32))
    with pytest.raises(InputError, match=r"expected inputs \['input_1'\], got \['image'\]"):
        face_landmark.run({"image": np.zeros((1, 192, 192, 3), np.float32)})


def test_session_casts_float64_input(face_landmark: OnnxModel) -> None:
    x = np.random.default_rng(0).random((1, 192, 192, 3))
    a = face_landmark.run_single(x)["conv2d_21"]
    b = face_landmark.run_single(x.astype(np.float32))["conv2d_21"]
    np.testing.assert_array_equal(a, b)


@pytest.mark.skipif(providers.cuda_device_count() == 0, reason="needs a CUDA GPU")
def test_gpu_session_uses_io_binding_and_matches_cpu(store: ModelStore) -> None:
    gpu = ModelLoader(store, RuntimeConfig(providers=("cuda", "cpu"))).load("face_landmark")
    cpu = ModelLoader(store, RuntimeConfig(providers=("cpu",))).load("face_landmark")
    assert gpu.on_gpu
    x = np.random.default_rng(0).random((1, 192, 192, 3), dtype=np.float32)
    for _ in range(2):  # the bound buffers are reused across runs
        g, c = gpu.run_single(x), cpu.run_single(x)
        np.testing.assert_allclose(g["conv2d_21"], c["conv2d_21"], rtol=1e-3, atol=1e-2)


def test_pruned_outputs_keep_their_values_and_drop_the_rest(
    store: ModelStore, face_landmark: OnnxModel
) -> None:
    """Keeping one output of two: that output is unchanged, the other is gone, and nodes that
    only fed the dropped output are removed from the graph."""
    full = onnx.load(str(store.path("face_landmark")))
    pruned = prune_outputs(full, [1])
    assert [o.name for o in pruned.graph.output] == ["conv2d_31"]
    assert 0 < len(pruned.graph.node) < len(full.graph.node)
    assert len(pruned.graph.initializer) < len(full.graph.initializer)
    assert len(full.graph.output) == 2, "pruning must not touch the original"
    light = ModelLoader(store, RuntimeConfig(providers=("cpu",), threads=1)).load(
        "face_landmark", outputs=[1]
    )
    x = np.random.default_rng(0).random((1, 192, 192, 3), dtype=np.float32)
    np.testing.assert_array_equal(light.run_single(x)["conv2d_31"], face_landmark.run_single(x)["conv2d_31"])
    for bad in ([], [2], [-1]):
        with pytest.raises(InputError, match=r"expected indices in 0\.\.1, got"):
            prune_outputs(full, bad)


SHARED_POOL_SCRIPT = """
import json, sys
import numpy as np
from tryon.runtime.session import ModelLoader, RuntimeConfig, shared_pool_threads
from tryon.runtime.store import ModelStore
store = ModelStore()
assert shared_pool_threads() is None
shared = RuntimeConfig(providers=("cpu",), threads=2, shared_threads=True)
a = ModelLoader(store, shared).load("face_landmark")
# a config without the shared pool joins it once it exists
b = ModelLoader(store, RuntimeConfig(providers=("cpu",), threads=1)).load("face_landmark")
x = np.random.default_rng(0).random((1, 192, 192, 3), dtype=np.float32)
ya, yb = a.run_single(x)["conv2d_21"], b.run_single(x)["conv2d_21"]
print(json.dumps({"threads": shared_pool_threads(), "diff": float(np.abs(ya - yb).max())}))
"""


def test_shared_thread_pool_serves_every_session_in_the_process(store: ModelStore) -> None:
    """The shared pool is process-wide, so this runs in a child process: the first config makes
    a pool of its size, later sessions (even ones asking for their own pool) join it, and the
    results are those of the same model."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    done = subprocess.run(
        [sys.executable, "-c", SHARED_POOL_SCRIPT], capture_output=True, text=True, timeout=120, env=env
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"threads": 2, "diff": 0.0}, result
