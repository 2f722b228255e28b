"""Product assets in memory: one cache bounded by bytes, shared by every renderer, and the one
reader of asset images.

The renderers' assets (sprites, glasses, garments) are large once loaded: a 1300-pixel garment
is 5 MiB of RGBA plus 25 MiB of float32 pyramid, and the whole starter catalog is 778 MiB.
:class:`AssetCache` keeps the recently used ones up to a byte budget and drops the least
recently used beyond it; an asset larger than the whole budget is returned but not kept. A
session drawing an asset holds its own reference, so eviction only decides what the next
``set_look`` finds already loaded.

Sizes are known at insertion: each asset reports ``nbytes`` including its mip pyramid, which
the loaders compute eagerly (a lazily computed pyramid would be memory the cache never counted).
Every array of a cached asset is read-only (``setflags(write=False)``): the same arrays are
shared by every session and thread.

The process-wide cache (:func:`asset_cache`) has a budget of ``TRYON_ASSET_CACHE_MB`` MiB
(:data:`DEFAULT_BUDGET_MB` when unset; 0 keeps nothing), changed at run time by
:func:`set_asset_cache_budget`.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import numpy as np

from tryon.errors import InputError

logger = logging.getLogger(__name__)

T = TypeVar("T")
A = TypeVar("A", bound=np.ndarray[Any, Any])

MIB = 1 << 20
DEFAULT_BUDGET_MB = 192.0
"""The default budget in MiB. Measured (``benchmarks/memory.py``, ``benchmarks/README.md``): the
largest full look (a garment, glasses, a hat, a necklace and earrings) is about 117 MiB with its
pyramids, a garment colourway 20-35 MiB, the whole starter catalog 778 MiB. 192 MiB keeps the
largest look and two more garments; an evicted asset loads again in 0.3 s at most. Trying on the
whole catalog twice then ends at about 610 MiB of RSS instead of 1120 unbounded."""
ENV_BUDGET = "TRYON_ASSET_CACHE_MB"


@dataclass(frozen=True)
class CacheStats:
    entries: int
    bytes: int
    max_bytes: int
    hits: int
    """Requests served without loading: cached, or loaded meanwhile by another thread."""
    misses: int
    """Loads (successful or not)."""
    evictions: int
    oversize: int
    """Loaded assets larger than the whole budget, returned but not kept."""


class AssetCache:
    """A thread-safe least-recently-used cache bounded by the bytes of what it holds.

    Concurrent requests for one key load it once (the others wait for that load and share its
    result or its error); loads of different keys run in parallel, outside the lock.
    """

    def __init__(self, max_bytes: int) -> None:
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, tuple[object, int]] = OrderedDict()
        self._loading: dict[Hashable, Future[object]] = {}
        self.max_bytes = _check_budget(max_bytes)
        self.bytes = self.hits = self.misses = self.evictions = self.oversize = 0

    def get_or_load(
        self, key: Hashable, loader: Callable[[], T], size: Callable[[T], int] | None = None
    ) -> T:
        """The value cached under ``key``, else ``loader()`` (kept if it fits). Its size is
        ``size(value)``, or its ``nbytes`` attribute."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                self.hits += 1
                return cast(T, entry[0])
            pending = self._loading.get(key)
            if pending is not None:
                self.hits += 1
            else:
                self.misses += 1
                self._loading[key] = mine = Future[object]()
        if pending is not None:
            return cast(T, pending.result())
        try:
            value = loader()
            n = int(size(value) if size is not None else _nbytes(value))
        except BaseException as exc:
            with self._lock:
                del self._loading[key]
            mine.set_exception(exc)
            raise
        with self._lock:
            del self._loading[key]
            self._insert(key, value, n)
        mine.set_result(value)
        return value

    def _insert(self, key: Hashable, value: object, n: int) -> None:
        if n > self.max_bytes:
            self.oversize += 1
            if self.max_bytes:  # with a budget of 0, keeping nothing is the point
                logger.info("asset %r: %.1f MiB, over the cache's whole budget; not kept", key, n / MIB)
            return
        self._entries[key] = (value, n)
        self.bytes += n
        self._evict()

    def _evict(self) -> None:
        while self.bytes > self.max_bytes and self._entries:
            _, (_, n) = self._entries.popitem(last=False)
            self.bytes -= n
            self.evictions += 1

    def set_budget(self, max_bytes: int) -> None:
        """A new budget; entries over it are evicted, least recently used first."""
        with self._lock:
            self.max_bytes = _check_budget(max_bytes)
            self._evict()

    def clear(self) -> None:
        """Drop every entry (the counters stay)."""
        with self._lock:
            self._entries.clear()
            self.bytes = 0

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._entries

    def stats(self) -> CacheStats:
        with self._lock:
            return CacheStats(
                len(self._entries),
                self.bytes,
                self.max_bytes,
                self.hits,
                self.misses,
                self.evictions,
                self.oversize,
            )


def _check_budget(max_bytes: int) -> int:
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 0:
        raise InputError(f"asset cache budget: expected a number of bytes >= 0, got {max_bytes!r}")
    return max_bytes


def _nbytes(value: object) -> int:
    n = getattr(value, "nbytes", None)
    if isinstance(n, bool) or not isinstance(n, int | np.integer):
        raise TypeError(f"{type(value).__name__}: expected an nbytes attribute (or a size function)")
    return int(n)


def budget_from_env() -> int:
    """``TRYON_ASSET_CACHE_MB`` in bytes, :data:`DEFAULT_BUDGET_MB` when unset or empty."""
    raw = os.environ.get(ENV_BUDGET, "").strip()
    if not raw:
        return int(DEFAULT_BUDGET_MB * MIB)
    try:
        mb = float(raw)
    except ValueError:
        mb = -1.0
    if not mb >= 0 or mb == float("inf"):
        raise InputError(f"{ENV_BUDGET}: expected a number of MiB >= 0, got {raw!r}")
    return int(mb * MIB)


_default: AssetCache | None = None
_default_lock = threading.Lock()


def asset_cache() -> AssetCache:
    """The process-wide cache the renderers load through (created on first use)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = AssetCache(budget_from_env())
        return _default


def set_asset_cache_budget(mb: float) -> None:
    """Set the process-wide cache's budget in MiB (0: keep nothing)."""
    if isinstance(mb, bool) or not isinstance(mb, int | float) or not 0 <= mb < float("inf"):
        raise InputError(f"asset cache budget: expected a number of MiB >= 0, got {mb!r}")
    asset_cache().set_budget(int(mb * MIB))


def frozen(array: A) -> A:
    """``array``, made read-only (in place) and returned: for arrays shared through the cache."""
    array.setflags(write=False)
    return array
