"""The options each execution provider is opened with: pure functions of a model and a config.

TensorRT builds an engine per model (minutes for the larger ones) and caches it on disk. ONNX
Runtime names its cached engines after the graph, not the weights, so a changed model with the
same node names would load a stale engine: each model gets its own cache folder named after the
model file's sha256 (from the manifest), the outputs kept, the precision and the ONNX Runtime
version. Dynamic-batch models get one optimisation profile for batch 1..``trt_max_batch``.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import onnxruntime as ort

from tryon.errors import RuntimeSetupError
from tryon.runtime.providers import CUDA, TENSORRT

if TYPE_CHECKING:
    from tryon.runtime.session import RuntimeConfig

CUDNN_SEARCH = ("EXHAUSTIVE", "HEURISTIC", "DEFAULT")


@dataclass(frozen=True)
class ModelKey:
    """What the provider options depend on for one model."""

    name: str
    sha256: str
    """The ONNX file's sha256 (the manifest's ``sha256``)."""
    inputs: Mapping[str, tuple[int | str, ...]]
    """Input shapes; a symbolic dimension is its name (``"batch"``)."""
    variant: str = ""
    """What the session runs besides the file as it is: kept outputs (``out0``), a fused
    preprocessing graph (``crop``); part of the cache key."""


def default_trt_cache_dir() -> Path:
    """``$TRYON_TRT_CACHE``, else ``$XDG_CACHE_HOME/tryon/tensorrt`` (``~/.cache/tryon/tensorrt``)."""
    env = os.environ.get("TRYON_TRT_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tryon" / "tensorrt"


def trt_cache_dir(config: RuntimeConfig) -> Path:
    """The root of the TensorRT engine cache for ``config`` (each model has a folder in it)."""
    return config.trt_cache_dir if config.trt_cache_dir is not None else default_trt_cache_dir()


def engine_folder(root: Path, key: ModelKey, fp16: bool) -> Path:
    """``root/<name>-<sha256[:16]>[-<variant>]-<fp16|fp32>-ort<version>``: a changed model, a
    different precision or another ONNX Runtime never reuses an engine built for the old one."""
    if len(key.sha256) < 16 or any(c not in "0123456789abcdef" for c in key.sha256.lower()):
        raise RuntimeSetupError(f"model {key.name!r}: expected a sha256 hex digest, got {key.sha256!r}")
    parts = [key.name, key.sha256.lower()[:16]]
    if key.variant:
        parts.append(key.variant)
    parts += ["fp16" if fp16 else "fp32", f"ort{ort.__version__}"]
    return root / "-".join(parts)


FRAME_DIMS = {"height": (16, 480, 2160), "width": (16, 640, 3840)}
"""TensorRT profile ranges (min, opt, max) of a fused model's frame (``preprocess_graph``)."""


def profile_shapes(inputs: Mapping[str, tuple[int | str, ...]], ranges: Mapping[str, int]) -> str:
    """``name:1x192x192x3,...`` for TensorRT's ``trt_profile_*_shapes``, each symbolic dimension
    set from ``ranges``; empty when no input has a symbolic dimension (a static model)."""
    if not any(isinstance(d, str) for shape in inputs.values() for d in shape):
        return ""
    out = []
    for name, shape in inputs.items():
        if ":" in name or "," in name:
            raise RuntimeSetupError(f"input {name!r}: TensorRT profiles cannot name it (':' or ',')")
        unknown = [d for d in shape if isinstance(d, str) and d not in ranges]
        if unknown:
            raise RuntimeSetupError(f"input {name!r}: no TensorRT profile range for dimension(s) {unknown}")
        out.append(f"{name}:" + "x".join(str(ranges[d] if isinstance(d, str) else d) for d in shape))
    return ",".join(out)


def tensorrt_options(key: ModelKey, config: RuntimeConfig) -> dict[str, Any]:
    """TensorRT's options for model ``key``: engine cache, precision, workspace, one profile with
    batch 1..``trt_max_batch`` (opt 4) and, for a fused crop, frames 16×16..3840×2160 (opt 640×480)."""
    folder = engine_folder(trt_cache_dir(config), key, config.fp16)
    opts: dict[str, Any] = {
        "device_id": config.device_id,
        "trt_fp16_enable": config.fp16,
        "trt_max_workspace_size": config.trt_workspace_bytes,
        "trt_engine_cache_enable": True,
        "trt_engine_cache_path": str(folder),
        "trt_timing_cache_enable": True,
        "trt_timing_cache_path": str(folder),
    }
    ranges = {"batch": (1, min(4, config.trt_max_batch), config.trt_max_batch), **FRAME_DIMS}
    for k, which in enumerate(("min", "opt", "max")):
        shapes = profile_shapes(key.inputs, {d: r[k] for d, r in ranges.items()})
        if shapes:
            opts[f"trt_profile_{which}_shapes"] = shapes
    return opts


def cuda_options(config: RuntimeConfig) -> dict[str, Any]:
    if config.cudnn_conv_algo_search not in CUDNN_SEARCH:
        raise RuntimeSetupError(
            f"cudnn_conv_algo_search: expected one of {CUDNN_SEARCH}, got {config.cudnn_conv_algo_search!r}"
        )
    return {
        "device_id": config.device_id,
        "cudnn_conv_algo_search": config.cudnn_conv_algo_search,
        "do_copy_in_default_stream": True,
    }


def provider_options(
    providers: Sequence[str], key: ModelKey | None, config: RuntimeConfig
) -> list[dict[str, Any]]:
    """One option dict per provider, in order (``{}`` for CPU and others); TensorRT needs ``key``."""
    out: list[dict[str, Any]] = []
    for p in providers:
        if p == TENSORRT:
            if key is None:
                raise RuntimeSetupError("TensorRT options need the model's key (its sha256 and inputs)")
            out.append(tensorrt_options(key, config))
        elif p == CUDA:
            out.append(cuda_options(config))
        else:
            out.append({})
    return out


def prepare(providers: Sequence[str], key: ModelKey | None, config: RuntimeConfig) -> list[dict[str, Any]]:
    """:func:`provider_options`, with the engine folder made when TensorRT is among them."""
    opts = provider_options(providers, key, config)
    for p, o in zip(providers, opts, strict=True):
        if p == TENSORRT:
            try:
                Path(o["trt_engine_cache_path"]).mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise RuntimeSetupError(f"TensorRT engine cache {o['trt_engine_cache_path']}: {exc}") from exc
    return opts


@functools.cache
def _file_sha256(path: str, mtime_ns: int, size: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def file_sha256(path: Path) -> str:
    """The file's sha256 (remembered per path, modification time and size)."""
    st = path.stat()
    return _file_sha256(str(path), st.st_mtime_ns, st.st_size)
