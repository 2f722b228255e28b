"""The try-on pipeline: perception, then the selected products rendered onto every face.

``TryOnPipeline(products=["velvet-matte-lipstick:ruby-red"]).process(frame) -> frame``. The look
can change between frames (``set_look``). A frame on which a stage fails comes back unprocessed
and is counted in ``stats.failures``; it is never dropped and never raises (invalid input does:
an array that is not an RGB frame gets an :class:`~tryon.errors.InputError`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray

from tryon.catalog import Catalog, Product, Variant
from tryon.errors import InputError
from tryon.frame import validate_frame
from tryon.perception import Perception, PerceptionConfig
from tryon.render.finish import seed_of
from tryon.render.glasses import GlassesAsset, GlassesParams, glasses_asset, glasses_params, render_glasses
from tryon.render.makeup import MAKEUP_KINDS, MakeupParams, render_look
from tryon.results import FrameResult
from tryon.runtime.session import RuntimeConfig
from tryon.timing import timed

logger = logging.getLogger(__name__)

GLASSES_KINDS = ("glasses", "sunglasses")
RENDERED_KINDS = (*MAKEUP_KINDS, *GLASSES_KINDS)
"""Kinds this version renders; the others are in the catalog for the renderers to come."""


@dataclass(frozen=True)
class LookItem:
    product: Product
    variant: Variant
    intensity: float = 1.0

    @property
    def spec(self) -> str:
        return f"{self.product.id}:{self.variant.id}"


def check_intensity(value: object, name: str = "intensity") -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= float(value) <= 1.0:
        raise InputError(f"{name}: expected a number in [0, 1], got {value!r}")
    return float(value)


def resolve_item(catalog: Catalog, spec: str | LookItem, intensity: float = 1.0) -> LookItem:
    """``"ID[:variant]"`` as a look item of a kind this version renders, or a clear error."""
    if isinstance(spec, LookItem):
        return replace(spec, intensity=check_intensity(spec.intensity))
    if not isinstance(spec, str):
        raise InputError(f'product: expected "ID[:variant]", got {spec!r}')
    product, variant = catalog.resolve(spec)
    if product.kind not in RENDERED_KINDS:
        raise InputError(
            f"product {product.id!r} is a {product.kind}; this version renders {', '.join(RENDERED_KINDS)}"
        )
    return LookItem(product, variant, check_intensity(intensity))


def makeup_params(item: LookItem) -> MakeupParams:
    """A catalog product and shade as renderer parameters."""
    p, v = item.product, item.variant
    params = dict(p.params)
    if v.rgb is None:
        raise InputError(f"product {p.id!r} shade {v.id!r}: expected a colour, got none")
    return MakeupParams(
        kind=p.kind,
        color=v.rgb,
        finish=v.finish or "satin",
        intensity=check_intensity(float(params.get("intensity", 1.0)) * item.intensity),
        opacity=v.opacity,
        shimmer_color=v.shimmer_rgb,
        wing=bool(params.get("wing", False)),
        thickness=float(params.get("thickness", 1.0)),
        seed=seed_of(p.id, v.id),
    )


@dataclass
class PipelineStats:
    frames: int = 0
    processed: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    """Frames returned unprocessed, by the stage that failed."""
    timings: dict[str, float] = field(default_factory=dict)
    """The last frame's per-stage milliseconds."""


@dataclass(frozen=True)
class PipelineConfig:
    max_faces: int = 2
    detect_interval: int = 5
    """While fewer than ``max_faces`` are tracked, look for new ones every N frames."""
    face_detector: str = "short"
    static_image_mode: bool = False
    runtime: RuntimeConfig | None = None
    """ONNX Runtime settings (providers, threads, spinning); ``None``: the defaults."""
    perception: PerceptionConfig | None = None
    """Overrides the perception configuration derived from the fields above."""


class TryOnPipeline:
    """Perception + rendering for a stream of frames (or one image with ``static_image_mode``)."""

    def __init__(
        self,
        products: Sequence[str | LookItem] = (),
        *,
        intensity: float = 1.0,
        catalog: Catalog | None = None,
        config: PipelineConfig | None = None,
        perception: Perception | None = None,
    ) -> None:
        self.config = c = config or PipelineConfig()
        self.catalog = catalog if catalog is not None else Catalog.load()
        if perception is None:
            pc = c.perception or PerceptionConfig(
                max_faces=c.max_faces,
                face_detector="full" if c.face_detector == "full" else "short",
                static_image_mode=c.static_image_mode,
                detect_interval=c.detect_interval,
                runtime=c.runtime or RuntimeConfig(),
            )
            perception = Perception(pc)
        self.perception = perception
        self.stats = PipelineStats()
        self.last_result: FrameResult | None = None
        self._lock = threading.Lock()
        self._look: tuple[LookItem, ...] = ()
        self._params: tuple[MakeupParams, ...] = ()
        self._glasses: tuple[tuple[GlassesAsset, GlassesParams], ...] = ()
        self.set_look(products, intensity=intensity)

    # -- the look ------------------------------------------------------------------------------

    @property
    def look(self) -> tuple[LookItem, ...]:
        return self._look

    def resolve(self, spec: str | LookItem, intensity: float = 1.0) -> LookItem:
        return resolve_item(self.catalog, spec, intensity)

    def set_look(self, products: Sequence[str | LookItem], intensity: float = 1.0) -> None:
        """Replace the look; everything is validated first, so a bad item changes nothing."""
        check_intensity(intensity)
        items = tuple(self.resolve(p, intensity) for p in products)
        params = tuple(makeup_params(i) for i in items if i.product.kind in MAKEUP_KINDS)
        eyewear = tuple(
            (glasses_asset(i.product), glasses_params(i.product, i.variant, i.intensity))
            for i in items
            if i.product.kind in GLASSES_KINDS
        )
        with self._lock:
            self._look, self._params, self._glasses = items, params, eyewear

    # -- frames --------------------------------------------------------------------------------

    def reset(self) -> None:
        self.perception.reset()

    def process(self, frame: object, timestamp: float | None = None) -> NDArray[np.uint8]:
        """The frame with the look on every face; unprocessed (and counted) if a stage fails."""
        t0 = time.perf_counter()
        image = validate_frame(frame)
        self.stats.frames += 1
        with self._lock:
            params, eyewear = list(self._params), list(self._glasses)
        timings: dict[str, float] = {}
        try:
            result = self.perception.process(image, timestamp)
        except Exception:
            return self._failed("perception", image, timings, t0)
        self.last_result = result
        timings.update(result.timings)
        for stage in result.errors:
            self.stats.failures[stage] += 1
        out = image
        if (params or eyewear) and result.faces:
            try:
                with timed(timings, "render"):
                    if params:
                        out = render_look(image, result.faces, params)
                    for asset, gp in eyewear:  # over the makeup
                        for face in result.faces:
                            out = render_glasses(out, face, asset, gp)
            except Exception:
                return self._failed("render", image, timings, t0)
        self.stats.processed += 1
        timings["total"] = (time.perf_counter() - t0) * 1e3
        self.stats.timings = timings
        return out

    def _failed(
        self, stage: str, image: NDArray[np.uint8], timings: dict[str, float], t0: float
    ) -> NDArray[np.uint8]:
        self.stats.failures[stage] += 1
        n = self.stats.failures[stage]
        if n == 1 or n % 100 == 0:
            logger.exception(
                "%s failed on frame %d (%d so far); frame passed through", stage, self.stats.frames, n
            )
        timings["total"] = (time.perf_counter() - t0) * 1e3
        self.stats.timings = timings
        return image
