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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray

from tryon.catalog import Catalog
from tryon.catalog.kinds import REGISTRY, kinds_of
from tryon.errors import InputError
from tryon.frame import validate_frame
from tryon.look import LookItem, check_intensity, opaque_unless_makeup
from tryon.perception import Perception, PerceptionConfig
from tryon.render.makeup import makeup_params
from tryon.render.registry import Layer, LayerRequest, load_renderers, renderer_of
from tryon.results import FrameResult
from tryon.runtime.session import RuntimeConfig
from tryon.timing import timed

logger = logging.getLogger(__name__)

GARMENT_KINDS = kinds_of("garment")
RENDERED_KINDS: tuple[str, ...] = tuple(k for k in REGISTRY if k in load_renderers())
"""Kinds this version renders, in the registry's order (a test checks it is all of them)."""
STAGE_NAMES = tuple(sorted({s for spec in REGISTRY.values() for s in spec.stages}))
"""Perception stages a look can switch on (faces always run)."""


def resolve_item(catalog: Catalog, spec: str | LookItem, intensity: float = 1.0) -> LookItem:
    """``"ID[:variant]"`` as a look item of a kind this version renders, or a clear error. Only
    makeup takes the intensity (:func:`~tryon.look.opaque_unless_makeup`): garments and
    accessories are always drawn opaque."""
    if isinstance(spec, LookItem):
        return opaque_unless_makeup(replace(spec, intensity=check_intensity(spec.intensity)))
    if not isinstance(spec, str):
        raise InputError(f'product: expected "ID[:variant]", got {spec!r}')
    product, variant = catalog.resolve(spec)
    if product.kind not in RENDERED_KINDS:
        raise InputError(
            f"product {product.id!r} is a {product.kind}; this version renders {', '.join(RENDERED_KINDS)}"
        )
    return opaque_unless_makeup(LookItem(product, variant, check_intensity(intensity)))


def item_layer(item: LookItem) -> Layer:
    """A layer drawing this one item (its assets loaded here: a bad asset fails now, not on a frame)."""
    return renderer_of(item.product.kind).build(LayerRequest((item,)))


def build_layers(items: Sequence[LookItem], people: Mapping[tuple[int, str], LookItem]) -> list[Layer]:
    """The look as layers, back to front by the kinds' registry layers: one per item, one for all
    items of a grouped renderer (makeup), one per kind of a per-person renderer (garments, with
    the people dressed in their own, by pose track id)."""
    return [layer for _, layer in named_layers(items, people)]


def named_layers(
    items: Sequence[LookItem], people: Mapping[tuple[int, str], LookItem]
) -> list[tuple[str, Layer]]:
    """:func:`build_layers` with each layer's name in the timings (``render.<name>``): its kind,
    or its renderer's module for a grouped renderer (``makeup``)."""
    layered: list[tuple[int, int, str, Layer]] = []
    grouped: dict[int, tuple[int, list[LookItem]]] = {}
    per_person: set[str] = {kind for _, kind in people}
    for item in items:
        kind = item.product.kind
        renderer = renderer_of(kind)
        if renderer.grouped:
            layer, members = grouped.setdefault(id(renderer), (REGISTRY[kind].layer, []))
            grouped[id(renderer)] = (min(layer, REGISTRY[kind].layer), [*members, item])
        elif renderer.per_person:
            per_person.add(kind)
        else:
            layered.append((REGISTRY[kind].layer, len(layered), kind, renderer.build(LayerRequest((item,)))))
    for layer, members in grouped.values():
        renderer = renderer_of(members[0].product.kind)
        name = renderer.module.rsplit(".", 1)[-1]
        layered.append((layer, len(layered), name, renderer.build(LayerRequest(tuple(members)))))
    for kind in sorted(per_person, key=lambda k: REGISTRY[k].layer):
        own = {pid: item for (pid, k), item in people.items() if k == kind}
        default = tuple(i for i in items if i.product.kind == kind)[:1]
        request = LayerRequest(default, own)
        layered.append((REGISTRY[kind].layer, len(layered), kind, renderer_of(kind).build(request)))
    return [(name, layer) for _, _, name, layer in sorted(layered, key=lambda t: (t[0], t[1]))]


def stages_for(kinds: set[str]) -> set[str]:
    """Perception stages the kinds' renderers need besides faces."""
    return {stage for kind in kinds for stage in REGISTRY[kind].stages}


@dataclass
class PipelineStats:
    frames: int = 0
    processed: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    """Frames returned unprocessed, by the stage that failed."""
    rejected: Counter[str] = field(default_factory=Counter)
    """Poses found but not dressed (implausible), by reason: never drawn, counted here."""
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
                max_poses=c.max_faces,
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
        self._layers: tuple[tuple[str, Layer], ...] = ()
        self._stages: dict[str, bool] = {}
        self._people: dict[tuple[int, str], LookItem] = {}
        self._configured_stages = perception.stages
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
        self._apply(items, self._people)

    def dress_person(self, person_id: int, spec: str | LookItem | None, intensity: float = 1.0) -> None:
        """Give one tracked person (a pose track id, ``FrameResult.poses[i].id``) their own garment,
        instead of the look's garment of that kind; ``None`` takes all of theirs back."""
        if spec is None:
            people = {k: v for k, v in self._people.items() if k[0] != person_id}
        else:
            item = self.resolve(spec, intensity)
            kind = item.product.kind
            if not REGISTRY[kind].per_person:
                *some, last = (k for k, spec in REGISTRY.items() if spec.per_person)
                wearable = f"{', '.join(some)} or {last}" if some else last
                raise InputError(
                    f"product {item.product.id!r} is a {kind}; a person is dressed in a {wearable}"
                )
            people = {**self._people, (person_id, kind): item}
        self._apply(self._look, people)

    def _apply(self, items: tuple[LookItem, ...], people: dict[tuple[int, str], LookItem]) -> None:
        layers = named_layers(items, people)
        needed = stages_for({i.product.kind for i in items} | {kind for _, kind in people})
        # Stages the look needs are switched on; those configured on stay on.
        stages = {stage: stage in self._configured_stages or stage in needed for stage in STAGE_NAMES}
        self.perception.prepare(*(s for s, on in stages.items() if on))  # load models off the frame path
        with self._lock:
            self._look, self._people, self._layers, self._stages = items, people, tuple(layers), stages

    # -- frames --------------------------------------------------------------------------------

    def reset(self) -> None:
        self.perception.reset()

    def process(self, frame: object, timestamp: float | None = None) -> NDArray[np.uint8]:
        """The frame with the look on every face; unprocessed (and counted) if a stage fails."""
        t0 = time.perf_counter()
        image = validate_frame(frame)
        self.stats.frames += 1
        with self._lock:
            layers, stages = self._layers, self._stages
        self.perception.set_stages(**stages)
        timings: dict[str, float] = {}
        try:
            result = self.perception.process(image, timestamp)
        except Exception:
            return self._failed("perception", image, timings, t0)
        self.last_result = result
        timings.update(result.timings)
        for stage in result.errors:
            self.stats.failures[stage] += 1
        self.stats.rejected.update(result.rejected)
        out = image
        if layers and (result.faces or result.hands or result.poses):
            try:
                with timed(timings, "render"):
                    for name, layer in layers:
                        with timed(timings, f"render.{name}"):
                            out = layer(out, result)
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


__all__ = [
    "GARMENT_KINDS",
    "RENDERED_KINDS",
    "LookItem",
    "PipelineConfig",
    "PipelineStats",
    "TryOnPipeline",
    "build_layers",
    "check_intensity",
    "item_layer",
    "makeup_params",
    "named_layers",
    "resolve_item",
    "stages_for",
]
