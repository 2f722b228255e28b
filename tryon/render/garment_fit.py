"""Fitting a garment to the person's silhouette: the garment body's sides follow the person
mask's outline, and the arms' widths are read off the mask.

**Arms.** A limb (shoulder→elbow, elbow→wrist) is measured by walking out from its axis,
perpendicular to it, at a few places along it, until the person mask ends: each side's distance
is a half width. Where the mask does not end within reach (the forearm lies over the torso, the
upper arm against it) that side is unknown; a limb's width is twice the median of the known half
widths, or ``None`` when too few are known.

**The body.** At several garment rows between the armpits and the hip line, the row is mapped
into the frame by the body's homography and the person mask is read along it, out from the
garment's centre line on each side, as far in frame pixels as the side may be widened, until it
ends (a gap of a few pixels: holes in the mask are bridged). If the outermost person pixels
there belong to an arm (within a limb's capsule), the torso's edge is where that arm begins on
the way in: a hanging arm is skipped, its inner edge taken for the torso's side; an arm run
longer than an arm is wide (a forearm along the row, crossed arms) leaves that row's least
unknown. A side where the mask does not end (a neighbour or the background merged into it)
takes the other side's bounds, mirrored, or its own other rows'. The garment's half width on
that row is then scaled to reach the torso's edge plus the fit's ease (:data:`EASE` of
:data:`SPILL`: a slim fit hugs the outline, a loose one stands off it), each side on its own,
by at most :data:`MAX_SCALE` (or to :data:`ROW_WIDEST` of the shoulders) / :data:`MIN_SCALE`
and :data:`MAX_IMBALANCE` times the other side's. Then, behind an arm hanging under a long
sleeve (the ``covered`` arms), the side reaches the silhouette. Above the armpits the scale eases
back to none at the shoulder line (the shoulder seams stay where the homography puts them);
below the hip line it is held.

:class:`FittedBody` is that piecewise-linear horizontal warp of garment space (the rows' scales
about the centre line, linear between rows), applied before the homography: the body is drawn
through ``H ∘ fit`` by one remap, and the sleeves' roots move with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from tryon.render.garment_assets import SPILL, GarmentAsset

F64 = NDArray[np.float64]

EASE = 0.75
"""How far past the silhouette the fitted body's sides reach, in the fit's :data:`SPILL`."""
MIN_SCALE, MAX_SCALE = 0.6, 1.5
"""The most a side of the body is narrowed or widened to meet the silhouette."""
ROW_WIDEST = 1.3
"""A side of the body may also be widened to this many times the fitted shoulders' half width
(frame pixels), where that is more than :data:`MAX_SCALE` allows: the flat lay's cut (a slim top
narrowing to the waist) is not the wearer's (a coat as wide at the hips as at the shoulders)."""
MAX_IMBALANCE = 1.4
"""A side widened beyond this many times the other side's scale is taken for an object held out
to one side (a helmet, a bag), not the torso."""
ROWS = 7
"""Garment rows measured between the armpits and the hip line."""
STEP = 2.0
"""Frame pixels between samples along a measured row."""
GAP = 4.0
"""Frame pixels of background that end the silhouette (shorter holes in the mask are bridged)."""
ARM_RUN = 1.6
"""An arm run at the silhouette's edge longer than this many arm widths is not skipped: the arm
lies along the row and hides the torso's edge there."""
ARM_SLACK = 3.0
"""Pixels past an arm's measured edge still taken for the arm (the silhouette's edge is soft)."""
SHOULDER_ROWS = (0.1, 0.2, 0.3)
"""Where the silhouette's shoulders are measured, in shoulder widths below the joints' line."""
HEM_SHARE = 0.85
"""The hip line at most this share of the way from the garment's shoulders to its hem (below
that, on a long torso, the garment is lengthened)."""
SHOULDER_EASE = 0.3
"""Where below the shoulder line the silhouette's shoulders' widening is reached, as a share of
the way to the armpits (from none at the shoulder line: the collar stays under the chin)."""


@dataclass(frozen=True)
class Capsule:
    """A limb in the frame: the segment ``a→b`` widened by ``half`` pixels each side."""

    a: F64
    b: F64
    half: float

    def distance(self, xy: F64) -> F64:
        """How far points ``xy`` are from the segment (pixels)."""
        d = self.b - self.a
        t = np.clip(((xy - self.a) @ d) / max(float(d @ d), 1e-9), 0.0, 1.0)
        gap = xy - (self.a + t[..., None] * d)
        out: F64 = np.sqrt((gap**2).sum(axis=-1))
        return out


def _inside(person: NDArray[np.float32], xy: F64) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """``(in frame, in the person)`` at frame points ``xy`` (nearest pixel)."""
    h, w = person.shape
    ij = np.floor(xy + 0.5).astype(np.int64)
    ok = (ij[..., 0] >= 0) & (ij[..., 0] < w) & (ij[..., 1] >= 0) & (ij[..., 1] < h)
    inside = np.zeros(ok.shape, bool)
    inside[ok] = person[ij[ok][:, 1], ij[ok][:, 0]] > 0.5
    return ok, inside


Planes = Sequence[tuple[F64, F64]]
"""Half-planes ``(point, normal)`` belonging to other people: frame points ``xy`` with
``(xy - point) @ normal > 0`` are theirs (the mask is one blob where people touch)."""


def split_planes(own: F64, others: Sequence[F64]) -> list[tuple[F64, F64]]:
    """The perpendicular bisectors between this person's shoulder centre ``own`` and each other
    person's: beyond one, the mask is the other person's."""
    out = []
    for other in others:
        d = np.asarray(other, np.float64) - own
        if float(d @ d) > 1e-6:
            out.append(((own + other) / 2, d))
    return out


def _mine(xy: F64, planes: Planes) -> NDArray[np.bool_]:
    """Whether frame points ``xy`` are on this person's side of every plane."""
    ok = np.ones(xy.shape[:-1], bool)
    for point, normal in planes:
        ok &= (xy - point) @ normal <= 0
    return ok


def _first_gap(inside: NDArray[np.bool_], framed: NDArray[np.bool_], gap: int) -> NDArray[np.int64]:
    """Per row of ``(K, N)`` samples walking outward: the index of the first sample of the first
    run of ``gap`` in-frame samples outside the person; ``-1`` where there is none."""
    outside = (~inside & framed).astype(np.int32)
    c = np.concatenate([np.zeros((len(outside), 1), np.int32), np.cumsum(outside, axis=1)], axis=1)
    n = outside.shape[1]
    if n < gap:
        return np.full(len(outside), -1, np.int64)
    run = c[:, gap:] - c[:, : n - gap + 1] == gap  # run[:, i]: samples i..i+gap-1 all outside
    found = run.any(axis=1)
    first: NDArray[np.int64] = np.where(found, run.argmax(axis=1), -1).astype(np.int64)
    return first


# -- arms ------------------------------------------------------------------------------------------------


def limb_profile(
    person: NDArray[np.float32],
    a: F64,
    b: F64,
    reach: float,
    at: Sequence[float] = (0.2, 0.35, 0.5, 0.65, 0.8),
) -> tuple[F64, F64]:
    """Half widths of the limb ``a→b`` in the person mask at fractions ``at`` along it, on the
    side of its normal ``(-d_y, d_x)`` and the other: ``(plus, minus)``, NaN where unknown (the
    mask does not end within ``reach`` pixels, or the axis is not in the mask)."""
    d = b - a
    length = float(np.linalg.norm(d))
    t = np.asarray(at, np.float64)
    if length < 2 or reach < 2:
        nan = np.full(len(t), np.nan)
        return nan, nan.copy()
    d = d / length
    n = np.array([-d[1], d[0]])
    steps = np.arange(0.0, reach, 1.0)
    centres = a + np.outer(t * length, d)
    halves = []
    for s in (+1.0, -1.0):
        xy = centres[:, None, :] + s * steps[None, :, None] * n
        framed, inside = _inside(person, xy)
        first = _first_gap(inside, framed, 2)
        half = np.where((first > 0) & inside[:, 0], first.astype(np.float64), np.nan)
        halves.append(half)
    return halves[0], halves[1]


def limb_width(person: NDArray[np.float32], a: F64, b: F64, reach: float) -> float | None:
    """The limb's width: twice the median of its known half widths; ``None`` with fewer than 3."""
    plus, minus = limb_profile(person, a, b, reach)
    known = np.concatenate([plus, minus])
    known = known[np.isfinite(known)]
    if len(known) < 3:
        return None
    return 2.0 * float(np.median(known))


# -- the body --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FittedBody:
    """A horizontal warp of garment space: on garment row ``v``, a point ``u`` right of the
    centre line moves to ``centre + (u - centre) * scale``, the scale the wearer's right side's
    (``right``) for ``u`` below the centre and the left side's (``left``) above it, linear in
    ``v`` between ``rows`` and held beyond them."""

    centre: float
    rows: F64
    right: F64
    left: F64
    top: float = 0.0
    stretch: float = 1.0
    """Rows below ``top`` (the shoulder line) are moved ``stretch`` times as far below it (a
    garment lengthened to reach below the hips; the collar stays where it is)."""

    def scales(self, v: F64) -> tuple[F64, F64]:
        return np.interp(v, self.rows, self.right), np.interp(v, self.rows, self.left)

    def source_rows(self, v: F64) -> F64:
        """Fitted garment rows ``v`` → the garment rows drawn there."""
        out: F64 = np.where(v > self.top, self.top + (v - self.top) / self.stretch, v)
        return out

    def forward(self, uv: F64) -> F64:
        """Garment points → where the fitted garment has them (garment pixels)."""
        uv = np.asarray(uv, np.float64).reshape(-1, 2)
        right, left = self.scales(uv[:, 1])
        du = uv[:, 0] - self.centre
        out = uv.copy()
        out[:, 0] = self.centre + du * np.where(du < 0, right, left)
        v = uv[:, 1]
        out[:, 1] = np.where(v > self.top, self.top + (v - self.top) * self.stretch, v)
        return out

    def backward(self, u: F64, v: F64) -> F64:
        """Fitted garment columns ``u`` on fitted rows ``v`` → the garment columns drawn there."""
        right, left = self.scales(self.source_rows(v))
        du = u - self.centre
        out: F64 = self.centre + du / np.where(du < 0, right, left)
        return out


def apply_m(m: F64, uv: F64) -> F64:
    """The homography ``m`` applied to points ``uv`` (``(..., 2)``)."""
    q = uv @ m[:2, :2].T + m[:2, 2]
    w = uv @ m[2, :2] + m[2, 2]
    out: F64 = q / w[..., None]
    return out


def _fill(values: F64) -> F64 | None:
    """NaNs filled by linear interpolation between the known values (held beyond them); ``None``
    when none is known."""
    known = np.isfinite(values)
    if not known.any():
        return None
    i = np.arange(len(values))
    out: F64 = np.interp(i, i[known], values[known])
    return out


def _smooth(k: F64 | None) -> F64 | None:
    """A row's scale the median of it and its neighbours' (one odd row is an arm or an object,
    not the torso), then eased into theirs."""
    if k is None or len(k) < 3:
        return k
    padded = np.concatenate([k[:1], k, k[-1:]])
    med = np.median(np.stack([padded[:-2], padded[1:-1], padded[2:]]), axis=0)
    padded = np.concatenate([med[:1], med, med[-1:]])
    out: F64 = 0.25 * padded[:-2] + 0.5 * padded[1:-1] + 0.25 * padded[2:]
    return out


Bounds = tuple[F64, F64]
"""``(least, most)`` per row, NaN where unknown."""
Edges = tuple[F64, F64, F64]
"""``(least, most, behind)``: the bounds, and the silhouette's edge where a covered arm's."""


def row_scales(h_body: F64, centre: float, rows: F64) -> F64:
    """Frame pixels per garment pixel along garment ``rows`` at the centre line (the homography
    narrows or widens the rows where the hips are narrower or wider than the shoulders)."""
    uv = np.stack([np.stack([np.full(len(rows), centre + s), rows], axis=-1) for s in (-1.0, 1.0)])
    xy = apply_m(h_body, uv)
    out: F64 = np.maximum(np.linalg.norm(xy[1] - xy[0], axis=-1) / 2, 1e-6)
    return out


def torso_edges(
    h_body: F64,
    rows: F64,
    centre: float,
    reach: F64,
    local: F64,
    person: NDArray[np.float32],
    arms: Sequence[Capsule],
    planes: Planes = (),
    covered: Sequence[Capsule] = (),
) -> tuple[Edges, Edges]:
    """Bounds on the torso's half widths (garment pixels) on garment ``rows``, out from
    ``centre`` to the wearer's right and left, each searched up to ``reach`` per row (``local``
    frame pixels per garment pixel on each row): the silhouette's edge is the most; the least is
    the same edge, or where an arm at the edge begins (the torso's side is hidden under it);
    where the frame cuts the silhouette, at least to the frame's edge; ``-inf``/``inf`` where the
    person goes on past ``reach``; NaN where the centre line is off the person. And where the
    edge is a ``covered`` arm's (walked in off like the ``arms``), that edge: the body may fill
    behind it."""
    k = len(rows)
    du = np.tile(STEP / local, 2)[:, None]  # STEP frame pixels between samples on every row
    reach = np.tile(reach, 2)
    n = int(np.ceil(float((reach / du[:, 0]).max()))) + 2
    steps = np.arange(n)[None, :] * du
    gap = max(2, round(GAP / STEP))
    widest_arm = max((2 * c.half for c in (*arms, *covered)), default=0.0)
    # Both sides at once: rows 0..k-1 out to the wearer's right (the image's left), k..2k-1 left.
    sign = np.repeat([-1.0, 1.0], k)[:, None]
    uv = np.stack(np.broadcast_arrays(centre + sign * steps, np.tile(rows, 2)[:, None]), axis=-1)
    xy = apply_m(h_body, uv)
    framed, inside = _inside(person, xy)
    if planes:  # another person's side ends the silhouette
        inside &= _mine(xy, planes)
    first = _first_gap(inside, framed, gap)
    leaves = np.where((~framed).any(axis=1), np.argmax(~framed, axis=1), n)  # the frame's edge
    at = np.arange(2 * k)
    seen = (first > 0) & (steps[at, np.maximum(first, 0)] < reach)
    cut = ~seen & (leaves < n) & inside[at, np.maximum(leaves - 1, 0)]
    edge = np.where(seen, first - 1, leaves - 1)  # the outermost person sample
    known = inside[:, 0] & (seen | cut)
    du = du[:, 0]
    # Seen: the silhouette's edge; cut by the frame: at least to it; still the person at the end
    # of the search (a neighbour, an object): no bound either way.
    most = np.where(known & seen, (edge + 0.5) * du, np.inf)
    least = np.where(known, (edge + 0.5) * du, -np.inf)
    behind = np.full(2 * k, np.nan)
    limbs = [*arms, *covered]
    if limbs:  # an arm at the edge (within its capsule and a little more): walk in off it
        walk = np.maximum(edge[:, None], 0) - np.arange(int(ARM_RUN * widest_arm / STEP) + 2)[None, :]
        near = np.stack([c.distance(xy[at[:, None], np.maximum(walk, 0)]) - c.half for c in limbs])
        off = (near.min(axis=0) > 0) & (walk >= 0)
        body = np.where(off.any(axis=1), walk[at, np.argmax(off, axis=1)], -1)
        hidden = known & (near.min(axis=0)[:, 0] <= ARM_SLACK)
        # Behind a covered arm (one the sleeve is drawn over), the silhouette's edge.
        if covered:
            under = known & seen & (near[len(arms) :, :, 0].min(axis=0) <= ARM_SLACK)
            behind = np.where(under, (edge + 0.5) * du, np.nan)
        least = np.where(hidden, np.where(body >= 0, (body + 0.5) * du, -np.inf), least)
    unknown = ~inside[:, 0]  # the centre line off the person: filled in from other rows
    least, most = np.where(unknown, np.nan, least), np.where(unknown, np.nan, most)
    return (least[:k], most[:k], behind[:k]), (least[k:], most[k:], behind[k:])


def _open_mirrored(side: Bounds, other: Bounds) -> Bounds:
    """A side's bounds where the person goes on past the search (a neighbour or the background
    merged into the mask: nothing known of the torso's edge there) taken from the other side's
    on the same row, mirrored about the centre line (a torso is as wide either side of it), or
    NaN (filled in from this side's other rows) where that side does not know either."""
    open_ = (side[0] == -np.inf) & (side[1] == np.inf)
    taken = np.where(np.isfinite(other[0]) | np.isfinite(other[1]), other, np.nan)
    return np.where(open_, taken[0], side[0]), np.where(open_, taken[1], side[1])


def _scales(bounds: Bounds, half: F64, ease: F64, base: float = 1.0) -> F64 | None:
    """Per row, the scale nearest ``base`` that puts the garment's side (``half``) plus ``ease`` within
    the torso's bounds; filled in between rows, smoothed; ``None`` where no row is known."""
    least, most = ((b + ease) / half for b in bounds)
    k = np.clip(base, least, np.maximum(most, least))  # NaN where unknown
    return _smooth(_fill(k))


def _behind(k: F64, edge: F64, half: F64, ease: F64, most: F64) -> F64:
    """Scales ``k`` widened, on rows where the silhouette's edge is a covered arm's, to reach it."""
    reach = np.clip((edge + ease) / half, MIN_SCALE, most)
    out = _smooth(np.fmax(k, np.where(np.isfinite(reach), reach, -np.inf)))
    return k if out is None else out


def fit_body(
    asset: GarmentAsset,
    h_body: F64,
    scale: float,
    hip_row: float,
    shoulder_width: float,
    fit: str,
    person: NDArray[np.float32],
    arms: Sequence[Capsule] = (),
    planes: Planes = (),
    base: float = 1.0,
    covered: Sequence[Capsule] = (),
) -> FittedBody | None:
    """The warp fitting the garment body (drawn through ``h_body``, ``scale`` frame pixels per
    garment pixel at the shoulders, its hip line on garment row ``hip_row``) to the torso in
    ``person``, measured from the armpits down to the hip line or the garment's hem, whichever is
    higher; ``None`` where no row of the torso could be measured or the garment already fits.
    Its shoulders are ``base`` times as wide (the silhouette's, wider than the pose's), and a
    garment too short to reach below the hips is lengthened below the shoulder line
    (:data:`HEM_SHARE`). The torso's edge is walked in off the ``arms`` at the silhouette's edge;
    the ``covered`` arms (those the garment's sleeves are drawn over) are not walked off: the body
    fills to the silhouette behind them."""
    centre = float(asset.point("neck")[0])
    top = float((asset.point("left_shoulder")[1] + asset.point("right_shoulder")[1]) / 2)
    pit = float((asset.point("left_armpit")[1] + asset.point("right_armpit")[1]) / 2)
    hem = float((asset.point("left_hem")[1] + asset.point("right_hem")[1]) / 2)
    stretch = max(1.0, (hip_row - top) / max(HEM_SHARE * (hem - top), 1.0))
    hip_row = top + (hip_row - top) / stretch  # the garment row on the hip line, once lengthened
    low = min(hip_row, hem - 0.05 * (hem - top))  # the torso the garment reaches, above its hem's curve
    pit = min(max(pit, top + 1.0), low - 1.0)
    rows = np.linspace(pit, low, ROWS)
    g_right, g_left = asset.half_widths(rows)
    drawn = top + (rows - top) * stretch  # where the lengthened garment has those rows
    local = row_scales(h_body, centre, drawn)  # frame pixels per garment pixel on each row
    ease = EASE * SPILL[fit] * shoulder_width / local
    widest_arm = max((2 * c.half for c in (*arms, *covered)), default=0.0)
    arm = ARM_RUN * widest_arm / local  # an arm at the side
    # The limit tied to the silhouette's shoulders: MAX_SCALE times the row's own width, or
    # ROW_WIDEST times the fitted shoulders' (a slim flat lay narrows below the armpits more
    # than a torso in a coat does), whichever is wider.
    seams = float(np.linalg.norm(asset.point("left_shoulder") - asset.point("right_shoulder"))) / 2
    g_half = np.maximum(g_right, g_left)
    most = np.maximum(MAX_SCALE, ROW_WIDEST * seams * scale / (g_half * local)) * base
    reach = most * g_half + ease + arm
    edges = torso_edges(h_body, drawn, centre, reach, local, person, arms, planes, covered)
    right, left = edges[0][:2], edges[1][:2]
    fill_right = _scales(_open_mirrored(right, left), g_right, ease, base)
    fill_left = _scales(_open_mirrored(left, right), g_left, ease, base)
    if fill_right is None and fill_left is None:  # the person goes on past both sides: as cut
        fill_right, fill_left = _scales(right, g_right, ease, base), _scales(left, g_left, ease, base)
    if fill_right is None:  # a side never measured takes the other's, mirrored
        if fill_left is None:
            return None
        fill_right = fill_left
    if fill_left is None:
        fill_left = fill_right
    k_right = np.clip(fill_right, MIN_SCALE, most)
    k_left = np.clip(fill_left, MIN_SCALE, most)
    k_right = np.minimum(k_right, np.maximum(MAX_IMBALANCE * k_left, 1.0))
    k_left = np.minimum(k_left, np.maximum(MAX_IMBALANCE * k_right, 1.0))
    # Past MAX_SCALE a side is widened only as far as the other (a coat is wide on both sides; an
    # object held at one side is not the torso).
    k_right, k_left = (
        np.minimum(k_right, np.maximum(k_left, MAX_SCALE)),
        np.minimum(k_left, np.maximum(k_right, MAX_SCALE)),
    )
    # Behind a covered arm the body reaches the silhouette (the sleeve is drawn over the arm; what
    # shows is the coat the pose put the arm inside of). After the limits between the sides: the
    # arm is not the torso, it widens neither side's limit.
    k_right = _behind(k_right, edges[0][2], g_right, ease, most)
    k_left = _behind(k_left, edges[1][2], g_left, ease, most)
    if max(np.abs(k_right - 1).max(), np.abs(k_left - 1).max(), base - 1, stretch - 1) < 0.01:
        return None  # as the homography has it
    # From none at the shoulder line (the collar stays under the chin) to ``base`` a little
    # below it (:data:`SHOULDER_EASE` of the way to the armpits), to all of it at the armpits.
    below = top + SHOULDER_EASE * (rows[0] - top)
    all_rows = np.concatenate([[top, below], rows])
    start = np.array([1.0, base])
    return FittedBody(
        centre, all_rows, np.concatenate([start, k_right]), np.concatenate([start, k_left]), top, stretch
    )


def shoulder_half(
    person: NDArray[np.float32],
    shoulders: F64,
    reach: float,
    planes: Planes = (),
    arms: Sequence[Capsule] = (),
) -> float | None:
    """The half width of the silhouette's shoulders (frame pixels): out from the shoulder
    joints' midpoint along their line, a little below it (:data:`SHOULDER_ROWS` shoulder
    widths: the deltoids' outer edge), until the mask ends, another person's side begins or an
    arm held out (``arms``: limbs more across than down) does. Each side the median over the
    rows; a side where the person goes on past ``reach`` or the frame cuts it is unknown; the
    smaller side (an object held at one side is not the shoulders); ``None`` when neither is
    known."""
    width = float(np.linalg.norm(shoulders[0] - shoulders[1]))
    if width < 2 or reach < 2:
        return None
    across = (shoulders[0] - shoulders[1]) / width
    down = np.array([-across[1], across[0]])
    down = down if down[1] >= 0 else -down
    steps = np.arange(0.0, reach, 1.0)
    starts = shoulders.mean(0) + np.outer(np.asarray(SHOULDER_ROWS) * width, down)
    halves = []
    for s in (+1.0, -1.0):
        xy = starts[:, None, :] + s * steps[None, :, None] * across
        framed, inside = _inside(person, xy)
        if planes:
            inside &= _mine(xy, planes)
        for arm in arms:
            d = arm.b - arm.a
            if abs(float(d[1])) < abs(float(d[0])):  # held out: the shoulders end where it begins
                inside &= arm.distance(xy) > arm.half
        first = _first_gap(inside, framed, round(GAP))
        half = np.where((first > 0) & inside[:, 0], first.astype(np.float64), np.nan)
        seen = half[np.isfinite(half)]
        halves.append(float(np.median(seen)) if len(seen) * 2 > len(half) else np.nan)
    sides = [h for h in halves if np.isfinite(h)]
    return min(sides) if sides else None


__all__ = [
    "EASE",
    "HEM_SHARE",
    "Capsule",
    "FittedBody",
    "fit_body",
    "limb_profile",
    "limb_width",
    "row_scales",
    "shoulder_half",
    "split_planes",
    "torso_edges",
]
