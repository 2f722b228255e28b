"""A hat sprite as a shell around the head, ray cast with the head pose.

The sprite is the hat seen from the front. Its crown becomes a stack of horizontal ellipses in
the hat's frame (the head frame at the hat's axis): each row of the drawing is an ellipse as wide
as the row, ``depth`` times as deep (a head is longer than it is wide), so a beanie is a dome and
its cuff a ring. A brim (a row at the brim line much wider than the crown above it) is a flat
elliptic ring round the crown's base; the drawing shows it from slightly above (its front half
below the brim line), so the hat is tilted forward by that angle, as a brim is worn, and seen
from the front at eye level it comes back as drawn. Below the brim line, inside the band, is the
head: it hides whatever of the hat lies behind it (the brim's underside, the inside of a cuff).

A pixel's ray (weak perspective: along the camera's axis) meets the first of these surfaces; the
texel at that point's height and left-right offset is what the pixel shows. So the hat turns
with the head: its front slides the way the face turns, the near side widens, the far side
narrows and goes behind the near side (the shell's back, textured by the same front view, shows
on the near side). The geometry is solved on cells of the box (the crown marched on a coarser
grid first), the texture read per pixel.

Stateless but for :func:`profile`'s cache (per sprite object, weakly held).
"""

from __future__ import annotations

import math
import threading
import weakref
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from tryon.headpose import HeadPose, matrix_from_euler
from tryon.render.color import to_linear, to_srgb
from tryon.render.masks import Box
from tryon.render.sprite import Sprite

F64 = NDArray[np.float64]
F32 = NDArray[np.float32]
STEPS = 14
"""Samples along each ray through the crown's bounding cylinder before refining the entry."""
REFINE = 4
"""Bisections of the entry, then two exact solves at its row."""
COARSE_PIXELS = 3000
"""About how many rays the crown is marched with; every solved ray then starts from theirs."""
SOLVE_PIXELS = 30000
"""About how many rays the hat's geometry is solved for; a bigger hat is solved on cells."""
BRIM_RATIO = 1.15
"""A row at the brim line this much wider than the crown above it is a brim."""
HEAD_INSET = 0.97
"""The head below the band, as a share of the band's size (the hair and the hat's thickness)."""


@dataclass(frozen=True)
class Profile:
    """The sprite's shape by rows, in sprite pixels."""

    half: F64
    """``(H,)``: per row, the crown's reach left or right of the centre (0: no crown there)."""
    tex: F64
    """``(H,)``: how far from the centre a row's texture is opaque (sampled no further)."""
    column: tuple[F64, F64]
    """``(W,)`` twice: per column, the first and last opaque rows (sampled no further)."""
    centre: tuple[float, float]
    """``(u, v)``: the brim line's middle (between the brim anchors)."""
    top: float
    """The first row with anything drawn."""
    band: float
    """Half-width of the hat where the head goes in: the crown's base (a cuff's width)."""
    drop: float
    """Rows from the brim line down to the lowest drawn pixel under its middle."""
    brim: float
    """Half-width of the brim (0: no brim)."""


_PROFILES: dict[int, tuple[weakref.ref[Sprite], Profile]] = {}
_LOCK = threading.Lock()


def _reach(drawn: NDArray[np.bool_], u0: float) -> F64:
    w = drawn.shape[1]
    left, right = np.argmax(drawn, axis=1), w - np.argmax(drawn[:, ::-1], axis=1)
    out: F64 = np.where(drawn.any(axis=1), np.maximum(u0 - left, right - u0), 0.0)
    return out


def measure(sprite: Sprite) -> Profile:
    """The row profile of a hat sprite with ``brim_left`` / ``brim_right`` anchors (uncached)."""
    alpha = sprite.rgba[..., 3]
    u0, v0 = (sprite.anchor("brim_left") + sprite.anchor("brim_right")) / 2
    h, w = alpha.shape
    solid = _reach(alpha >= 128, u0)
    rows = np.flatnonzero(solid > 0)
    top = float(rows[0]) if rows.size else float(v0)
    line = int(np.clip(round(v0), 0, h - 1))
    column = np.flatnonzero(alpha[line:, int(np.clip(round(u0), 0, w - 1))] >= 128)
    drop = float(column.max() + line + 1 - v0) if column.size else 0.0
    above = int(np.clip(round(v0 - drop - 2), round(top), line))
    half = solid.copy()
    if solid[line] > BRIM_RATIO * max(solid[above], 1.0):  # a brim: the crown stops at it
        band, brim = float(solid[above]), float(solid[line])
        half[above : line + 1] = band
        half[line + 1 :] = 0.0
    else:
        band, brim = float(max(solid[line], 1.0)), 0.0
    tex = np.minimum(half, solid)
    opaque = alpha >= 128
    any_col = opaque.any(axis=0)
    first = np.where(any_col, np.argmax(opaque, axis=0), v0).astype(np.float64)
    last = np.where(any_col, h - 1 - np.argmax(opaque[::-1], axis=0), v0).astype(np.float64)
    return Profile(half, tex, (first, last), (float(u0), float(v0)), top, band, max(drop, 0.0), brim)


def profile(sprite: Sprite) -> Profile:
    """:func:`measure`, cached per sprite object (sprites are shared and read-only)."""
    with _LOCK:
        entry = _PROFILES.get(id(sprite))
        if entry is not None and entry[0]() is sprite:
            return entry[1]
    out = measure(sprite)
    with _LOCK:
        for key in [k for k, (ref, _) in _PROFILES.items() if ref() is None]:
            del _PROFILES[key]
        _PROFILES[id(sprite)] = (weakref.ref(sprite), out)
    return out


@dataclass(frozen=True)
class Shell:
    """Where the hat is in the head frame."""

    origin: F64
    """``(3,)``: the hat's axis at the brim line (the sprite's brim middle lies on it)."""
    unit: float
    """Head-frame units per sprite pixel."""
    depth: float
    """Every row's ellipse is this many times deeper (front to back) than it is wide."""

    def tilt(self, prof: Profile) -> float:
        """Degrees the hat leans forward: the angle the drawing sees its brim from."""
        if prof.brim <= 0.0:
            return 0.0
        return math.degrees(math.asin(min(prof.drop / (self.depth * prof.brim), 0.5)))

    def rotation(self, prof: Profile) -> F64:
        """Hat frame to head frame."""
        return matrix_from_euler(0.0, self.tilt(prof), 0.0)


@dataclass
class Rays:
    """Pixels' rays in the hat frame, ``q + t r`` (any array shape, float32); in the scaled
    metric ``(x, z / depth)`` every row is a circle, and ``t_near`` is where a ray comes closest
    to the axis, ``rho_min`` how close."""

    q: F32
    r: NDArray[np.float64]
    depth: float
    scale: float
    """Pixels per unit."""
    t_near: F32
    rho_min: F32

    @property
    def speed(self) -> float:
        """How fast the scaled distance to the axis changes along a ray, per unit of ``t``."""
        return math.hypot(float(self.r[0]), float(self.r[2]) / self.depth)

    def take(self, where: NDArray[np.bool_] | tuple[NDArray[np.intp], ...]) -> Rays:
        return Rays(self.q[where], self.r, self.depth, self.scale, self.t_near[where], self.rho_min[where])

    def rho(self, t: F32) -> F32:
        x = self.q[..., 0] + t * np.float32(self.r[0])
        z = (self.q[..., 2] + t * np.float32(self.r[2])) * np.float32(1.0 / self.depth)
        out: F32 = np.sqrt(x * x + z * z)
        return out

    def y(self, t: F32) -> F32:
        out: F32 = self.q[..., 1] + t * np.float32(self.r[1])
        return out

    def entry(self, radius: F32 | float) -> F32:
        """Where each ray enters the circle of ``radius`` (``nan`` where it misses)."""
        with np.errstate(invalid="ignore"):
            chord = np.sqrt(radius * radius - self.rho_min * self.rho_min) * np.float32(1.0 / self.speed)
        out: F32 = self.t_near - chord
        return out


def rays(pose: HeadPose, shell: Shell, prof: Profile, xs: F64, ys: F64) -> Rays:
    """The rays through the image points of the grid ``ys × xs``: affine in the position."""
    rot = pose.rotation @ shell.rotation(prof)
    origin = pose.project(shell.origin[None])[0]
    gx = ((xs - origin[0]) / pose.scale).astype(np.float32)[None, :, None]
    gy = ((ys - origin[1]) / pose.scale).astype(np.float32)[:, None, None]
    q = gx * rot[0].astype(np.float32) + gy * rot[1].astype(np.float32)  # the image's x, y axes
    r = rot[2]
    out = Rays(q, r, shell.depth, pose.scale, q[..., 0], q[..., 0])
    speed2 = out.speed**2
    qs0, qs2 = q[..., 0], q[..., 2] * np.float32(1.0 / shell.depth)
    t_near = -(qs0 * np.float32(r[0]) + qs2 * np.float32(r[2] / shell.depth)) * np.float32(1.0 / speed2)
    rho2 = qs0 * qs0 + qs2 * qs2 - t_near * t_near * np.float32(speed2)
    out.t_near, out.rho_min = t_near, np.sqrt(np.maximum(rho2, np.float32(0.0)))
    return out


class Rows:
    """A per-row quantity of the sprite (in hat units), looked up by height in the hat frame
    (0 above and below the drawing)."""

    def __init__(self, values: F64, v0: float, unit: float) -> None:
        self.values = np.concatenate([[0.0], values, [0.0]]).astype(np.float32)
        self.offset = np.float32(v0 + 1.5)  # +1: the padding; +0.5: rounding by truncation
        self.per_unit = np.float32(1.0 / unit)
        self.widest = float(self.values.max())

    def __call__(self, y: F32) -> F32:
        pos = np.fmin(np.fmax(y * self.per_unit + self.offset, 0.0), len(self.values) - 1)
        out: F32 = self.values[pos.astype(np.intp)]
        return out


def march(ray: Rays, reach: Rows, steps: int = STEPS) -> F32:
    """The crown's entry along each ray by sampling then bisection (``nan``: missed)."""
    span = np.sqrt(np.maximum(reach.widest**2 - ray.rho_min**2, 0.0)) * np.float32(1.0 / ray.speed)
    t = ray.t_near[..., None] + span[..., None] * np.linspace(-1.0, 1.0, steps + 1, dtype=np.float32)

    def inside(t: F32) -> NDArray[np.bool_]:
        q = ray.q[..., None, :] if t.ndim > ray.t_near.ndim else ray.q
        x = q[..., 0] + t * np.float32(ray.r[0])
        z = (q[..., 2] + t * np.float32(ray.r[2])) * np.float32(1.0 / ray.depth)
        out: NDArray[np.bool_] = x * x + z * z <= reach(q[..., 1] + t * np.float32(ray.r[1])) ** 2
        return out

    ins = inside(t)
    first = np.argmax(ins, axis=-1)[..., None]
    hi = np.take_along_axis(t, first, -1)[..., 0]
    lo = np.take_along_axis(t, np.maximum(first - 1, 0), -1)[..., 0]
    for _ in range(REFINE):
        mid = np.float32(0.5) * (lo + hi)
        m = inside(mid)
        hi, lo = np.where(m, mid, hi), np.where(m, lo, mid)
    out: F32 = np.where(ins.any(axis=-1), hi, np.float32(np.nan))
    return out


def _upsample(coarse: F32, step: int, shape: tuple[int, int]) -> F32:
    size = (coarse.shape[1] * step, coarse.shape[0] * step)
    big = cv2.resize(coarse, size, interpolation=cv2.INTER_LINEAR)
    out: F32 = np.asarray(big, np.float32)[: shape[0], : shape[1]]
    return out


def _cover(f: F32) -> F32:
    """Anti-aliased coverage from a signed distance-like field (positive inside) in any units:
    divided by its gradient per pixel."""
    gy, gx = np.gradient(f)
    out: F32 = np.clip(f / np.maximum(np.hypot(gx, gy), 1e-9) + 0.5, 0.0, 1.0).astype(np.float32)
    return out


@dataclass
class Surface:
    """One of the hat's surfaces over the box: where each pixel samples the sprite, how much of
    the pixel it covers, and how deep along the ray (for the nearer-first order)."""

    u: F32
    v: F32
    cover: F32
    t: F32


def _solve(ray: Rays, reach: Rows, t: F32) -> tuple[F32, NDArray[np.bool_]]:
    """From ``t``, twice: where the ray enters the ellipse of the row it is at; and whether it
    ends inside the crown (within half a pixel)."""
    for _ in range(2):
        again = ray.entry(reach(ray.y(t)))
        t = np.where(np.isnan(again), t, again)
    w = reach(ray.y(t))
    ok: NDArray[np.bool_] = (w > 0) & (ray.rho(t) <= w + np.float32(0.5 / ray.scale))
    return t, ok


def _coarse(ray: Rays, reach: Rows, step: int) -> tuple[F32, NDArray[np.bool_]]:
    """The march on every ``step``-th ray, spread to every pixel: a starting ``t`` (the widest
    cylinder's entry where none hit) and whether any coarse ray near the pixel hit."""
    h, w = ray.t_near.shape
    bound = ray.entry(reach.widest)
    bound = np.where(np.isnan(bound), ray.t_near, bound)
    if step == 1:
        tc = march(ray, reach)
        return np.where(np.isnan(tc), bound, tc), np.ones((h, w), bool)
    rows = np.minimum((step - 1) // 2 + step * np.arange(-(-h // step)), h - 1)[:, None]
    cols = np.minimum((step - 1) // 2 + step * np.arange(-(-w // step)), w - 1)[None, :]
    tc = march(ray.take((rows, cols)), reach)
    hit = ~np.isnan(tc)
    start = _upsample(np.where(hit, tc, bound[rows, cols]), step, (h, w))
    near = _upsample(hit.astype(np.float32), step, (h, w)) > 0
    return start, cv2.dilate(near.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0


def crown(ray: Rays, shell: Shell, prof: Profile, step: int, margin: float) -> Surface:
    """The crown: marched on every ``step``-th ray, solved at every ray from there (marched
    finer where that fails near a hit); its cover 1 or 0; its texture sampled ``margin`` sprite
    pixels inside the drawing's opaque part (the pyramid level read blurs the edge: its fringe
    would show the background)."""
    unit = shell.unit
    reach = Rows(prof.half * unit, prof.centre[1], unit)
    start, near = _coarse(ray, reach, step)
    idx = np.nonzero(ray.rho_min < reach.widest)  # the rays that can meet the crown at all
    sub = ray.take(idx)
    # From each start solved at its row, the nearest that ends inside the crown.
    t_sub, ok = _solve(sub, reach, start[idx])
    for fallback in (sub.entry(reach.widest), sub.t_near):
        redo = ~ok
        t1, ok1 = _solve(sub.take(redo), reach, np.where(np.isnan(fallback), sub.t_near, fallback)[redo])
        t_sub[redo], ok[redo] = t1, ok1
    redo = ~ok & near[idx]
    found = march(sub.take(redo), reach, 2 * STEPS)
    t_sub[redo], ok[redo] = np.where(np.isnan(found), t_sub[redo], found), ~np.isnan(found)
    t, hit = ray.t_near.copy(), np.zeros(ray.t_near.shape, bool)
    t[idx], hit[idx] = np.where(ok, t_sub, sub.t_near), ok
    x, y = ray.q[..., 0] + t * np.float32(ray.r[0]), ray.y(t)
    lim = np.maximum(Rows(prof.tex, prof.centre[1], 1.0)(y / np.float32(unit)) - margin, 0.0)
    u = prof.centre[0] + np.clip(x / np.float32(unit), -lim, lim)
    col = np.clip(np.rint(u), 0, len(prof.column[0]) - 1).astype(np.intp)
    lo, hi = prof.column[0][col] + margin, prof.column[1][col] - margin
    v = np.clip(prof.centre[1] + y / np.float32(unit), lo, np.maximum(lo, hi))
    return Surface(u.astype(np.float32), v.astype(np.float32), hit.astype(np.float32), t)


def brim(ray: Rays, shell: Shell, prof: Profile) -> Surface | None:
    """The brim: a flat ring at the brim line; the drawing sees it from the hat's tilt."""
    if prof.brim <= 0.0 or abs(ray.r[1]) < 1e-6:
        return None
    t = -ray.q[..., 1] * np.float32(1.0 / ray.r[1])
    x, z = ray.q[..., 0] + t * np.float32(ray.r[0]), ray.q[..., 2] + t * np.float32(ray.r[2])
    rho = np.sqrt(x * x + (z * np.float32(1.0 / shell.depth)) ** 2)
    sin_tilt = math.sin(math.radians(shell.tilt(prof)))
    u = prof.centre[0] + x * np.float32(1.0 / shell.unit)
    v = prof.centre[1] - z * np.float32(sin_tilt / shell.unit)
    return Surface(u, v, _cover(np.float32(prof.brim * shell.unit) - rho), t)


def head_entry(ray: Rays, shell: Shell, prof: Profile) -> F32:
    """Where each ray enters the head below the band (``inf``: it does not)."""
    t_in = ray.entry(HEAD_INSET * prof.band * shell.unit)
    t_out = 2 * ray.t_near - t_in
    ry = float(ray.r[1])
    nan = np.float32(np.nan)
    if abs(ry) < 1e-9:
        start = np.where(ray.q[..., 1] > 0, t_in, nan)
    else:
        t_y = -ray.q[..., 1] * np.float32(1.0 / ry)  # where the ray crosses the band's plane
        start = np.maximum(t_in, t_y) if ry > 0 else np.where(t_in < t_y, t_in, nan)
    with np.errstate(invalid="ignore"):
        ok = ~np.isnan(start) & (start <= t_out)
    out: F32 = np.where(ok, start, np.float32(np.inf))
    return out


def _ellipse_box(pose: HeadPose, rot: F64, centre: F64, a: float, b: float) -> F64:
    """``(x0, y0, x1, y1)`` in the image of a horizontal ellipse of the hat frame (``rot``: hat
    to head frame) seen round the image point ``centre``, with half-axes ``a`` (x) and ``b`` (z)."""
    c = centre[:2]
    e1, e2 = (
        pose.scale * a * (pose.rotation @ rot[:, 0])[:2],
        pose.scale * b * (pose.rotation @ rot[:, 2])[:2],
    )
    half = np.hypot(e1, e2)
    return np.concatenate([c - half, c + half])


def hat_box(pose: HeadPose, shell: Shell, prof: Profile, shape: tuple[int, ...], pad: int = 3) -> Box | None:
    """The frame box the hat can cover (its crown's cylinder and its brim), clipped to the frame;
    ``None`` if outside it."""
    unit, v0, rot = shell.unit, prof.centre[1], shell.rotation(prof)
    widest = float(prof.half.max()) * unit
    rings = [
        ((prof.top - v0) * unit, widest),
        ((len(prof.half) - v0) * unit, widest),
        (0.0, prof.brim * unit),
    ]
    boxes = []
    for y, radius in rings:
        if radius <= 0.0:
            continue
        centre = pose.project((shell.origin + rot @ np.array([0.0, y, 0.0]))[None])[0]
        boxes.append(_ellipse_box(pose, rot, centre, radius, radius * shell.depth))
    if not boxes:
        return None
    b = np.array(boxes)
    x0, y0 = np.floor(b[:, :2].min(0)).astype(int) - pad
    x1, y1 = np.ceil(b[:, 2:].max(0)).astype(int) + pad
    x0, y0, x1, y1 = max(int(x0), 0), max(int(y0), 0), min(int(x1), shape[1]), min(int(y1), shape[0])
    if x1 <= x0 or y1 <= y0:
        return None
    return Box(x0, y0, x1, y1)


def _grid(box: Box, cell: int) -> tuple[F64, F64]:
    """Image points at the middle of ``cell``-pixel cells over ``box`` (what ``cv2.resize``
    spreads back to every pixel)."""
    x0, y0, x1, y1 = box
    mid = (cell - 1) / 2
    xs = x0 + mid + cell * np.arange(-(-(x1 - x0) // cell), dtype=np.float64)
    ys = y0 + mid + cell * np.arange(-(-(y1 - y0) // cell), dtype=np.float64)
    return xs, ys


def _spread(a: F32, cell: int, shape: tuple[int, int]) -> F32:
    if cell == 1:
        return a
    return _upsample(np.ascontiguousarray(a, np.float32), cell, shape)


def render(sprite: Sprite, prof: Profile, pose: HeadPose, shell: Shell, box: Box) -> NDArray[np.float32]:
    """The hat over ``box``: premultiplied linear RGBA ``(y1-y0, x1-x0, 4)``. Its geometry is
    solved on cells of up to :data:`SOLVE_PIXELS` rays and spread bilinearly (which smooths the
    outline over a cell; one-pixel cells: a 3x3 box filter does); the texture is read per pixel."""
    x0, y0, x1, y1 = box
    shape = (y1 - y0, x1 - x0)
    cell = max(1, math.ceil(math.sqrt(shape[0] * shape[1] / SOLVE_PIXELS)))
    ray = rays(pose, shell, prof, *_grid(box, cell))
    step = max(1, math.ceil(math.sqrt(ray.t_near.size / COARSE_PIXELS)))
    step += 1 - step % 2  # odd: the coarse rays sit at the middle of their cells
    head = head_entry(ray, shell, prof)
    s, level = sprite.level(pose.scale * shell.unit)
    layers = []
    for surface in (crown(ray, shell, prof, step, 1.0 + 2.0 / s), brim(ray, shell, prof)):
        if surface is None:
            continue
        seen = (surface.t < head).astype(np.float32)
        if cell == 1:
            seen = np.asarray(cv2.blur(seen * surface.cover, (3, 3)), np.float32)
        else:
            seen *= surface.cover
        u, v = (_spread(a, cell, shape) * np.float32(s) for a in (surface.u, surface.v))
        texel = np.asarray(
            cv2.remap(level, u, v, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT), np.float32
        )
        layers.append((texel, _spread(seen, cell, shape), _spread(surface.t, cell, shape)))
    if len(layers) == 1:
        texel, seen, _ = layers[0]
        out: NDArray[np.float32] = texel * seen[..., None]
        return out
    # Two surfaces: the nearer over the other (weights per pixel, then one pass over the RGBA).
    (a, seen_a, ta), (b, seen_b, tb) = layers
    alpha_a, alpha_b = a[..., 3] * seen_a, b[..., 3] * seen_b
    a_first = ta <= tb
    weight_a = seen_a * np.where(a_first, np.float32(1.0), 1.0 - alpha_b)
    weight_b = seen_b * np.where(a_first, 1.0 - alpha_a, np.float32(1.0))
    out = a * weight_a[..., None]
    out += b * weight_b[..., None]
    return out


def draw_shell(
    frame: NDArray[np.uint8],
    sprite: Sprite,
    prof: Profile,
    pose: HeadPose,
    shell: Shell,
    *,
    tint: NDArray[np.float32] | None = None,
    intensity: float = 1.0,
) -> NDArray[np.uint8]:
    """``frame`` with the hat composited in linear light; a new array when anything is drawn,
    ``frame`` itself otherwise."""
    box = hat_box(pose, shell, prof, frame.shape)
    if box is None or intensity <= 0.0:
        return frame
    hat = render(sprite, prof, pose, shell, box) * np.float32(intensity)
    alpha = hat[..., 3]
    if float(alpha.max(initial=0.0)) < 1.0 / 512:
        return frame
    colour = hat[..., :3] if tint is None else hat[..., :3] * tint
    x0, y0, x1, y1 = box
    region = to_linear(np.ascontiguousarray(frame[y0:y1, x0:x1]))
    out = frame.copy()
    out[y0:y1, x0:x1] = to_srgb(region * (1.0 - alpha[..., None]) + colour)
    return out
