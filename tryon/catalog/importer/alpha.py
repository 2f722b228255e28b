"""The matte of a product photo: each edge pixel's alpha solved from the background extrapolated
under it and the product's colour next to it, specks removed; :func:`extract` runs the whole cut
(:func:`tryon.catalog.importer.matte.segment` first) and refuses photos with no product or one that
runs off the edge."""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from tryon.catalog.importer.matte import (
    EXTRAPOLATE,
    F32,
    HUE_SEPARATION,
    HUE_WEIGHT,
    INSIDE_DISTANCE,
    MIN_PART,
    MIN_PRODUCT,
    MIN_SPECK,
    Mask,
    Matte,
    Segmentation,
    segment,
)
from tryon.errors import InputError


def _normalized_blur(image: F32, mask: Mask, sigma: float) -> tuple[F32, F32]:
    """The mean of ``image`` over ``mask`` around each pixel (Gaussian weights) and the weight."""
    m = mask.astype(np.float32)
    weight = cv2.GaussianBlur(m, (0, 0), sigma)
    total = cv2.GaussianBlur(image * m[..., None], (0, 0), sigma)
    mean = total / np.maximum(weight, 1e-6)[..., None]
    return mean.astype(np.float32), weight.astype(np.float32)


def _nearest(
    image: F32, known: Mask, ys: NDArray[np.intp], xs: NDArray[np.intp], sigma: float
) -> tuple[F32, F32]:
    """For the pixels ``(ys, xs)``: the (slightly smoothed) colour of the nearest ``known`` pixel and
    the distance to it. The nearest one, not an average around: a thin rim between the photo's
    background and a dark lens has a different background on each side, a rounded wire a lighter
    and a darker edge."""
    smooth, _ = _normalized_blur(image, known, sigma)
    dist, nearest = cv2.distanceTransformWithLabels(
        (~known).astype(np.uint8), cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL
    )
    ky, kx = np.nonzero(known)  # scan order, as the labels count them
    idx = nearest[ys, xs] - 1
    return smooth[ky[idx], kx[idx]], dist[ys, xs].astype(np.float32)


def _plane_kernels(sigma: float) -> list[NDArray[np.float32]]:
    r = int(np.ceil(3 * sigma))
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1].astype(np.float32)
    g = np.exp(-(xx * xx + yy * yy) / (2 * sigma * sigma)).astype(np.float32)
    return [g, g * xx, g * yy, g * xx * xx, g * xx * yy, g * yy * yy]


def _extrapolated_background(
    image: F32, known: Mask, ys: NDArray[np.intp], xs: NDArray[np.intp], sigma: float = 2.0
) -> tuple[F32, F32]:
    """For the pixels ``(ys, xs)``: the background colour there, extrapolated from the nearest known
    background pixel ``q`` along a plane fitted to the known pixels around ``q`` (Gaussian-weighted
    least squares: first-order normalized convolution), so the steep side of a shadow next to the
    product is followed; and the distance to ``q``."""
    dist, nearest = cv2.distanceTransformWithLabels(
        (~known).astype(np.uint8), cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL
    )
    ky, kx = np.nonzero(known)
    idx = nearest[ys, xs] - 1
    qy, qx = ky[idx], kx[idx]
    m = known.astype(np.float32)
    k0, kx_, ky_, kxx, kxy, kyy = _plane_kernels(sigma)

    def corr(src: F32, kernel: NDArray[np.float32]) -> F32:
        out = cv2.filter2D(src, cv2.CV_32F, kernel, borderType=cv2.BORDER_CONSTANT)
        picked: F32 = np.asarray(out, np.float32)[qy, qx]
        return picked

    s0, sx, sy = corr(m, k0), corr(m, kx_), corr(m, ky_)
    sxx, sxy, syy = corr(m, kxx), corr(m, kxy), corr(m, kyy)
    ridge = 1e-3 * s0 + 1e-6
    a = np.stack(
        [
            np.stack([s0, sx, sy], -1),
            np.stack([sx, sxx + ridge, sxy], -1),
            np.stack([sy, sxy, syy + ridge], -1),
        ],
        -2,
    ).astype(np.float64)
    weighted = image * m[..., None]
    rhs = np.stack(
        [np.stack([corr(weighted[..., c], k) for k in (k0, kx_, ky_)], -1) for c in range(3)], -1
    ).astype(np.float64)
    a[:, 0, 0] += 1e-9
    coef = np.linalg.solve(a, rhs)  # (n, 3 [c, gx, gy], 3 channels)
    step = np.stack([xs - qx, ys - qy], -1).astype(np.float64)
    reach = np.linalg.norm(step, axis=1, keepdims=True)
    step *= np.minimum(1.0, EXTRAPOLATE / np.maximum(reach, 1e-9))
    back = coef[:, 0] + step[:, :1] * coef[:, 1] + step[:, 1:] * coef[:, 2]
    return np.clip(back, 0.0, 1.2).astype(np.float32), dist[ys, xs].astype(np.float32)


def _strongest_around(
    image: F32, strength: F32, ys: NDArray[np.intp], xs: NDArray[np.intp], radius: int
) -> F32:
    """For the pixels ``(ys, xs)``: the colour of the pixel within ``radius`` with the largest
    ``strength`` (how far it is from its own background)."""
    h, w = strength.shape
    best = np.full(len(ys), -1.0, np.float32)
    out = image[ys, xs].copy()
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            ny, nx = np.clip(ys + dy, 0, h - 1), np.clip(xs + dx, 0, w - 1)
            s = strength[ny, nx]
            better = s > best
            best = np.where(better, s, best)
            out[better] = image[ny[better], nx[better]]
    return out


def _project(diff: F32, span: F32) -> tuple[F32, F32]:
    """``diff`` projected on ``span`` (the alpha of a mix ``B + a (F - B)``), and ``|span|``."""
    span2 = (span * span).sum(axis=1)
    return (diff * span).sum(axis=1) / np.maximum(span2, 1e-9), np.sqrt(span2)


def _shading_invariant(diff: F32, back: F32, fore: F32, alpha: F32, valid: Mask) -> tuple[F32, F32]:
    """Refine ``alpha`` where the product's colour ``fore`` has a hue the background lacks: a
    product's colour varies across it mostly in brightness (shading), so an edge pixel is
    ``B + a (s F - B)`` with an unknown shade ``s``; solving for both keeps the darker or lighter
    edge of a rounded wire from reading as more or less coverage."""
    norm = np.linalg.norm(fore, axis=1)
    g = fore / np.maximum(norm, 1e-6)[:, None]
    gg = (g * g).sum(axis=1)
    bb = (back * back).sum(axis=1)
    gb = (g * back).sum(axis=1)
    dg = (diff * g).sum(axis=1)
    db = (diff * back).sum(axis=1)
    det = gg * bb - gb * gb
    u = (dg * bb - db * gb) / np.maximum(det, 1e-9)
    a = (dg * gb - db * gg) / np.maximum(det, 1e-9)
    shade = u / np.maximum(a * norm, 1e-6)
    ok = (
        valid
        & (det > HUE_SEPARATION * gg * bb)
        & (norm > 0.25 * np.sqrt(bb))
        & (np.sqrt(bb) > norm)
        & (shade > 0.3)
        & (shade < 3.0)
    )
    alpha_out = np.where(ok, HUE_WEIGHT * a + (1.0 - HUE_WEIGHT) * alpha, alpha)
    fore_out = np.where((ok & (a > 0.1))[:, None], fore * np.clip(shade, 0.0, 2.0)[:, None], fore)
    return alpha_out.astype(np.float32), fore_out.astype(np.float32)


def solve_alpha(seg: Segmentation, is_bg: Mask | None = None) -> Matte:
    """Alpha and product colour from a segmentation (``is_bg`` overrides its region classes)."""
    image, labels = seg.image, seg.labels
    classes = seg.is_bg if is_bg is None else is_bg
    unknown = labels == 0
    known_bg = classes[labels] & ~unknown
    known_fg = ~classes[labels] & ~unknown
    alpha = known_fg.astype(np.float32)
    color = image.copy()
    ys, xs = np.nonzero(unknown)
    if len(ys):
        pixels = image[ys, xs]
        if known_bg.any():
            back, dist_bg = _extrapolated_background(image, known_bg, ys, xs)
        else:
            back, dist_bg = seg.background.color[ys, xs], np.full(len(ys), np.inf, np.float32)
        diff = pixels - back
        floor = max(0.08, 6.0 * seg.background.noise)
        # The product's colour: its known pixels near by, or (a part too thin to have any) the
        # colour around that differs most from its background.
        fg_blur, w_fg = _normalized_blur(image, known_fg, 2.0)
        has_fg = w_fg[ys, xs] >= 0.05
        fore = fg_blur[ys, xs]
        strength = np.zeros(unknown.shape, np.float32)
        strength[ys, xs] = np.linalg.norm(diff, axis=1)
        thin = _strongest_around(image, strength, ys, xs, 3)
        a_fg, span_fg = _project(diff, fore - back)
        a_thin, span_thin = _project(diff, thin - back)
        # The strongest pixel is one sample (noisy, the darkest of the shading): average the thin
        # part's colour over its pixels found opaque with it, along the part.
        core = known_fg.copy()
        core[ys, xs] |= (a_thin >= 0.9) & (span_thin >= floor)
        core_color, core_dist = _nearest(image, core, ys, xs, 0.7)
        has_core = core_dist <= 3
        thin = np.where(has_core[:, None], core_color, thin)
        a_thin, span_thin = _project(diff, thin - back)
        use_fg = has_fg & (span_fg >= floor)
        use_thin = ~use_fg & (span_thin >= floor)
        a = np.where(use_fg, a_fg, np.where(use_thin, a_thin, 0.0))
        f = np.where(use_fg[:, None], fore, thin)
        a, f = _shading_invariant(diff, back, f, a, use_fg | use_thin)
        # Far from any known background: inside the product (edges within it: shading, texture).
        inside = dist_bg > INSIDE_DISTANCE
        a = np.where(inside, 1.0, a)
        f = np.where(inside[:, None], pixels, f)
        alpha[ys, xs] = np.clip(a, 0.0, 1.0)
        color[ys, xs] = np.clip(f, 0.0, 1.0)
    alpha[alpha < 0.02] = 0.0
    alpha[alpha > 0.98] = 1.0
    return Matte(alpha=remove_specks(alpha), color=color)


def remove_specks(alpha: F32) -> F32:
    """Zero opaque components far smaller than the largest (dust), and faint alpha away from the rest."""
    solid = (alpha > 0.5).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(solid, connectivity=8)
    if n <= 1:
        return np.zeros_like(alpha)
    areas = stats[1:, cv2.CC_STAT_AREA]
    keep_min = max(MIN_SPECK, MIN_PART * float(areas.max()))
    keep = np.concatenate([[False], areas >= keep_min])
    kept = keep[labels].astype(np.uint8)
    near = cv2.dilate(kept, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))) > 0
    out: F32 = np.where(near & ((labels == 0) | keep[labels]), alpha, 0.0).astype(np.float32)
    return out


def extract(image: F32) -> tuple[Segmentation, Matte]:
    """:func:`segment` then :func:`solve_alpha`; :class:`InputError` when nothing stands out, or
    when the product runs off the photo."""
    seg = segment(image)
    matte = solve_alpha(seg)
    solid = (matte.alpha > 0.5).astype(np.uint8)
    h, w = solid.shape
    n, _, stats, _ = cv2.connectedComponentsWithStats(solid, connectivity=8)
    largest = int(stats[1:, cv2.CC_STAT_AREA].max()) if n > 1 else 0
    if largest < MIN_PRODUCT * h * w:
        raise InputError(
            "no product found: nothing in the photo stands out from its background "
            f"(the largest sharp-edged region covers {largest / (h * w):.2%} of it, expected at least "
            f"{MIN_PRODUCT:.2%})"
        )
    sides = [
        name
        for name, edge in (
            ("top", solid[0]),
            ("bottom", solid[-1]),
            ("left", solid[:, 0]),
            ("right", solid[:, -1]),
        )
        if edge.any()
    ]
    if sides:
        raise InputError(
            f"the product runs off the photo (at the {' and '.join(sides)} edge); photograph it whole, "
            "with a margin of background all round"
        )
    return seg, matte
