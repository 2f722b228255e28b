"""One place that opens ONNX Runtime sessions and runs them, with I/O binding on GPU."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import onnx
import onnxruntime as ort
from numpy.typing import NDArray
from onnxruntime.capi import _pybind_state

from tryon.errors import InputError, RuntimeSetupError
from tryon.runtime.provider_options import ModelKey, file_sha256, prepare
from tryon.runtime.providers import CPU, CUDA, GPU_PROVIDERS, TENSORRT, choose_providers, warn_once
from tryon.runtime.prune import prune_outputs
from tryon.runtime.store import ModelStore
from tryon.timing import step

if TYPE_CHECKING:
    from tryon.runtime.batcher import BatchConfig

logger = logging.getLogger(__name__)

_NP_TYPES: dict[str, type[Any]] = {
    "tensor(float)": np.float32,
    "tensor(uint8)": np.uint8,
    "tensor(int32)": np.int32,
    "tensor(int64)": np.int64,
}


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
    """Root of the TensorRT engine cache (a folder per model, keyed by its sha256:
    :mod:`tryon.runtime.provider_options`); ``None``: ``$TRYON_TRT_CACHE`` or ``~/.cache/tryon/tensorrt``."""
    fp16: bool = False
    """TensorRT builds fp16 engines. Off until parity is measured on a GPU (``benchmarks/gpu_check.sh``)."""
    trt_workspace_bytes: int = 2 << 30
    trt_max_batch: int = 8
    """TensorRT's profile for dynamic-batch models: batch 1 to this (the batcher's ``max_batch``)."""
    cudnn_conv_algo_search: str = "HEURISTIC"
    gpu_preprocess: bool = False
    """Landmark stages feed the whole frame and the crop's affine map to the model, fused with a
    small crop-resize-normalise graph (:mod:`tryon.runtime.preprocess_graph`): one host→device
    copy per frame on a GPU. Off by default: on CPU it is slower than OpenCV's crop."""
    io_binding: bool | None = None
    """Run through reused bound ``OrtValue`` buffers; ``None``: on a GPU provider only."""
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


class OnnxModel:
    """A loaded model with one typed ``run`` per call: named arrays in, named arrays out."""

    def __init__(
        self,
        path: Path,
        name: str,
        config: RuntimeConfig | None = None,
        outputs: Sequence[int] | None = None,
        *,
        sha256: str | None = None,
        transform: Callable[[onnx.ModelProto], onnx.ModelProto] | None = None,
        variant: str = "",
    ) -> None:
        """``outputs``: indices of the graph outputs to compute (``None``: all); the nodes only the
        others need are removed before the session is made (see :mod:`tryon.runtime.prune`).
        ``sha256``: the file's (the manifest's; computed when TensorRT needs it and it is not
        given). ``transform``: applied to the graph before the session is made (a fused
        preprocessing graph), named by ``variant`` in the TensorRT cache key."""
        self.name = name
        self.path = Path(path)
        self.config = config or RuntimeConfig()
        wanted = choose_providers(self.config.providers)
        source: str | bytes = str(self.path)
        key = None
        if outputs is not None or transform is not None or TENSORRT in wanted:
            try:
                proto = onnx.load(str(self.path))
            except Exception as exc:  # onnx raises DecodeError, OSError, ...
                raise RuntimeSetupError(f"model {name!r}: cannot read {self.path}: {exc}") from exc
            if outputs is not None:
                proto = prune_outputs(proto, outputs)
            if transform is not None:
                proto = transform(proto)
            if outputs is not None or transform is not None:
                source = proto.SerializeToString()
            parts = ([f"out{'.'.join(map(str, outputs))}"] if outputs is not None else []) + [variant]
            key = ModelKey(
                name, sha256 or file_sha256(self.path), graph_inputs(proto), "-".join(p for p in parts if p)
            )
        try:
            self.session = ort.InferenceSession(
                source,
                sess_options=session_options(self.config),
                providers=wanted,
                provider_options=prepare(wanted, key, self.config),
            )
        except Exception as exc:  # onnxruntime raises its own exception types
            raise RuntimeSetupError(f"model {name!r}: cannot open {self.path}: {exc}") from exc
        self.providers: list[str] = list(self.session.get_providers())
        if self.providers[0] != wanted[0]:
            warn_once(f"ONNX Runtime could not start {wanted[0]}: running models on {self.providers[0]}")
        graph_in = self.session.get_inputs()
        self.dynamic_batch = bool(graph_in) and all(
            i.shape and not isinstance(i.shape[0], int) for i in graph_in
        )
        """The model takes any batch (its first dimension is symbolic): ``run`` accepts ``(N, ...)``."""
        self.inputs = {i.name: (_concrete(i.shape), _NP_TYPES.get(i.type, np.float32)) for i in graph_in}
        """Input shapes for one sample (a symbolic batch reads 1) and dtypes."""
        self.input_dims: dict[str, tuple[int | str | None, ...]] = {i.name: tuple(i.shape) for i in graph_in}
        """Input shapes as the graph declares them: a symbolic dimension is its name."""
        self.output_names = [o.name for o in self.session.get_outputs()]
        self.on_gpu = self.providers[0] in GPU_PROVIDERS
        bind = self.config.io_binding if self.config.io_binding is not None else self.on_gpu
        self._binding: IoBinding | None = IoBinding(self, "cuda" if self.on_gpu else "cpu") if bind else None

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
            dims, dtype = self.input_dims[key], self.inputs[key][1]
            got = tuple(arr.shape)
            if len(got) != len(dims) or any(
                g != d if isinstance(d, int) else g == 0 for g, d in zip(got, dims, strict=True)
            ):
                raise InputError(
                    f"model {self.name!r} input {key!r}: expected shape {self.inputs[key][0]}, "
                    f"got {arr.shape}"
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


def graph_inputs(proto: onnx.ModelProto) -> dict[str, tuple[int | str, ...]]:
    """The graph's inputs (initializers excluded) and their shapes; a symbolic dimension is its name."""
    inits = {i.name for i in proto.graph.initializer}
    return {
        i.name: tuple(
            d.dim_param if d.HasField("dim_param") else int(d.dim_value) for d in i.type.tensor_type.shape.dim
        )
        for i in proto.graph.input
        if i.name not in inits
    }


class IoBinding:
    """Reused bound input ``OrtValue`` buffers on ``device`` and host output buffers.

    The inputs are copied host→device once per run into the reused ``OrtValue`` s (on CPU the
    same code path with CPU ``OrtValue`` s); outputs are written by ONNX Runtime straight into
    preallocated host arrays (one device→host copy each). One set of buffers per set of input
    shapes (batch size, frame size), the most recent :data:`MAX_SHAPES` kept.
    """

    MAX_SHAPES = 16

    def __init__(self, model: OnnxModel, device: str) -> None:
        self.model = model
        self.device = device
        self._by_shape: dict[
            tuple[tuple[int, ...], ...], tuple[Any, dict[str, Any], dict[str, NDArray[Any]]]
        ] = {}

    def _buffers(
        self, feeds: Mapping[str, NDArray[Any]]
    ) -> tuple[Any, dict[str, Any], dict[str, NDArray[Any]]]:
        key = tuple(tuple(a.shape) for a in feeds.values())
        found = self._by_shape.pop(key, None)
        if found is None:
            found = self._make(feeds)
        self._by_shape[key] = found  # most recent last
        while len(self._by_shape) > self.MAX_SHAPES:
            del self._by_shape[next(iter(self._by_shape))]
        return found

    def _make(self, feeds: Mapping[str, NDArray[Any]]) -> tuple[Any, dict[str, Any], dict[str, NDArray[Any]]]:
        model = self.model
        binding = model.session.io_binding()
        symbols: dict[str, int] = {}
        for name, arr in feeds.items():
            for d, g in zip(model.input_dims[name], arr.shape, strict=True):
                if isinstance(d, str):
                    symbols[d] = int(g)
        inputs = {
            name: ort.OrtValue.ortvalue_from_shape_and_type(
                list(arr.shape), arr.dtype, self.device, model.config.device_id
            )
            for name, arr in feeds.items()
        }
        for name, value in inputs.items():
            binding.bind_ortvalue_input(name, value)
        outputs: dict[str, NDArray[Any]] = {}
        for o in model.session.get_outputs():
            dims = [
                d if isinstance(d, int) else symbols.get(d) if isinstance(d, str) else None for d in o.shape
            ]
            shape = [d for d in dims if d is not None]
            if len(shape) != len(dims):
                raise RuntimeSetupError(
                    f"model {model.name!r}: output {o.name!r} has an unknown shape {o.shape}"
                )
            buf = np.empty(shape, dtype=_NP_TYPES.get(o.type, np.float32))
            outputs[o.name] = buf
            binding.bind_output(o.name, "cpu", 0, buf.dtype, buf.shape, buf.ctypes.data)
        return binding, inputs, outputs

    def run(self, feeds: Mapping[str, NDArray[Any]]) -> dict[str, NDArray[Any]]:
        binding, inputs, outputs = self._buffers(feeds)
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
        return OnnxModel(path, name, self.config, outputs, sha256=self.store.entry(name).sha256)

    def load_cropping(self, name: str) -> OnnxModel:
        """Landmark model ``name`` with the crop graph fused in front
        (:mod:`tryon.runtime.preprocess_graph`): inputs ``frame`` and ``affine``. Never batched
        across sessions (the samples of one call share a frame)."""
        from tryon.runtime.preprocess_graph import VARIANT, fuse_crop
        from tryon.runtime.specs import SPECS_BY_NAME

        spec = SPECS_BY_NAME.get(name)
        if spec is None or not spec.batch:
            raise RuntimeSetupError(f"model {name!r}: no fused crop (not a landmark model)")
        value_range = spec.input_range
        return OnnxModel(
            self.store.path(name),
            name,
            self.config,
            sha256=self.store.entry(name).sha256,
            transform=lambda proto: fuse_crop(proto, value_range),
            variant=VARIANT,
        )


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
