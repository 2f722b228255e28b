"""Makeup renderers: ``render(frame, face, params) -> frame``, stateless, from the 468 landmarks.

Every renderer builds a soft mask for its region, then blends the shade in linear light: the
shade's chromaticity replaces the surface's, its luminance is the shade's modulated by the
surface's own relative shading (so lips keep their form and the light stays the scene's), and
the finish adds sheen, gloss or sparkle. Pixels outside the mask are returned byte-identical.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from tryon.catalog.kinds import REGISTRY, kinds_of
from tryon.errors import InputError
from tryon.frame import Frame, validate_frame
from tryon.look import LookItem, check_intensity
from tryon.render import regions as rg
from tryon.render.color import check_rgb, linear_color, luminance, to_linear, to_srgb
from tryon.render.finish import (
    FINISHES,
    Finish,
    highlight,
    light_level,
    seed_of,
    smoothstep,
    sparkle_field,
    specular_prior,
)
from tryon.render.masks import Box, Mask, polygon_mask
from tryon.render.registry import Layer, LayerRequest, renders
from tryon.results import Face, FrameResult
from tryon.timing import step

MAKEUP_KINDS: tuple[str, ...] = tuple(sorted(kinds_of("makeup"), key=lambda k: REGISTRY[k].layer))
"""Makeup kinds in the order a look applies them (base first, gloss last): their registry layers."""

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class KindStyle:
    opacity: float
    """Coverage at intensity 1 unless the shade sets its own."""
    feather: float
    """Feathering sigma, as a fraction of the inter-ocular distance."""


STYLES: dict[str, KindStyle] = {
    "lipstick": KindStyle(opacity=1.0, feather=0.012),
    "lip_gloss": KindStyle(opacity=0.55, feather=0.012),
    "blush": KindStyle(opacity=0.4, feather=0.05),
    "eyeshadow": KindStyle(opacity=0.7, feather=0.025),
    "eyeliner": KindStyle(opacity=1.0, feather=0.006),
    "brow": KindStyle(opacity=0.6, feather=0.012),
    "foundation": KindStyle(opacity=0.55, feather=0.05),
}


@dataclass(frozen=True)
class MakeupParams:
    kind: str
    color: RGB
    finish: str = "satin"
    intensity: float = 1.0
    opacity: float | None = None
    shimmer_color: RGB | None = None
    wing: bool = False
    thickness: float = 1.0
    seed: int = 0
    """Fixes the sparkle pattern (derive it from the product and shade ids)."""

    def __post_init__(self) -> None:
        if self.kind not in STYLES:
            raise InputError(f"makeup kind: expected one of {', '.join(MAKEUP_KINDS)}, got {self.kind!r}")
        if self.finish not in FINISHES:
            raise InputError(f"finish: expected one of {', '.join(FINISHES)}, got {self.finish!r}")
        for name, value in (("intensity", self.intensity), ("opacity", self.opacity)):
            if value is None and name == "opacity":
                continue
            if not isinstance(value, int | float) or not 0.0 <= float(value) <= 1.0:
                raise InputError(f"{name}: expected a number in [0, 1], got {value!r}")
        check_rgb(self.color, "color")
        if self.shimmer_color is not None:
            check_rgb(self.shimmer_color, "shimmer_color")
        if not 0.3 <= self.thickness <= 3.0:
            raise InputError(f"thickness: expected a number in [0.3, 3.0], got {self.thickness!r}")

    @property
    def coverage(self) -> float:
        base = STYLES[self.kind].opacity if self.opacity is None else self.opacity
        return float(base) * float(self.intensity)


@dataclass(frozen=True)
class _Ctx:
    lm: rg.Points
    iod: float
    width: int
    height: int


def _ctx(frame: Frame, face: Face | NDArray[np.floating]) -> _Ctx:
    lm = rg.check_landmarks(face.landmarks if isinstance(face, Face) else face)
    return _Ctx(lm, max(rg.interocular(lm), 1.0), frame.shape[1], frame.shape[0])


def _reference_luminance(y: NDArray[np.float32], alpha: NDArray[np.float32]) -> float:
    """The region's typical luminance: weighted mean over the mask's core, robust to glints."""
    w = alpha * alpha
    total = float(w.sum())
    if total <= 1e-6:
        return max(float(y.mean()), 1e-4)
    mean = float((w * y).sum() / total)
    clipped = np.minimum(y, 2.5 * mean)
    return max(float((w * clipped).sum() / total), 1e-4)


def paint(
    frame: Frame,
    mask: Mask,
    params: MakeupParams,
    *,
    finish: Finish | None = None,
    prior: NDArray[np.float32] | None = None,
    sparkles: NDArray[np.float32] | None = None,
    weight: Callable[[NDArray[np.float32], float], NDArray[np.float32]] | None = None,
) -> None:
    """Blend ``params``' shade into ``frame`` (in place) through ``mask``, in linear light.

    ``prior``: where highlights go (box-sized); ``sparkles``: a sparkle map (box-sized);
    ``weight(Y, Y_ref)``: a per-pixel factor on coverage (e.g. brow hairs over skin)."""
    box = mask.box
    coverage = params.coverage
    if box.empty or coverage <= 0.0:
        return
    alpha = mask.alpha * np.float32(coverage)
    touched = alpha > 0
    if not touched.any():
        return
    f = finish or FINISHES[params.finish]
    src = frame[box.slices]
    lin = to_linear(src)
    y = luminance(lin)
    y_ref = _reference_luminance(y, mask.alpha)
    c = linear_color(params.color)
    y_c = max(float(luminance(c)), 1e-4)
    y_t = y_c ** (1.0 - f.carry) * y_ref**f.carry
    relative = y / np.float32(y_ref)
    shade = np.power(relative, np.float32(f.shading))
    target = (c * np.float32(y_t / y_c))[None, None, :] * shade[..., None]
    light = light_level(y_ref)
    if prior is not None and (f.sheen > 0 or f.gloss > 0):
        spec_color = c / max(float(c.max()), 1e-4) if f.metallic else np.ones(3, np.float32)
        spec = f.sheen * highlight(relative, prior, sharp=False) + f.gloss * highlight(
            relative, prior, sharp=True
        )
        target = target + (spec * np.float32(light))[..., None] * spec_color
    if sparkles is not None and f.sparkle > 0:
        tint = (
            linear_color(params.shimmer_color)
            if params.shimmer_color
            else 0.5 + 0.5 * c / max(float(c.max()), 1e-4)
        )
        lit = 0.4 + 0.6 * np.clip(relative, 0.0, 1.5)
        target = target + (sparkles * lit * np.float32(f.sparkle * light))[..., None] * tint
    if weight is not None:
        alpha = alpha * weight(y, y_ref)
    with step("composite"):
        out = lin + alpha[..., None] * (target - lin)
    encoded = to_srgb(out)
    with step("composite"):
        frame[box.slices] = np.where(touched[..., None], encoded, src)


# ---------------------------------------------------------------------------------------------
# Region masks (public: the tests check them against the landmark polygons)


def lip_mask(ctx: _Ctx, kind: str = "lipstick") -> Mask:
    sigma = STYLES[kind].feather * ctx.iod
    return polygon_mask(
        [rg.lips_outer(ctx.lm)],
        sigma,
        ctx.width,
        ctx.height,
        holes=[rg.lips_inner(ctx.lm)],
        hole_sigma=0.7 * sigma,
    )


def eyeshadow_mask(ctx: _Ctx, height: float = 1.2) -> Mask:
    polys, holes = [], []
    for eye in rg.EYES:
        lash, crease = rg.lid(ctx.lm, eye, height)
        polys.append(np.concatenate([lash, crease[::-1]]))
        holes.append(rg.eye_opening(ctx.lm, eye))
    return polygon_mask(polys, STYLES["eyeshadow"].feather * ctx.iod, ctx.width, ctx.height, holes=holes)


def cheek_ellipse(ctx: _Ctx, eye: rg.EyeIndices) -> tuple[NDArray[np.float64], NDArray[np.float64], float]:
    """The ellipse (centre, semi-axes, angle in radians) fitted to a cheek apple's landmarks."""
    pts = rg.cheek(ctx.lm, eye).astype(np.float32)
    (cx, cy), (d1, d2), angle = cv2.fitEllipse(pts)
    return np.array([cx, cy]), np.array([max(d1, 1.0) / 2, max(d2, 1.0) / 2]), float(np.deg2rad(angle))


def blush_mask(ctx: _Ctx) -> Mask:
    """An airbrushed blob on each cheek apple: full inside 0.4 of the fitted ellipse's radius,
    fading smoothly to nothing at 1.6, so its half-level contour is the ellipse itself."""
    ellipses = [cheek_ellipse(ctx, eye) for eye in rg.EYES]
    reach = max(float(axes.max()) for _, axes, _ in ellipses) * 1.6 + 2
    centres = np.array([c for c, _, _ in ellipses])
    box = Box.around(centres, reach, ctx.width, ctx.height)
    if box.empty:
        return Mask(box, np.zeros((max(box.height, 0), max(box.width, 0)), np.float32))
    ys, xs = np.mgrid[box.y0 : box.y1, box.x0 : box.x1].astype(np.float32)
    alpha = np.zeros((box.height, box.width), np.float32)
    for (cx, cy), (a, b), theta in ellipses:
        dx, dy = xs - np.float32(cx), ys - np.float32(cy)
        c, s = np.float32(np.cos(theta)), np.float32(np.sin(theta))
        rho = np.sqrt(((dx * c + dy * s) / np.float32(a)) ** 2 + ((-dx * s + dy * c) / np.float32(b)) ** 2)
        alpha = np.maximum(alpha, 1.0 - smoothstep(0.4, 1.6, rho))
    return Mask(box, alpha)


def brow_mask(ctx: _Ctx) -> Mask:
    polys = [rg.brow(ctx.lm, eye) for eye in rg.EYES]
    return polygon_mask(polys, STYLES["brow"].feather * ctx.iod, ctx.width, ctx.height)


def liner_polygons(ctx: _Ctx, thickness: float, wing: bool) -> list[rg.Points]:
    polys = []
    for eye in rg.EYES:
        lash = rg.resample(rg.lash_line(ctx.lm, eye), 17)  # outer → inner
        up = rg.up_vector(ctx.lm, eye)
        t = np.linspace(0.0, 1.0, len(lash))
        width = ctx.iod * 0.042 * thickness * (1.0 - 0.8 * t**0.8)
        # follow the lid's own normal (not only the eye axis) so the band hugs the curve
        tangent = np.gradient(lash, axis=0)
        normal = np.stack([tangent[:, 1], -tangent[:, 0]], axis=1)
        normal /= np.maximum(np.linalg.norm(normal, axis=1, keepdims=True), 1e-6)
        normal *= np.sign((normal @ up)[:, None] + 1e-9)
        top = lash + normal * width[:, None]
        base = lash - normal * (0.01 * ctx.iod)  # into the lashes; the eye opening is cut out
        if wing:
            # the flick continues the lower lid's line outwards and up, from the outer corner
            axis = ctx.lm[eye.outer] - ctx.lm[eye.inner]
            axis /= max(float(np.linalg.norm(axis)), 1e-6)
            angle = np.deg2rad(18.0)
            direction = axis * np.cos(angle) + up * np.sin(angle)
            tip = lash[0] + direction * ctx.iod * 0.11 * thickness
            k = len(top) // 3
            polys.append(np.concatenate([[tip], top[:k], base[:1]]))
        polys.append(np.concatenate([top, base[::-1]]))
    return polys


def eyeliner_mask(ctx: _Ctx, thickness: float = 1.0, wing: bool = False) -> Mask:
    holes = [rg.eye_opening(ctx.lm, eye) for eye in rg.EYES]
    polys = liner_polygons(ctx, thickness, wing)
    return polygon_mask(polys, STYLES["eyeliner"].feather * ctx.iod, ctx.width, ctx.height, holes=holes)


def foundation_mask(ctx: _Ctx) -> Mask:
    """The face oval, feathered inwards, minus the eye openings and lips (foundation goes on the
    lids, under the eyes and between the brows too: holes there would show as pale patches; hair
    is spared by the renderer's skin weighting instead)."""
    lm, iod = ctx.lm, ctx.iod
    holes = [rg.grow(rg.eye_opening(lm, eye), 0.012 * iod) for eye in rg.EYES]
    holes.append(rg.grow(rg.lips_outer(lm), 0.01 * iod))
    sigma = STYLES["foundation"].feather * iod
    oval = rg.grow(rg.face_oval(lm), -1.5 * sigma)  # feather inwards: nothing on hair or background
    return polygon_mask([oval], sigma, ctx.width, ctx.height, holes=holes, hole_sigma=0.015 * iod)


# ---------------------------------------------------------------------------------------------
# Renderers: each paints one face in place; the public ``render_*`` wrap them (copy, validate).


def _sparkle_scale(ctx: _Ctx) -> tuple[float, float]:
    """Sparkles per square pixel and their blur, both relative to the face's size."""
    return 400.0 / ctx.iod**2, max(0.45, 0.008 * ctx.iod)


def _lips(frame: Frame, ctx: _Ctx, p: MakeupParams) -> None:
    mask = lip_mask(ctx, p.kind)
    if mask.box.empty:
        return
    lm = ctx.lm
    lower_o, lower_i = lm[list(rg.LIPS_LOWER_OUTER)], lm[list(rg.LIPS_LOWER_INNER)]
    upper_o, upper_i = lm[list(rg.LIPS_UPPER_OUTER)], lm[list(rg.LIPS_UPPER_INNER)]
    quads = np.concatenate(
        [
            rg.strip_quads(lower_o + (lower_i - lower_o) * 0.25, lower_o + (lower_i - lower_o) * 0.7),
            rg.strip_quads(upper_o + (upper_i - upper_o) * 0.35, upper_o + (upper_i - upper_o) * 0.75),
        ]
    )
    bell = np.exp(-(((np.arange(10) - 4.5) / 2.6) ** 2))
    prior = specular_prior(mask.box, quads, np.concatenate([bell, 0.6 * bell]), 0.02 * ctx.iod)
    finish = FINISHES[p.finish]
    if p.kind == "lip_gloss":  # sheer: more of the lips' own colour shows through
        finish = Finish(**{**finish.__dict__, "carry": max(finish.carry, 0.6)})
    sparkles = None
    if finish.sparkle > 0:
        density, size = _sparkle_scale(ctx)
        sparkles = sparkle_field(mask.box, rg.lip_quads(lm), p.seed, density, size)
    paint(frame, mask, p, finish=finish, prior=prior, sparkles=sparkles)


def _fan_quads(poly: rg.Points) -> NDArray[np.float64]:
    c = poly.mean(axis=0)
    nxt = np.roll(poly, -1, axis=0)
    return np.stack([np.repeat(c[None], len(poly), axis=0), poly, nxt, nxt], axis=1)


def _blush(frame: Frame, ctx: _Ctx, p: MakeupParams) -> None:
    mask = blush_mask(ctx)
    finish = FINISHES[p.finish]
    finish = Finish(**{**finish.__dict__, "carry": max(finish.carry, 0.6)})
    sparkles = None
    if finish.sparkle > 0:
        density, size = _sparkle_scale(ctx)
        quads = np.concatenate([_fan_quads(rg.cheek(ctx.lm, eye)) for eye in rg.EYES])
        sparkles = sparkle_field(mask.box, quads, p.seed, density * 0.5, size)
    paint(frame, mask, p, finish=finish, prior=mask.alpha, sparkles=sparkles)


def _eyeshadow(frame: Frame, ctx: _Ctx, p: MakeupParams) -> None:
    mask = eyeshadow_mask(ctx)
    sparkles = None
    if FINISHES[p.finish].sparkle > 0:
        density, size = _sparkle_scale(ctx)
        quads = np.concatenate([rg.strip_quads(*rg.lid(ctx.lm, eye, 1.2)) for eye in rg.EYES])
        sparkles = sparkle_field(mask.box, quads, p.seed, density, size)
    paint(frame, mask, p, prior=mask.alpha, sparkles=sparkles)


def _eyeliner(frame: Frame, ctx: _Ctx, p: MakeupParams) -> None:
    mask = eyeliner_mask(ctx, p.thickness, p.wing)
    f = FINISHES[p.finish]
    # a thin line: a gloss shows as a faint wet sheen, not as white streaks along it
    finish = Finish(
        **{**f.__dict__, "carry": 0.1, "shading": 0.4, "gloss": 0.3 * f.gloss, "sheen": 0.3 * f.sheen}
    )
    paint(frame, mask, p, finish=finish, prior=mask.alpha)


def _hairs(y: NDArray[np.float32], y_ref: float) -> NDArray[np.float32]:
    """Brow tint goes on the hairs (at or below the brow's mean luminance) more than on the
    brighter skin between them."""
    out: NDArray[np.float32] = 1.0 - 0.65 * smoothstep(1.0, 1.35, y / np.float32(y_ref))
    return out


def _brow(frame: Frame, ctx: _Ctx, p: MakeupParams) -> None:
    paint(frame, brow_mask(ctx), p, weight=_hairs)


def _skin(y: NDArray[np.float32], y_ref: float) -> NDArray[np.float32]:
    """Foundation covers skin, not the much darker brow hairs, lashes or fringe over it."""
    out: NDArray[np.float32] = 0.1 + 0.9 * smoothstep(0.25, 0.55, y / np.float32(y_ref))
    return out


def _foundation(frame: Frame, ctx: _Ctx, p: MakeupParams) -> None:
    mask = foundation_mask(ctx)
    box = mask.box
    if box.empty or p.coverage <= 0:
        return
    src = frame[box.slices]
    # even the skin: edge-preserving smoothing, half of it, so pores and texture stay
    smooth = cv2.bilateralFilter(src, d=0, sigmaColor=14.0, sigmaSpace=max(1.0, 0.02 * ctx.iod))
    a = (mask.alpha * np.float32(0.5 * p.coverage))[..., None]
    mixed = np.clip(src + a * (smooth.astype(np.float32) - src), 0, 255) + 0.5
    frame[box.slices] = np.where(a > 0, mixed.astype(np.uint8), src)
    paint(frame, mask, p, prior=mask.alpha, weight=_skin)


_RENDERERS: dict[str, Callable[[Frame, _Ctx, MakeupParams], None]] = {
    "foundation": _foundation,
    "blush": _blush,
    "brow": _brow,
    "eyeshadow": _eyeshadow,
    "eyeliner": _eyeliner,
    "lipstick": _lips,
    "lip_gloss": _lips,
}


def render(frame: object, face: Face | NDArray[np.floating], params: MakeupParams) -> Frame:
    """One product on one face; returns a new frame (the input is not modified)."""
    out = validate_frame(frame).copy()
    _RENDERERS[params.kind](out, _ctx(out, face), params)
    return out


def render_look(frame: object, faces: list[Face], look: list[MakeupParams]) -> Frame:
    """Several products on every face, applied in :data:`MAKEUP_KINDS` order (stable for ties)."""
    out = validate_frame(frame).copy()
    ordered = sorted(look, key=lambda p: MAKEUP_KINDS.index(p.kind))
    for face in faces:
        ctx = _ctx(out, face)
        for params in ordered:
            _RENDERERS[params.kind](out, ctx, params)
    return out


def region_mask(
    frame_shape: tuple[int, ...], face: Face | NDArray[np.floating], kind: str | MakeupParams
) -> Mask:
    """The soft mask a kind (or a product's parameters) paints through on ``face``, before
    coverage: for tests, tools and debugging views."""
    h, w = frame_shape[:2]
    if isinstance(kind, MakeupParams):
        params, kind = kind, kind.kind
    else:
        params = None
    lm = rg.check_landmarks(face.landmarks if isinstance(face, Face) else face)
    ctx = _Ctx(lm, max(rg.interocular(lm), 1.0), w, h)
    builders: dict[str, Callable[[_Ctx], Mask]] = {
        "lipstick": lip_mask,
        "lip_gloss": lambda c: lip_mask(c, "lip_gloss"),
        "blush": blush_mask,
        "eyeshadow": eyeshadow_mask,
        "eyeliner": lambda c: eyeliner_mask(c, params.thickness, params.wing) if params else eyeliner_mask(c),
        "brow": brow_mask,
        "foundation": foundation_mask,
    }
    if kind not in builders:
        raise InputError(f"makeup kind: expected one of {', '.join(MAKEUP_KINDS)}, got {kind!r}")
    return builders[kind](ctx)


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


@renders(*MAKEUP_KINDS, grouped=True)
def makeup_layer(request: LayerRequest) -> Layer:
    """Every makeup item of the look on every face, composed on the skin in :data:`MAKEUP_KINDS`
    order."""
    look = [makeup_params(item) for item in request.items]

    def makeup(out: Frame, r: FrameResult) -> Frame:
        return render_look(out, r.faces, look) if r.faces else out

    return makeup
