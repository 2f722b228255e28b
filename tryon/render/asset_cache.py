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
from pathlib import Path
from typing import Any, TypeVar, cast

import cv2
import numpy as np
from numpy.typing import NDArray

from tryon.errors import InputError
from tryon.media.images import MAX_PIXELS

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


# -- reading -----------------------------------------------------------------------------------


def _decode(path: str | Path, expected: str) -> NDArray[Any]:
    """The file decoded as stored (channels, bit depth); :class:`InputError` naming the path."""
    p = Path(path)
    try:
        data = np.fromfile(str(p), dtype=np.uint8)  # not cv2.imread: it fails silently
    except OSError as exc:
        reason = "no such file" if not p.exists() else f"cannot read it ({exc.strerror or exc})"
        raise InputError(f"{p}: expected {expected}, got {reason}") from exc
    if data[:8].tobytes() == b"\x89PNG\r\n\x1a\n" and data.size >= 24:  # refuse a bomb before decoding
        w, h = (int.from_bytes(data[i : i + 4].tobytes(), "big") for i in (16, 20))
        if w * h > MAX_PIXELS:
            raise InputError(f"{p}: expected {expected} of at most {MAX_PIXELS} pixels, got {w}x{h}")
    try:
        image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    except cv2.error:
        image = None
    if image is None:
        raise InputError(f"{p}: expected {expected}, got a file OpenCV cannot decode ({data.size} bytes)")
    if image.shape[0] * image.shape[1] > MAX_PIXELS:
        raise InputError(f"{p}: expected at most {MAX_PIXELS} pixels, got {image.shape[1]}x{image.shape[0]}")
    if image.dtype == np.uint16:
        return image
    if image.dtype != np.uint8:
        raise InputError(f"{p}: expected {expected} with 8- or 16-bit samples, got {image.dtype}")
    return image


def _to_8bit(image: NDArray[Any]) -> NDArray[np.uint8]:
    if image.dtype == np.uint8:
        return np.asarray(image, np.uint8)
    return ((image.astype(np.uint32) + 128) // 257).astype(np.uint8)  # 65535 → 255, rounded


def read_rgba(path: str | Path, *, allow_opaque: bool = False) -> NDArray[np.uint8]:
    """An image file as C-contiguous RGBA ``uint8`` ``(H, W, 4)``, straight alpha; 16-bit
    samples become 8-bit (``/257``, rounded). Grey and RGB images get an opaque alpha only with
    ``allow_opaque``; otherwise, as for anything but an image, :class:`InputError` naming the
    path, what was expected and what the file holds."""
    expected = "an RGBA image" + (" (or grey or RGB)" if allow_opaque else " with its alpha")
    image = _decode(path, expected)
    channels = 1 if image.ndim == 2 else int(image.shape[2])
    if channels == 4:
        rgba = cv2.cvtColor(_to_8bit(image), cv2.COLOR_BGRA2RGBA)
    elif allow_opaque and channels in (1, 3):
        code = cv2.COLOR_GRAY2RGBA if channels == 1 else cv2.COLOR_BGR2RGBA
        rgba = cv2.cvtColor(_to_8bit(image), code)
    else:
        kind = {1: "grey", 3: "RGB, no alpha"}.get(channels, f"{channels} channels")
        raise InputError(f"{path}: expected {expected}, got {image.shape[1]}x{image.shape[0]} {kind}")
    return np.ascontiguousarray(rgba, dtype=np.uint8)


def read_mask(path: str | Path, expected: str, *, labels: bool = False) -> NDArray[np.uint8]:
    """A single-channel image as ``uint8`` ``(H, W)`` (a colour image's red channel). 16-bit
    samples are scaled to 8 bits, except ``labels``, which are kept as they are (and must be
    below 256)."""
    image = _decode(path, expected)
    if image.ndim == 3:
        image = image[..., 2]  # BGR(A): red
    if labels and image.dtype != np.uint8:
        if int(image.max(initial=0)) > 255:
            raise InputError(f"{path}: expected {expected}, got values up to {int(image.max())}")
        image = image.astype(np.uint8)
    return np.ascontiguousarray(_to_8bit(image), dtype=np.uint8)
