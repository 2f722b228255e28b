"""Execution provider choice: TensorRT, CUDA or CPU, by availability or by configuration."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
import os
from collections.abc import Sequence

import onnxruntime as ort

from tryon.errors import RuntimeSetupError

logger = logging.getLogger(__name__)

TENSORRT = "TensorrtExecutionProvider"
CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"

ALIASES = {"tensorrt": TENSORRT, "trt": TENSORRT, "cuda": CUDA, "gpu": CUDA, "cpu": CPU}
GPU_PROVIDERS = (TENSORRT, CUDA)


def _load(names: Sequence[str]) -> ctypes.CDLL | None:
    for name in names:
        try:
            return ctypes.CDLL(name)
        except OSError:
            continue
    return None


@functools.cache
def cuda_device_count() -> int:
    """Number of CUDA devices the driver reports (0 without a driver or GPU)."""
    lib = _load(["libcuda.so.1", "libcuda.so", ctypes.util.find_library("cuda") or "nvcuda.dll"])
    if lib is None:
        return 0
    try:
        if lib.cuInit(0) != 0:
            return 0
        count = ctypes.c_int(0)
        if lib.cuDeviceGetCount(ctypes.byref(count)) != 0:
            return 0
        return int(count.value)
    except (AttributeError, OSError):
        return 0


@functools.cache
def tensorrt_libraries_present() -> bool:
    names = [f"libnvinfer.so.{v}" for v in (10, 9, 8)] + ["libnvinfer.so"]
    return _load(names) is not None


def normalize(name: str) -> str:
    """Full provider name for ``name`` (``cuda`` → ``CUDAExecutionProvider``)."""
    key = name.strip()
    full = ALIASES.get(key.lower(), key)
    known = set(ALIASES.values()) | set(ort.get_all_providers())
    if full not in known:
        raise RuntimeSetupError(
            f"unknown execution provider {name!r}; expected one of {sorted(set(ALIASES))} "
            "or an ONNX Runtime provider name"
        )
    return full


def requested_from_env() -> list[str] | None:
    """``TRYON_PROVIDERS=cuda,cpu`` style configuration, or ``None`` for automatic choice."""
    value = os.environ.get("TRYON_PROVIDERS", "").strip()
    if not value or value.lower() == "auto":
        return None
    return [v for v in value.split(",") if v.strip()]


@functools.cache
def _warn_once(message: str) -> None:
    logger.warning(message)


warn_once = _warn_once
"""Log ``message`` as a warning once per process (the fallback lines)."""


def choose_providers(requested: Sequence[str] | None = None) -> list[str]:
    """Providers to open sessions with, best first, always ending with CPU.

    ``requested`` (or ``$TRYON_PROVIDERS``) lists providers in order of preference; ``None``
    means automatic: TensorRT when its libraries and a GPU are present, then CUDA with a GPU,
    then CPU. A requested GPU provider that cannot run here is dropped with one warning.
    """
    wanted = list(requested) if requested is not None else requested_from_env()
    available = set(ort.get_available_providers())
    gpus = cuda_device_count()
    if wanted is None:
        wanted = [TENSORRT, CUDA, CPU]
        auto = True
    else:
        wanted = [normalize(w) for w in wanted]
        auto = False
    chosen: list[str] = []
    dropped: list[str] = []
    for p in wanted:
        if p == CPU:
            continue
        if p not in available:
            dropped.append(f"{p} (not in this onnxruntime build)")
        elif p in GPU_PROVIDERS and gpus == 0:
            dropped.append(f"{p} (no CUDA GPU found)")
        elif p == TENSORRT and not tensorrt_libraries_present():
            dropped.append(f"{p} (TensorRT libraries not found)")
        else:
            chosen.append(p)
    chosen.append(CPU)
    if dropped and (not auto or gpus > 0):
        _warn_once(f"falling back to {chosen[0]}: unavailable " + "; ".join(dropped))
    elif auto and gpus == 0:
        _warn_once("no CUDA GPU found: running models on CPUExecutionProvider")
    return chosen
