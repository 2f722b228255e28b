"""Anchor points of an imported product, from its alpha (and, for eyewear, its lens openings).

Every function takes pixel coordinates of the photo (x right, y down, pixel centres at integers)
and returns them the same way; "left" and "right" are the wearer's, so a ``left_*`` anchor has
the larger x. Each raises :class:`~tryon.errors.InputError` saying what it expected and found.

- glasses, sunglasses: the two lens openings are the pair of enclosed, compact regions that mirror
  each other best about a vertical axis (clear lenses show the background, dark ones are a solid
  colour inside the rim); their box centres are ``left_lens``/``right_lens``; ``bridge`` is where the
  bar between them crosses the axis (its top edge, as the starter assets have it); the hinges are
  the outermost points of the frame (the centre of the end of each temple stub). All symmetrised
  about the axis.
- earrings: ``hook``, the top of the ear wire (the topmost opaque rows, their centre), or the centre
  of a stud (a compact, solid item with no wire above it).
- hat: ``brim_left``/``brim_right``, the outer ends of the brim (the widest rows of the hat's lower
  half), at the brim's vertical centre there.
- necklace: ``left_end``/``right_end``, the topmost opaque point of each half (the chain's ends).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from tryon.catalog.importer.matte import BAND_RADIUS, F32, Mask, Segmentation
from tryon.errors import InputError

logger = logging.getLogger(__name__)

Point = tuple[float, float]

MIN_LENS_AREA = 0.01
"""A lens opening covers at least this share of the product's box."""
MIN_LENS_SOLIDITY = 0.75
MIN_LENS_MIRROR_IOU = 0.7
"""How well one lens opening must cover the other mirrored about their axis."""
MAX_AXIS_OFFSET = 0.04
"""How far (share of the product's width) the lenses' axis may be from the frame's mirror axis."""
TOP_WINDOW = 0.08
"""How far down (share of the height) the part at the top is measured for its thickness."""
BRIMLESS = 0.25
"""A hat whose widest part runs up its sides for more than this share of its height has no brim."""
BRIMLESS_SIT = 0.12
DARK_LENS = 0.6
"""A lens region darker than this (relative to the background) is a sunglass lens."""


@dataclass(frozen=True)
class Lens:
    label: int
    box: tuple[int, int, int, int]
    """x0, y0, x1, y1 (exclusive) of the region."""
    area: int
    clear: bool

    @property
    def center(self) -> Point:
        x0, y0, x1, y1 = self.box
        return (x0 + x1 - 1) / 2, (y0 + y1 - 1) / 2


@dataclass(frozen=True)
class LensPair:
    right: Lens
    """The wearer's right: the smaller x."""
    left: Lens
    axis: float

    @property
    def clear(self) -> bool:
        return self.right.clear and self.left.clear


def bounding_box(mask: Mask) -> tuple[int, int, int, int]:
    """x0, y0, x1, y1 (exclusive) of the true pixels; :class:`InputError` if there are none."""
    ys = np.flatnonzero(mask.any(axis=1))
    xs = np.flatnonzero(mask.any(axis=0))
    if len(xs) == 0:
        raise InputError("no product found: the alpha is empty")
    return int(xs[0]), int(ys[0]), int(xs[-1]) + 1, int(ys[-1]) + 1


def mirror_axis(mask: Mask) -> tuple[float, float]:
    """The vertical line the mask is most symmetric about, and the IoU of the mask with its mirror
    image about it. Searched over the middle fifth of the mask's box, in half-pixel steps."""
    x0, y0, x1, y1 = bounding_box(mask)
    crop = mask[y0:y1, x0:x1]
    w = x1 - x0
    best, best_iou = (w - 1) / 2, -1.0
    total = int(np.count_nonzero(crop))
    # 2 * axis = k: column c maps to k - c
    for k in range(round(0.8 * (w - 1)), round(1.2 * (w - 1)) + 1):
        lo, hi = max(0, k - (w - 1)), min(w - 1, k)
        if hi <= lo:
            continue
        a = crop[:, lo : hi + 1]
        b = crop[:, k - hi : k - lo + 1][:, ::-1]
        inter = int(np.count_nonzero(a & b))
        iou = inter / max(2 * total - inter, 1)
        if iou > best_iou:
            best, best_iou = k / 2, iou
    return x0 + best, best_iou


def _solidity(region: Mask) -> float:
    contours, _ = cv2.findContours(region.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return 0.0
    largest = max(contours, key=cv2.contourArea)
    hull = cv2.contourArea(cv2.convexHull(largest))
    return float(np.count_nonzero(region)) / max(hull, 1.0)


def _mirror_iou(seg: Segmentation, a: Lens, b: Lens, axis: float) -> float:
    ys, xs = np.nonzero(seg.region(a.label))
    mx = np.round(2 * axis - xs).astype(np.int64)
    _h, w = seg.labels.shape
    ok = (mx >= 0) & (mx < w)
    hit = int(np.count_nonzero(seg.labels[ys[ok], mx[ok]] == b.label))
    return hit / max(a.area + b.area - hit, 1)


def lens_candidates(seg: Segmentation, product_box: tuple[int, int, int, int]) -> list[Lens]:
    """Enclosed, compact regions large enough to be a lens opening (clear or dark)."""
    x0, y0, x1, y1 = product_box
    min_area = MIN_LENS_AREA * (x1 - x0) * (y1 - y0)
    out = []
    for label in range(1, len(seg.stats)):
        bx, by, bw, bh, area = (int(v) for v in seg.stats[label])
        if seg.touches_border[label] or area < min_area:
            continue
        if bx < x0 or by < y0 or bx + bw > x1 or by + bh > y1:
            continue
        region = seg.labels[by : by + bh, bx : bx + bw] == label
        if _solidity(region) < MIN_LENS_SOLIDITY:
            continue
        out.append(Lens(label, (bx, by, bx + bw, by + bh), area, bool(seg.is_bg[label])))
    return out


def find_lenses(seg: Segmentation, alpha: F32) -> LensPair:
    """The two lens openings, mirrored about a vertical axis; :class:`InputError` if there are not two."""
    solid = alpha > 0.5
    box = bounding_box(solid)
    width = box[2] - box[0]
    axis, _ = mirror_axis(solid)
    candidates = lens_candidates(seg, box)
    best: tuple[float, LensPair] | None = None
    for i, a in enumerate(candidates):
        for b in candidates[i + 1 :]:
            right, left = (a, b) if a.center[0] < b.center[0] else (b, a)
            if right.clear != left.clear or min(a.area, b.area) < 0.7 * max(a.area, b.area):
                continue
            pair_axis = (right.center[0] + left.center[0]) / 2
            if abs(pair_axis - axis) > MAX_AXIS_OFFSET * width:
                continue
            if not right.box[2] <= pair_axis <= left.box[0]:
                continue
            iou = _mirror_iou(seg, right, left, pair_axis)
            if iou < MIN_LENS_MIRROR_IOU:
                continue
            score = iou * (a.area + b.area)
            if best is None or score > best[0]:
                best = (score, LensPair(right, left, pair_axis))
    if best is None:
        clear = sum(c.clear for c in candidates)
        found = clear if clear else len(candidates)
        raise InputError(
            "expected two lens openings mirrored about a vertical axis, found "
            f"{found}{' (clear)' if clear else ''}; photograph the frame from the front, both lenses "
            "unobstructed"
        )
    pair = best[1]
    logger.debug(
        "lenses: %s at %s and %s, axis %.1f",
        "clear" if pair.clear else "dark",
        pair.right.center,
        pair.left.center,
        pair.axis,
    )
    return pair


def lens_regions(seg: Segmentation, pair: LensPair) -> Mask:
    """Every region inside the two lens outlines (a reflection on a lens too): background for the
    frame's alpha."""
    inside = np.zeros(seg.labels.shape, np.uint8)
    for lens in (pair.right, pair.left):
        region = seg.region(lens.label).astype(np.uint8)
        contours, _ = cv2.findContours(region, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        cv2.drawContours(inside, contours, -1, 1, thickness=cv2.FILLED)
    flat = seg.labels.ravel()
    n = len(seg.stats)
    total = np.bincount(flat, minlength=n)
    within = np.bincount(flat, weights=inside.ravel().astype(np.float64), minlength=n)
    out: Mask = (within >= 0.9 * np.maximum(total, 1)) & ~seg.touches_border
    out[0] = False
    return out


def lens_mask(seg: Segmentation, pair: LensPair, alpha: F32) -> NDArray[np.uint8]:
    """The lens area (255 inside the openings, anti-aliased by the frame's alpha) in the photo's grid."""
    h, w = alpha.shape
    open_ = (alpha < 0.5).astype(np.uint8)
    n, labels = cv2.connectedComponents(open_, connectivity=4)
    area = np.bincount(labels.ravel(), minlength=n)
    out = np.zeros((h, w), np.float32)
    grow = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
    for lens in (pair.right, pair.left):
        ys, xs = np.nonzero(seg.region(lens.label))
        ids = np.unique(labels[ys, xs])
        ids = ids[ids > 0]
        region = np.isin(labels, ids)
        x0, y0, x1, y1 = bounding_box(region) if region.any() else (0, 0, w, h)
        leaks = x0 == 0 or y0 == 0 or x1 == w or y1 == h or area[ids].sum() > 2.5 * lens.area
        if leaks:  # the rim has a gap: the lens region itself, grown over the band
            size = 2 * BAND_RADIUS + 3
            kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
            region = cv2.dilate(seg.region(lens.label).astype(np.uint8), kernel) > 0
        region = cv2.dilate(region.astype(np.uint8), grow) > 0
        out = np.maximum(out, np.where(region, 1.0 - alpha, 0.0))
    mask: NDArray[np.uint8] = np.clip(out * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return mask


def _runs(profile: NDArray[np.floating]) -> list[tuple[int, int]]:
    """(start, end exclusive) of the runs where ``profile > 0.5``."""
    on = np.concatenate([[False], profile > 0.5, [False]])
    d = np.flatnonzero(np.diff(on.astype(np.int8)))
    return [(int(s), int(e)) for s, e in zip(d[::2], d[1::2], strict=True)]


def _hinge(solid: Mask, side: int, band: int) -> Point:
    """The outer end of the frame on one side (``side`` -1: small x): the centre of the end of the
    thickest bar within ``band`` pixels of the outermost opaque column."""
    x0, _, x1, _ = bounding_box(solid)
    if side < 0:
        lo, hi = x0, min(x0 + band, x1)
    else:
        lo, hi = max(x1 - band, x0), x1
    padded = np.pad(solid, ((1, 1), (1, 1))).astype(np.uint8)
    inner = cv2.distanceTransform(padded, cv2.DIST_L2, 5)[1:-1, lo + 1 : hi + 1]
    top = float(inner.max())
    if top <= 0:
        raise InputError("no hinge found: the frame has no opaque end on one side")
    ys, xs = np.nonzero(inner >= 0.8 * top)
    xs = xs + lo
    pick = xs.argmin() if side < 0 else xs.argmax()
    x = float(xs[pick])
    near = np.abs(xs - x) <= 1
    return x, float(np.median(ys[near]))


def glasses_anchors(alpha: F32, pair: LensPair) -> dict[str, Point]:
    """``left_lens``, ``right_lens``, ``bridge``, ``left_hinge``, ``right_hinge``, symmetric."""
    solid = alpha > 0.5
    axis = pair.axis
    (rx, ry), (lx, ly) = pair.right.center, pair.left.center
    half = ((axis - rx) + (lx - axis)) / 2
    lens_y = (ry + ly) / 2
    lens_h = max(pair.right.box[3] - pair.right.box[1], pair.left.box[3] - pair.left.box[1])
    c = round(axis)
    profile = alpha[:, max(c - 1, 0) : c + 2].mean(axis=1)
    runs = [r for r in _runs(profile) if r[0] > min(pair.right.box[1], pair.left.box[1]) - lens_h]
    if not runs:
        raise InputError(f"no bridge found: nothing opaque crosses the frame's mirror axis (x={axis:.0f})")
    above = [r for r in runs if (r[0] + r[1]) / 2 <= lens_y]
    start, _ = max(above, key=lambda r: r[0]) if above else min(runs, key=lambda r: abs(sum(r) / 2 - lens_y))
    bridge_y = start - 0.5
    x0, _, x1, _ = bounding_box(solid)
    band = max(4, round(0.04 * (x1 - x0)))
    (hrx, hry), (hlx, hly) = _hinge(solid, -1, band), _hinge(solid, +1, band)
    hinge_half = ((axis - hrx) + (hlx - axis)) / 2
    hinge_y = (hry + hly) / 2
    return {
        "left_lens": (axis + half, lens_y),
        "right_lens": (axis - half, lens_y),
        "bridge": (axis, bridge_y),
        "left_hinge": (axis + hinge_half, hinge_y),
        "right_hinge": (axis - hinge_half, hinge_y),
    }


def _run_sum(profile: NDArray[np.floating], at: int, limit: int) -> float:
    """The coverage (sum) of the run of ``profile > 0.02`` through index ``at``, at most ``limit``
    entries each way: the part's thickness there, to a fraction of a pixel."""
    lo, hi = at, at
    while lo > 0 and at - lo < limit and profile[lo - 1] > 0.02:
        lo -= 1
    while hi < len(profile) - 1 and hi - at < limit and profile[hi + 1] > 0.02:
        hi += 1
    return float(profile[lo : hi + 1].sum())


def _top_point(alpha: F32) -> Point:
    """The top end of the part at the top: x the centre of the first opaque rows (two, or 1% of the
    height), y on the part's centre line there (its top edge lowered by half its thickness): the
    middle of an ear wire, of a hoop's tube, of a chain or a bead. Sub-pixel, from the alpha."""
    solid = alpha > 0.5
    _x0, y0, _x1, y1 = bounding_box(solid)
    rows = max(2, round(0.01 * (y1 - y0)))
    _, xs = np.nonzero(solid[y0 : y0 + rows])
    x = float(np.mean(xs))
    column = alpha[:, round(x)]
    first = int(np.flatnonzero(column > 0.5)[0])
    top = first
    while top > 0 and column[top - 1] > 0.02:
        top -= 1
    edge = first + 0.5 - float(column[top : first + 1].sum())  # where the coverage starts
    # a first guess of the thickness from the distance transform (whole pixels), then measured
    # from the coverage down the column and across the row through the guessed middle
    reach = max(3, round(TOP_WINDOW * (y1 - y0)))
    c0, c1 = max(0, round(x) - reach), round(x) + reach + 1
    window = np.pad(solid[y0 : y0 + 2 * reach + 1, c0:c1], 1).astype(np.uint8)
    guess = 2.0 * max(float(cv2.distanceTransform(window, cv2.DIST_L2, 5)[1 : reach + 2].max()) - 0.5, 0.5)
    limit = max(3, round(2 * guess) + 2)
    down = _run_sum(column, first, limit)
    row = min(round(edge + guess / 2), alpha.shape[0] - 1)
    across = _run_sum(alpha[row], round(x), limit)
    return x, edge + min(down, across, 2 * guess) / 2


def earring_anchors(alpha: F32) -> dict[str, Point]:
    """``hook``: the top of the ear wire, or a stud's centre."""
    solid = alpha > 0.5
    x0, y0, x1, y1 = bounding_box(solid)
    w, h = x1 - x0, y1 - y0
    if h < 1.5 * w:
        crop = solid[y0:y1, x0:x1]
        solidity = _solidity(crop)
        top = crop[: max(1, round(0.2 * h))]
        top_width = np.flatnonzero(top.any(axis=0))
        wire_above = len(top_width) > 0 and (top_width[-1] - top_width[0] + 1) < 0.3 * w
        if solidity >= 0.8 and not wire_above:
            m = cv2.moments(crop.astype(np.uint8), binaryImage=True)
            return {"hook": (x0 + m["m10"] / m["m00"], y0 + m["m01"] / m["m00"])}
    return {"hook": _top_point(alpha)}


def _band_line(alpha: F32, color: F32, box: tuple[int, int, int, int]) -> float | None:
    """The row of the strongest horizontal line across the lower part of a brimless hat (a cuff's
    fold, a band's edge), or ``None`` if there is none clearly stronger than the texture."""
    x0, y0, x1, y1 = box
    h, w = y1 - y0, x1 - x0
    luma = color[..., 0] * 0.299 + color[..., 1] * 0.587 + color[..., 2] * 0.114
    top, bottom = y1 - round(0.45 * h), y1 - max(3, round(0.03 * h))
    c0, c1 = x0 + round(0.2 * w), x1 - round(0.2 * w)
    if bottom - top < 5 or c1 - c0 < 5:
        return None
    region = luma[top - 1 : bottom + 1, c0:c1]
    solid = alpha[top - 1 : bottom + 1, c0:c1] > 0.5
    grad = np.abs(region[2:] - region[:-2])
    valid = solid[2:] & solid[:-2] & solid[1:-1]
    strength = np.where(valid, grad, 0.0).sum(axis=1) / np.maximum(valid.sum(axis=1), 1)
    strength = np.convolve(strength, np.ones(3) / 3, mode="same")
    best = int(np.argmax(strength))
    if strength[best] < 3.0 * float(np.median(strength)) or strength[best] < 0.02:
        return None
    return float(top + best)


def hat_anchors(alpha: F32, color: F32) -> dict[str, Point]:
    """``brim_left`` and ``brim_right``: the ends of the widest part of the hat's lower half, at the
    brim's vertical centre there; for a hat with no brim (the widest part runs far up its sides, a
    beanie), at the middle of the band below its lowest horizontal line (a cuff's fold), else 12% of
    its height above its bottom."""
    solid = alpha > 0.5
    box = bounding_box(solid)
    x0, y0, x1, y1 = box
    h = y1 - y0
    lower = solid[y0 + h // 2 : y1, x0:x1]
    cols = np.flatnonzero(lower.any(axis=0))
    upper_cols = np.flatnonzero(solid[y0 : y0 + h // 2, x0:x1].any(axis=0))
    upper_width = upper_cols[-1] - upper_cols[0] if len(upper_cols) else 0
    if len(cols) == 0 or (cols[-1] - cols[0]) < 0.9 * upper_width:
        raise InputError(
            "no brim found: the hat's lower half is not its widest part; photograph the hat from the "
            "front, brim down"
        )
    step = max(1, round(0.01 * (x1 - x0)))
    ys = []
    brimless = False
    for col, inner in ((cols[0], cols[0] + step), (cols[-1], cols[-1] - step)):
        runs = _runs(lower[:, inner].astype(np.float32)) or _runs(lower[:, col].astype(np.float32))
        start, end = max(runs, key=lambda r: r[1] - r[0])
        ys.append(y0 + h // 2 + (start + end - 1) / 2)
        brimless |= (end - start) > BRIMLESS * h
    y = sum(ys) / 2
    if brimless:
        line = _band_line(alpha, color, box)
        y = (line + y1 - 1) / 2 if line is not None else y1 - 0.5 - BRIMLESS_SIT * h
    return {"brim_right": (x0 + float(cols[0]) - 0.5, y), "brim_left": (x0 + float(cols[-1]) + 0.5, y)}


def necklace_anchors(alpha: F32) -> dict[str, Point]:
    """``left_end`` and ``right_end``: the topmost opaque point of each half of the necklace."""
    solid = alpha > 0.5
    x0, _, x1, _ = bounding_box(solid)
    mid = (x0 + x1) // 2
    out: dict[str, Point] = {}
    for name, lo, hi in (("right_end", x0, mid), ("left_end", mid, x1)):
        half = np.zeros_like(alpha)
        half[:, lo:hi] = alpha[:, lo:hi]
        if not (half > 0.5).any():
            raise InputError(f"no chain end found: nothing opaque in the {name.split('_')[0]} half")
        out[name] = _top_point(half)
    return out
