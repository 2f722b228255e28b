"""Background removal for a product photographed on a plain, light background.

The background may be textured (paper grain, sensor and JPEG noise), lit unevenly (a gradient, a
vignette) and carry the product's soft drop shadow. The steps:

1. :func:`fit_background`: a smooth (quadratic) colour surface fitted robustly to the photo's border,
   which must be light and plain (else :class:`~tryon.errors.InputError` says why).
2. :func:`segment`: edges (the gradient of the photo relative to that surface, above a threshold the
   border's texture sets; weaker edges continue strong ones only where they are sharp, so a
   shadow's blurred edge is not one) make a thin *unknown* band; the regions between them are each
   wholly product or wholly background. Regions reaching the border are background; enclosed ones
   are background when much of them is the background's own colour (a hole: a clear lens, a hoop)
   or when they are a piece of shadow (no tint, and only soft edges towards the background).
   Colours no shadow has (tinted, lighter than the paper, very dark) are product wherever they are,
   which closes outlines whose edge fades where the product's lit side matches the paper.
3. :func:`solve_alpha`: in the band, alpha from the compositing equation ``I = a F + (1 - a) B``: ``B``
   the background extrapolated from its nearest known pixel (along a plane fitted there, so the
   steep side of a shadow next to the product is followed and does not leak into the alpha), ``F``
   the product's colour nearby (a part too thin to have known product pixels, a wire or a chain,
   takes its own strongest pixels), with the product's shade solved for too where its hue differs
   from the paper's. ``F`` is kept as the output colour: no light fringe. Band pixels far from any
   background are inside the product.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from tryon.errors import InputError

logger = logging.getLogger(__name__)

F32 = NDArray[np.float32]
Mask = NDArray[np.bool_]

MIN_LIGHTNESS = 0.6
"""The median lightness (0..1) the photo's border must exceed."""
MAX_BORDER_OUTLIERS = 0.1
"""The largest share of border pixels allowed to differ from the smooth background fit by more than
:data:`OUTLIER_DISTANCE`."""
OUTLIER_DISTANCE = 0.12
MAX_BORDER_NOISE = 0.05
"""The largest robust spread of the border around the fit (0..1 colour units)."""
EDGE_HIGH = 0.06
"""The smallest gradient (relative to the background, per pixel) that starts a product edge; a soft
shadow stays below it. Raised on a textured background (by its border's gradients)."""
EDGE_LOW = 0.035
"""The smallest gradient that continues an edge (hysteresis)."""
SHARPNESS = 0.3
"""How much weaker (share) a weak edge must be at a coarse scale than at a fine one."""
GAP_RADIUS = 3
"""Gaps in an edge up to about twice this many pixels are closed."""
LIGHTNESS_TOLERANCE = 0.04
CHROMA_TOLERANCE = 0.035
"""How far (relative to the background, smoothed) a pixel may be from it and still be background
colour; raised on a textured background."""
SHADOW_DARKEST = 0.4
"""Darker than this share of the background is product, never shadow."""
HOLE_SHARE = 0.4
"""An enclosed region at least this much of the background's own colour is a hole."""
SHADOW_SHARP = 0.05
"""An enclosed region is a piece of shadow when less than this share of its border with the
background is a strong edge."""
BAND_RADIUS = 2
"""Half-width in pixels of the unknown band around edges."""
INSIDE_DISTANCE = 2 * BAND_RADIUS + 2
"""Band pixels farther than this from known background are inside the product."""
EXTRAPOLATE = 6.0
"""The farthest (pixels) the background is extrapolated from its nearest known pixel."""
HUE_SEPARATION = 0.02
"""The squared sine of the angle between the product's and the background's colours above which an
edge pixel's shade is solved for too (:func:`_shading_invariant`)."""
HUE_WEIGHT = 0.7
"""That solution's weight against the plain unmixing (which reads JPEG's blurred chroma less)."""
MIN_PRODUCT = 0.0005
"""The product covers at least this share of the photo."""
MIN_SPECK = 12
"""Opaque components smaller than this many pixels (or than :data:`MIN_PART` of the largest) are dust."""
MIN_PART = 0.002


@dataclass(frozen=True)
class Background:
    """The smooth background colour of the photo (fitted to its border) and how noisy it is."""

    color: F32
    """``(H, W, 3)`` in 0..1."""
    noise: float
    """Robust standard deviation of the border around the fit, 0..1."""
    lightness: float
    """Median lightness of the border, 0..1."""


@dataclass
class Segmentation:
    """Known product and background regions separated by an unknown band along the sharp edges."""

    image: F32
    background: Background
    labels: NDArray[np.int32]
    """``(H, W)``: 0 in the unknown band, else the region's label."""
    stats: NDArray[np.int32]
    """``cv2.connectedComponentsWithStats`` rows (x, y, w, h, area) per label."""
    ratio: F32
    """``(n, 3)`` each region's mean colour divided by the background's."""
    is_bg: Mask
    """``(n,)`` whether each region is background (label 0 is the band: False)."""
    touches_border: Mask

    @property
    def unknown(self) -> Mask:
        out: Mask = self.labels == 0
        return out

    def region(self, label: int) -> Mask:
        out: Mask = self.labels == label
        return out


@dataclass(frozen=True)
class Matte:
    """The product's alpha and colour (background colour removed from its edge pixels)."""

    alpha: F32
    """``(H, W)`` in 0..1."""
    color: F32
    """``(H, W, 3)`` in 0..1; meaningful where alpha > 0."""


def _luma(rgb: NDArray[np.floating]) -> NDArray[np.floating]:
    return np.asarray(rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114)


def _poly(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.stack([np.ones_like(x), x, y, x * x, x * y, y * y], axis=-1)


def border_width(shape: tuple[int, ...]) -> int:
    return max(4, round(0.03 * min(shape[0], shape[1])))


def fit_background(image: F32) -> Background:
    """A quadratic colour surface fitted to the photo's border, robustly (texture and dust ignored).

    :class:`InputError` when the border is not light, or not plain (the product covers it, or the
    background is busy)."""
    h, w = image.shape[:2]
    b = border_width(image.shape)
    edge = np.zeros((h, w), bool)
    edge[:b], edge[-b:], edge[:, :b], edge[:, -b:] = True, True, True, True
    ys, xs = np.nonzero(edge)
    step = max(1, len(ys) // 20000)
    ys, xs = ys[::step], xs[::step]
    colors = image[ys, xs].astype(np.float64)
    lightness = float(np.median(_luma(colors)))
    if lightness <= MIN_LIGHTNESS:
        raise InputError(
            "no product found: the photo's border is not a plain light background "
            f"(median border lightness {lightness:.2f}, expected > {MIN_LIGHTNESS})"
        )
    design = _poly(xs / (w - 1) * 2 - 1, ys / (h - 1) * 2 - 1)
    keep = np.ones(len(ys), bool)
    sigma = 0.0
    for _ in range(4):
        coef, *_ = np.linalg.lstsq(design[keep], colors[keep], rcond=None)
        residual = np.linalg.norm(colors - design @ coef, axis=1)
        sigma = float(1.4826 * np.median(residual[keep])) / np.sqrt(3)
        keep = residual <= max(4 * sigma * np.sqrt(3), 0.03)
    outliers = float(np.mean(residual > OUTLIER_DISTANCE))
    if outliers > MAX_BORDER_OUTLIERS or sigma > MAX_BORDER_NOISE:
        raise InputError(
            "no product found: the photo's border is not a plain background "
            f"({outliers:.0%} of it differs from a smooth fit by more than {OUTLIER_DISTANCE}, "
            f"expected at most {MAX_BORDER_OUTLIERS:.0%}; its spread {sigma:.3f}, expected < "
            f"{MAX_BORDER_NOISE}); photograph the product alone on plain light paper, with a margin"
        )
    gx = np.linspace(-1.0, 1.0, w)[None, :]
    gy = np.linspace(-1.0, 1.0, h)[:, None]
    c = coef.astype(np.float64)
    surface = c[0] + c[1] * gx[..., None] + c[2] * gy[..., None]
    surface = (
        surface + c[3] * (gx * gx)[..., None] + c[4] * (gx * gy)[..., None] + c[5] * (gy * gy)[..., None]
    )
    color = np.clip(surface, 1e-3, 1.0).astype(np.float32)
    logger.debug("background: lightness %.2f, noise %.4f, outliers %.1f%%", lightness, sigma, 100 * outliers)
    return Background(color=color, noise=sigma, lightness=lightness)


def edge_strength(image: F32, background: Background, sigma: float = 0.8) -> F32:
    """Per-pixel gradient magnitude of the photo divided by the background (so in 0..1 per pixel),
    at the scale ``sigma``."""
    smooth = cv2.GaussianBlur(image, (0, 0), sigma)
    ratio = smooth / background.color
    gx = cv2.Sobel(ratio, cv2.CV_32F, 1, 0, ksize=3) / 8.0
    gy = cv2.Sobel(ratio, cv2.CV_32F, 0, 1, ksize=3) / 8.0
    out: F32 = np.sqrt((gx * gx + gy * gy).sum(axis=2)).astype(np.float32)
    return out


def _border(values: NDArray[np.floating], b: int) -> NDArray[np.floating]:
    return np.concatenate(
        [values[:b].ravel(), values[-b:].ravel(), values[:, :b].ravel(), values[:, -b:].ravel()]
    )


def edge_map(image: F32, background: Background) -> tuple[Mask, Mask]:
    """Sharp edges: the gradient above a threshold set by the border's texture, with hysteresis (a
    weaker edge counts where it continues a strong one) and short gaps closed; and the strong ones
    alone."""
    grad = edge_strength(image, background)
    ref = float(np.percentile(_border(grad, border_width(image.shape)), 99.9))
    high, low = max(EDGE_HIGH, 2.0 * ref), max(EDGE_LOW, 1.2 * ref)
    # A weak edge must be sharp: much stronger at a fine scale than at a coarse one (a shadow's
    # edge, blurred, is about as strong at both).
    coarse = edge_strength(image, background, 3.0)
    weak = (grad > low) & (grad - coarse > SHARPNESS * grad)
    n, labels = cv2.connectedComponents((weak | (grad > high)).astype(np.uint8), connectivity=8)
    keep = np.zeros(n, bool)
    keep[np.unique(labels[grad > high])] = True
    keep[0] = False
    size = 2 * GAP_RADIUS + 1
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    closed = cv2.morphologyEx(keep[labels].astype(np.uint8), cv2.MORPH_CLOSE, kernel)
    logger.debug("edges: thresholds %.3f / %.3f", high, low)
    return closed > 0, grad > high


def shadow_ratio(image: F32, background: Background) -> tuple[F32, F32]:
    """Lightness ``k`` and chroma of the photo relative to the background (smoothed): a shadow has
    ``k`` in about [0.4, 1] and no chroma."""
    ratio = cv2.GaussianBlur(image, (0, 0), 1.5) / background.color
    k = ratio.mean(axis=2)
    chroma = np.abs(ratio - k[..., None]).max(axis=2)
    return k.astype(np.float32), chroma.astype(np.float32)


def _regions(
    band: NDArray[np.uint8], k: F32, chroma: F32, definite: Mask, k_tol: float, c_tol: float
) -> tuple[NDArray[np.int32], NDArray[np.int32], Mask, Mask]:
    """Label the regions outside ``band`` and classify them: ``(labels, stats, is_bg, touches)``."""
    h, w = band.shape
    n, labels, stats, _ = cv2.connectedComponentsWithStats((band == 0).astype(np.uint8), connectivity=4)
    flat = labels.ravel()
    area = np.maximum(np.bincount(flat, minlength=n), 1).astype(np.float64)
    like_bg = (np.abs(k - 1.0) <= k_tol) & (chroma <= c_tol)
    share_bg = np.bincount(flat, like_bg.ravel().astype(np.float64), minlength=n) / area
    share_definite = np.bincount(flat, definite.ravel().astype(np.float64), minlength=n) / area
    x, y, bw, bh = stats[:, 0], stats[:, 1], stats[:, 2], stats[:, 3]
    touches = (x == 0) | (y == 0) | (x + bw == w) | (y + bh == h)
    # An enclosed region is a hole when much of it is the background's own colour (the rest may be
    # in a shadow), and hardly any of it a colour no shadow has.
    hole = (share_bg >= HOLE_SHARE) & (share_definite < 0.5)
    is_bg = (touches & (share_definite < 0.5)) | hole
    is_bg[0] = False
    touches[0] = False
    return labels.astype(np.int32), stats.astype(np.int32), is_bg, touches


def _shadows(
    labels: NDArray[np.int32],
    stats: NDArray[np.int32],
    is_bg: Mask,
    touches: Mask,
    strong: Mask,
    definite: Mask,
) -> Mask:
    """``is_bg`` with the enclosed regions that are a piece of shadow made background: regions of
    shadow colours (no tint, not very dark) whose whole border with the background is soft (a
    shadow's edge is blurred; a product's has sharp stretches even where its lit side fades)."""
    n = len(stats)
    flat = labels.ravel()
    area = np.maximum(np.bincount(flat, minlength=n), 1)
    share_definite = np.bincount(flat, definite.ravel().astype(np.float64), minlength=n) / area
    out = is_bg.copy()
    reach = 2 * BAND_RADIUS + 3
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1, 2 * reach + 1))
    h, w = labels.shape
    for _ in range(2):  # a shadow may come in pieces, one behind another
        changed = False
        background = out[labels] & (labels > 0)
        for label in np.flatnonzero(~out & ~touches & (share_definite < 0.2)):
            if label == 0 or stats[label, cv2.CC_STAT_AREA] < MIN_SPECK:
                continue
            x, y, bw, bh = (int(v) for v in stats[label, :4])
            x0, y0, x1, y1 = (
                max(x - 2 * reach, 0),
                max(y - 2 * reach, 0),
                min(x + bw + 2 * reach, w),
                min(y + bh + 2 * reach, h),
            )
            sub = labels[y0:y1, x0:x1]
            near_region = cv2.dilate((sub == label).astype(np.uint8), kernel) > 0
            near_bg = cv2.dilate(background[y0:y1, x0:x1].astype(np.uint8), kernel) > 0
            between = near_region & near_bg & (sub == 0)
            if between.sum() >= 2 * reach and strong[y0:y1, x0:x1][between].mean() < SHADOW_SHARP:
                out[label] = True
                changed = True
        if not changed:
            break
    return out


def segment(image: F32, background: Background | None = None) -> Segmentation:
    """Known regions (product or background) and the unknown band between them; see the module doc."""
    bg = background or fit_background(image)
    b = border_width(image.shape)
    k, chroma = shadow_ratio(image, bg)
    k_tol = max(LIGHTNESS_TOLERANCE, 1.5 * float(np.percentile(np.abs(_border(k, b) - 1.0), 99.9)))
    c_tol = max(CHROMA_TOLERANCE, 1.5 * float(np.percentile(_border(chroma, b), 99.9)))
    # Colours no shadow on the background has: tinted, lighter than it, or very dark.
    definite = (chroma > c_tol) | (k > 1.0 + k_tol) | (k < SHADOW_DARKEST)
    size = 2 * BAND_RADIUS + 1
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    edge_mask, strong = edge_map(image, bg)
    edges = edge_mask.astype(np.uint8)
    band: NDArray[np.uint8] = np.asarray(cv2.dilate(edges, kernel), np.uint8)
    labels, stats, is_bg, touches = _regions(band, k, chroma, definite, k_tol, c_tol)
    # Where an edge is too faint to close the outline, the background region runs into the
    # product: product colours inside background regions get an outline of their own.
    leaked = (definite & is_bg[labels]).astype(np.uint8)
    leaked = np.asarray(cv2.morphologyEx(leaked, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)), np.uint8)
    if leaked.any():
        outline = leaked - np.asarray(cv2.erode(leaked, np.ones((3, 3), np.uint8)), np.uint8)
        band = np.asarray(cv2.dilate(edges | outline, kernel), np.uint8)
        labels, stats, is_bg, touches = _regions(band, k, chroma, definite, k_tol, c_tol)
    is_bg = _shadows(labels, stats, is_bg, touches, strong, definite)
    n = len(stats)
    flat = labels.ravel()
    area = np.maximum(np.bincount(flat, minlength=n), 1).astype(np.float64)
    ratio_img = (image / bg.color).reshape(-1, 3)
    ratio = np.stack([np.bincount(flat, ratio_img[:, c], minlength=n) / area for c in range(3)], axis=1)
    logger.debug("segment: %d regions, lightness tolerance %.3f, chroma %.3f", n - 1, k_tol, c_tol)
    return Segmentation(
        image=image,
        background=bg,
        labels=labels,
        stats=stats,
        ratio=ratio.astype(np.float32),
        is_bg=is_bg,
        touches_border=touches,
    )
