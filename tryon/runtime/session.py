"""One place that opens ONNX Runtime sessions and runs them, with I/O binding on GPU."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import onnx
import onnxruntime as ort
from numpy.typing import NDArray
from onnxruntime.capi import _pybind_state

from tryon.errors import InputError, RuntimeSetupError
from tryon.runtime.providers import CPU, CUDA, GPU_PROVIDERS, TENSORRT, choose_providers
from tryon.runtime.prune import prune_outputs
from tryon.runtime.store import ModelStore
from tryon.timing import step

if TYPE_CHECKING:
    from tryon.runtime.batcher import BatchConfig

logger = logging.getLogger(__name__)

_NP_TYPES = {"tensor(float)": np.float32, "tensor(int32)": np.int32, "tensor(int64)": np.int64}


@dataclass(frozen=True)
class RuntimeConfig:
    providers: tuple[str, ...] | None = None
    """Provider preference (``("cuda", "cpu")``); ``None`` chooses automatically."""
    threads: int | None = None
    """Intra-op threads; ``None`` uses ``$TRYON_THREADS`` or the CPU count."""
    optimization: ort.GraphOptimizationLevel = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    allow_spinning: bool = False
    """Per-session pools only: let idle intra-op threads spin after a run. Faster for one model
    run in a loop alone (the model benchmarks turn it on); off by default because a pipeline's
    sessions take turns, and each one's spinning threads take the cores from the next model (the
    garment pipeline measured 2× slower with spinning on 2 cores, ``benchmarks/README.md``)."""
    shared_threads: bool = False
    """One intra-op thread pool for every session in the process instead of one per session.

    A pipeline runs five or six models one after the other; one pool of warm threads serves
    them all (the garment pipeline runs ~20% faster than with a pool per session on 2 cores).
    The shared pool spins briefly after each run (only ONNX Runtime's C API can turn that off),
    which costs a server whose video codecs share the cores (measured: the server keeps its
    pools per session). Process-wide and irreversible: once the
    shared pool exists, ONNX Runtime refuses sessions with their own pool, so tryon's own
    sessions all use it and any other session in the process must set
    ``SessionOptions.use_per_session_threads = False``. The pool's size is the first config's
    :meth:`thread_count`. Meant for processes that run pipelines and nothing else on the
    cores (batch jobs, benchmarks); the live server does not use it."""
    batching: BatchConfig | None = None
    """Run the dynamic-batch models (landmarks, segmentation) of every pipeline in the process
    through one shared session each, batching the sessions' samples
    (:mod:`tryon.runtime.batcher`); ``None``: each pipeline runs its own sessions at batch 1."""
    device_id: int = 0
    trt_cache_dir: Path | None = None
    extra_session_options: dict[str, str] = field(default_factory=dict)

    def thread_count(self) -> int:
        if self.threads is not None:
            return max(1, self.threads)
        env = os.environ.get("TRYON_THREADS")
        if env:
            try:
                return max(1, int(env))
            except ValueError as exc:
                raise RuntimeSetupError(f"TRYON_THREADS: expected an integer, got {env!r}") from exc
        return max(1, os.cpu_count() or 1)


_pool_lock = threading.Lock()
_shared_pool_threads: int | None = None


def shared_pool_threads() -> int | None:
    """The size of the process-wide ONNX Runtime thread pool, or ``None`` if none was made."""
    return _shared_pool_threads


def _use_shared_pool(threads: int) -> None:
    """Make the process-wide pool on first call (later calls use it, whatever its size)."""
    global _shared_pool_threads
    with _pool_lock:
        if _shared_pool_threads is None:
            try:
                _pybind_state.set_global_thread_pool_sizes(threads, 1)
            except Exception as exc:  # onnxruntime raises its own exception types
                raise RuntimeSetupError(
                    f"shared_threads: ONNX Runtime could not make a shared pool of {threads} threads: {exc}"
                ) from exc
            _shared_pool_threads = threads
            logger.info("ONNX Runtime: one thread pool of %d threads shared by every session", threads)
        elif _shared_pool_threads != threads:
            logger.debug(
                "shared pool has %d threads; a config asking %d uses it", _shared_pool_threads, threads
            )


def session_options(config: RuntimeConfig) -> ort.SessionOptions:
    so = ort.SessionOptions()
    if config.shared_threads or _shared_pool_threads is not None:
        # Once the shared pool exists ONNX Runtime refuses per-session pools: use it.
        _use_shared_pool(config.thread_count())
        so.use_per_session_threads = False
    else:
        so.intra_op_num_threads = config.thread_count()
        so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = config.optimization
    so.log_severity_level = 3
    so.add_session_config_entry("session.intra_op.allow_spinning", "1" if config.allow_spinning else "0")
    for key, value in config.extra_session_options.items():
        so.add_session_config_entry(key, value)
    return so


def _provider_options(providers: Sequence[str], config: RuntimeConfig) -> list[dict[str, Any]]:
    opts: list[dict[str, Any]] = []
    for p in providers:
        if p == TENSORRT:
            o: dict[str, Any] = {"device_id": config.device_id, "trt_fp16_enable": False}
            if config.trt_cache_dir is not None:
                o.update(trt_engine_cache_enable=True, trt_engine_cache_path=str(config.trt_cache_dir))
            opts.append(o)
        elif p == CUDA:
            opts.append({"device_id": config.device_id, "cudnn_conv_algo_search": "HEURISTIC"})
        else:
            opts.append({})
    return opts


class OnnxModel:
    """A loaded model with one typed ``run`` per call: named float arrays in, named arrays out."""

    def __init__(
        self,
        path: Path,
        name: str,
        config: RuntimeConfig | None = None,
        outputs: Sequence[int] | None = None,
    ) -> None:
        """``outputs``: indices of the graph outputs to compute (``None``: all); the nodes only the
        others need are removed before the session is made (see :mod:`tryon.runtime.prune`)."""
        self.name = name
        self.path = Path(path)
        self.config = config or RuntimeConfig()
        wanted = choose_providers(self.config.providers)
        source: str | bytes = str(self.path)
        if outputs is not None:
            try:
                full = onnx.load(str(self.path))
            except Exception as exc:  # onnx raises DecodeError, OSError, ...
                raise RuntimeSetupError(f"model {name!r}: cannot read {self.path}: {exc}") from exc
            source = prune_outputs(full, outputs).SerializeToString()
        try:
            self.session = ort.InferenceSession(
                source,
                sess_options=session_options(self.config),
                providers=wanted,
                provider_options=_provider_options(wanted, self.config),
            )
        except Exception as exc:  # onnxruntime raises its own exception types
            raise RuntimeSetupError(f"model {name!r}: cannot open {self.path}: {exc}") from exc
        self.providers: list[str] = list(self.session.get_providers())
        if self.providers[0] != wanted[0]:
            logger.warning(
                "model %s: %s could not be used, running on %s", name, wanted[0], self.providers[0]
            )
        graph_inputs = self.session.get_inputs()
        self.dynamic_batch = bool(graph_inputs) and all(
            i.shape and not isinstance(i.shape[0], int) for i in graph_inputs
        )
        """The model takes any batch (its first dimension is symbolic): ``run`` accepts ``(N, ...)``."""
        self.inputs = {i.name: (_concrete(i.shape), _NP_TYPES.get(i.type, np.float32)) for i in graph_inputs}
        """Input shapes for one sample (a symbolic batch reads 1) and dtypes."""
        self.output_names = [o.name for o in self.session.get_outputs()]
        self.on_gpu = self.providers[0] in GPU_PROVIDERS
        self._binding: _GpuBinding | None = _GpuBinding(self) if self.on_gpu else None

    @property
    def output_shapes(self) -> tuple[tuple[int, ...], ...]:
        """The outputs' shapes for one sample (a symbolic batch reads 1)."""
        return tuple(_concrete(o.shape) for o in self.session.get_outputs())

    @property
    def provider(self) -> str:
        return self.providers[0]

    def check_inputs(self, feeds: Mapping[str, NDArray[Any]]) -> dict[str, NDArray[Any]]:
        if set(feeds) != set(self.inputs):
            raise InputError(
                f"model {self.name!r}: expected inputs {sorted(self.inputs)}, got {sorted(feeds)}"
            )
        out = {}
        for key, arr in feeds.items():
            shape, dtype = self.inputs[key]
            got = tuple(arr.shape)
            if self.dynamic_batch and len(got) == len(shape) and got[:1] != (0,):
                got = (1, *got[1:])
            if got != shape:
                raise InputError(
                    f"model {self.name!r} input {key!r}: expected shape {shape}, got {arr.shape}"
                )
            out[key] = np.ascontiguousarray(arr, dtype=dtype)
        return out

    def run(self, feeds: Mapping[str, NDArray[Any]]) -> dict[str, NDArray[np.float32]]:
        """Run one inference. Outputs are host arrays, keyed by the model's output names."""
        with step("model"):
            checked = self.check_inputs(feeds)
            if self._binding is not None:
                return self._binding.run(checked)
            values = self.session.run(self.output_names, checked)
            return dict(zip(self.output_names, values, strict=True))

    def run_single(self, x: NDArray[np.float32]) -> dict[str, NDArray[np.float32]]:
        (name,) = self.inputs
        return self.run({name: x})


def _concrete(shape: Sequence[Any]) -> tuple[int, ...]:
    """A shape with its symbolic dimensions (a dynamic batch) read as 1."""
    return tuple(d if isinstance(d, int) else 1 for d in shape)


class _GpuBinding:
    """Persistent device input buffers and host output buffers: no allocation per frame.

    The input is copied host→device once into a reused device ``OrtValue``; outputs are written
    by ONNX Runtime straight into preallocated host arrays (one device→host copy each). A model
    with a dynamic batch keeps one set of buffers per batch size it has run.
    """

    def __init__(self, model: OnnxModel) -> None:
        self.model = model
        self._by_batch: dict[int, tuple[Any, dict[str, Any], dict[str, NDArray[np.float32]]]] = {}

    def _buffers(self, batch: int) -> tuple[Any, dict[str, Any], dict[str, NDArray[np.float32]]]:
        if batch in self._by_batch:
            return self._by_batch[batch]
        model = self.model
        binding = model.session.io_binding()
        inputs = {
            name: ort.OrtValue.ortvalue_from_shape_and_type(
                [batch, *shape[1:]], dtype, "cuda", model.config.device_id
            )
            for name, (shape, dtype) in model.inputs.items()
        }
        for name, value in inputs.items():
            binding.bind_ortvalue_input(name, value)
        outputs: dict[str, NDArray[np.float32]] = {}
        for o in model.session.get_outputs():
            shape = list(_concrete(o.shape))
            if model.dynamic_batch:
                shape[0] = batch
            buf = np.empty(shape, dtype=_NP_TYPES.get(o.type, np.float32))
            outputs[o.name] = buf
            binding.bind_output(o.name, "cpu", 0, buf.dtype, buf.shape, buf.ctypes.data)
        self._by_batch[batch] = (binding, inputs, outputs)
        return self._by_batch[batch]

    def run(self, feeds: Mapping[str, NDArray[Any]]) -> dict[str, NDArray[np.float32]]:
        batch = int(next(iter(feeds.values())).shape[0]) if self.model.dynamic_batch else 1
        binding, inputs, outputs = self._buffers(batch)
        for name, arr in feeds.items():
            inputs[name].update_inplace(arr)
        self.model.session.run_with_iobinding(binding)
        return {k: v.copy() for k, v in outputs.items()}


class ModelLoader:
    """Opens models from a :class:`ModelStore` with one :class:`RuntimeConfig`."""

    def __init__(self, store: ModelStore | None = None, config: RuntimeConfig | None = None) -> None:
        self.store = store or ModelStore()
        self.config = config or RuntimeConfig()

    def load(self, name: str, outputs: Sequence[int] | None = None) -> OnnxModel:
        """Open model ``name``; ``outputs``: the indices of the outputs to keep (``None``: all).
        With ``config.batching``, a dynamic-batch model is the process's shared one, batched."""
        path = self.store.path(name)
        if self.config.batching is not None and self.store.entry(name).dynamic_batch:
            from tryon.runtime.batcher import BatchedModel, shared_batcher

            return BatchedModel(shared_batcher(path, name, self.config, outputs))
        return OnnxModel(path, name, self.config, outputs)


__all__ = [
    "CPU",
    "CUDA",
    "TENSORRT",
    "ModelLoader",
    "OnnxModel",
    "RuntimeConfig",
    "session_options",
    "shared_pool_threads",
]
