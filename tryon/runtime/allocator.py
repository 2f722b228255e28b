"""Handing freed heap back to the system (glibc's ``malloc_trim``).

A server builds a pipeline per session (the models, ~170 MiB, and ONNX Runtime's thread pool)
and frees it when the session ends; glibc keeps such freed memory in its arenas for reuse, so a
server that has run many sessions one after another holds the peak of all of them (measured:
~1.35 GiB after 100 sessions, ``benchmarks/README.md``, "Memory"). Trimming after a session ends
returns it. Without glibc (musl, macOS) this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
from typing import Any

logger = logging.getLogger(__name__)


@functools.cache
def _libc() -> Any | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") else None


M_ARENA_MAX = -8
"""glibc's ``mallopt`` parameter for the number of malloc arenas."""


def limit_arenas(count: int) -> bool:
    """Let glibc use at most ``count`` malloc arenas from now on (its default is 8 per core):
    freed memory then collects in fewer places, where trimming finds it. ``False`` without glibc."""
    if count < 1:
        raise ValueError(f"count: expected at least 1 arena, got {count}")
    libc = _libc()
    if libc is None or not hasattr(libc, "mallopt"):
        return False
    return bool(libc.mallopt(M_ARENA_MAX, count))


def trim_free_memory() -> bool:
    """Return the allocator's free heap to the system; ``False`` where there is no glibc."""
    libc = _libc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True


__all__ = ["limit_arenas", "trim_free_memory"]
