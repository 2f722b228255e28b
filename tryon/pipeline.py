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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray

from tryon.catalog import Catalog, Product, Variant
from tryon.errors import InputError
from tryon.frame import validate_frame
from tryon.perception import Perception, PerceptionConfig
from tryon.render.accessory import accessory_params, product_sprite
from tryon.render.earrings import render_earrings
from tryon.render.finish import seed_of
from tryon.render.garments import (
    GarmentAsset,
    GarmentParams,
    face_of,
    garment_asset,
    garment_params,
    render_garment,
)
from tryon.render.glasses import glasses_asset, glasses_params, render_glasses
from tryon.render.hats import render_hat
from tryon.render.makeup import MAKEUP_KINDS, MakeupParams, render_look
from tryon.render.nails import NailParams, render_nails
from tryon.render.necklaces import render_necklace
from tryon.results import Face, FrameResult
from tryon.runtime.session import RuntimeConfig
from tryon.timing import timed

logger = logging.getLogger(__name__)

GLASSES_KINDS = ("glasses", "sunglasses")
ACCESSORY_KINDS = ("earrings", "hat", "necklace", "nails")
GARMENT_KINDS = ("top", "dress", "jacket")
RENDERED_KINDS = (*MAKEUP_KINDS, *GLASSES_KINDS, *ACCESSORY_KINDS, *GARMENT_KINDS)
"""Kinds this version renders; the others are in the catalog for the renderers to come."""
LAYERS = {
    "makeup": 0,
    "dress": 1,
    "top": 2,
    "jacket": 3,
    "necklace": 4,
    "earrings": 5,
    "glasses": 6,
    "sunglasses": 6,
    "hat": 7,
    "nails": 8,
}
"""Drawing order, back to front: makeup on the skin, clothes, what is worn over them, the hands."""
STAGES_FOR: dict[str, tuple[str, ...]] = {
    "necklace": ("poses",),
    "earrings": ("segmentation",),
    "nails": ("hands",),
    **{kind: ("poses", "segmentation", "hands") for kind in GARMENT_KINDS},
}
"""Perception stages a kind needs besides faces (shoulders, the person mask for hair, hands)."""

Frame = NDArray[np.uint8]
Layer = Callable[[Frame, FrameResult], Frame]


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


def per_face(draw: Callable[[Frame, Face, FrameResult], Frame]) -> Layer:
    """A layer drawing ``draw(frame, face, result)`` on every face of the result, in turn."""

    def layer(out: Frame, r: FrameResult) -> Frame:
        for face in r.faces:
            out = draw(out, face, r)
        return out

    return layer


def item_layer(item: LookItem) -> Layer:
    """A function drawing this (non-makeup) item on every face of a frame's result; its assets
    are loaded here, so a bad asset fails when the look is set, not on a frame."""
    p, v, kind = item.product, item.variant, item.product.kind
    if kind in GLASSES_KINDS:
        asset, gp = glasses_asset(p), glasses_params(p, v, item.intensity)
        return per_face(lambda out, face, r: render_glasses(out, face, asset, gp))
    if kind == "nails":
        if v.rgb is None:
            raise InputError(f"product {p.id!r} shade {v.id!r}: expected a colour, got none")
        polish = NailParams(v.rgb, v.finish or "cream", item.intensity, seed_of(p.id, v.id), v.shimmer_rgb)

        def nails(out: Frame, r: FrameResult) -> Frame:
            return render_nails(out, r.hands, polish) if r.hands else out

        return nails
    if kind in GARMENT_KINDS:
        return garment_layer(garment_of(item), {})
    sprite, ap = product_sprite(p), accessory_params(p, v, item.intensity)
    if kind == "earrings":
        return per_face(
            lambda out, face, r: render_earrings(
                out, face, sprite, ap, r.segmentation.mask if r.segmentation is not None else None
            )
        )
    if kind == "hat":
        return per_face(lambda out, face, r: render_hat(out, face, sprite, ap))
    if kind == "necklace":
        return per_face(lambda out, face, r: render_necklace(out, face, sprite, ap, r.poses))
    raise InputError(
        f"product {p.id!r}: no renderer for {kind}; this version renders {', '.join(RENDERED_KINDS)}"
    )


Garment = tuple[GarmentAsset, GarmentParams]


def garment_of(item: LookItem) -> Garment:
    return garment_asset(item.product, item.variant), garment_params(item.product, item.intensity)


def garment_layer(default: Garment | None, people: Mapping[int, Garment]) -> Layer:
    """Draws ``default`` on every tracked person, or the person's own from ``people`` (by pose
    track id)."""

    def clothes(out: Frame, r: FrameResult) -> Frame:
        person = r.segmentation.mask if r.segmentation is not None else None
        for pose in r.poses:
            chosen = people.get(pose.id, default)
            if chosen is not None:
                out = render_garment(out, pose, chosen[0], chosen[1], person, r.hands, face_of(pose, r.faces))
        return out

    return clothes


def makeup_layer(params: Sequence[MakeupParams]) -> Layer:
    look = list(params)

    def makeup(out: Frame, r: FrameResult) -> Frame:
        return render_look(out, r.faces, look) if r.faces else out

    return makeup


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
        self._layers: tuple[Layer, ...] = ()
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
            if kind not in GARMENT_KINDS:
                raise InputError(
                    f"product {item.product.id!r} is a {kind}; a person is dressed in a top, dress or jacket"
                )
            people = {**self._people, (person_id, kind): item}
        self._apply(self._look, people)

    def _apply(self, items: tuple[LookItem, ...], people: dict[tuple[int, str], LookItem]) -> None:
        params = tuple(makeup_params(i) for i in items if i.product.kind in MAKEUP_KINDS)
        looks = {i.product.kind: i for i in items if i.product.kind in GARMENT_KINDS}
        garment_kinds = set(looks) | {kind for _, kind in people}
        layered: list[tuple[int, Layer]] = [
            (LAYERS[i.product.kind], item_layer(i))
            for i in items
            if i.product.kind not in MAKEUP_KINDS and i.product.kind not in GARMENT_KINDS
        ]
        for kind in garment_kinds:
            own = {pid: garment_of(item) for (pid, k), item in people.items() if k == kind}
            default = garment_of(looks[kind]) if kind in looks else None
            layered.append((LAYERS[kind], garment_layer(default, own)))
        layered.sort(key=lambda pair: pair[0])
        layers = ([makeup_layer(params)] if params else []) + [layer for _, layer in layered]
        kinds = {i.product.kind for i in items} | garment_kinds
        # Stages the look needs are switched on; those configured on stay on.
        stages = {
            stage: stage in self._configured_stages or any(stage in STAGES_FOR.get(k, ()) for k in kinds)
            for stage in {s for needed in STAGES_FOR.values() for s in needed}
        }
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
        out = image
        if layers and (result.faces or result.hands or result.poses):
            try:
                with timed(timings, "render"):
                    for layer in layers:
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
