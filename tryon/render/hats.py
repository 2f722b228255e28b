"""Hats on the head: a shell round the skull, sized by the head and placed by the head pose.

The skull at the band's height is a horizontal ellipse of the head frame (see
:mod:`tryon.headpose`) fitted to the canonical face's forehead outline, :data:`SKULL_RATIO` times
as long (front to back) as it is wide; its centre is the hat's vertical axis, between the ears.
The hat's band goes round it over :data:`HAIR` of hair: the sprite is scaled so that where the
head goes in (a crown's base, a cuff) it is that band's width; the hat is sized by the head it is
on, not by its flat drawing. Its height: the lowest point of its front (a beanie's cuff, a brim
drawn from above) comes ``sit`` of the way down the forehead, from its top (mesh vertex 10) to
just above the brows.

With a person mask (``result.segmentation``, when the look has a kind that asks for it), the
band widens round hair that is wider at its height (at most :data:`MAX_WIDEN`), and the hat rides
up on hair that rises above where its crown would end (at most :data:`MAX_LIFT`). In the image,
whatever the pose, the hat's lowest ring stays above the line of the brows' tops: a head bowed
towards the camera (or a nod the pose over-reads) would bring a brim down over the face; the hat
is raised instead (at most :data:`MAX_BROW_LIFT`).

The hat is drawn as a shell (:mod:`tryon.render.hat_shell`): it turns, nods and tilts with the
head, its far side hidden behind its near side. :func:`hat_matrix` is its front plane (the
sprite flat at the band's front on the forehead), for anchors and tests.

Stateless: ``render_hat(frame, face, sprite, params, person=None) -> frame``.
"""

from __future__ import annotations

import functools

import numpy as np
from numpy.typing import NDArray

from tryon.headpose import HeadPose, load_canonical
from tryon.render.accessory import AccessoryParams, accessory_layer, head_pose
from tryon.render.hat_shell import Profile, Shell, draw_shell, profile
from tryon.render.registry import Layer, LayerRequest, person_mask, renders
from tryon.render.sprite import Sprite
from tryon.results import Face

FOREHEAD_TOP = 10
BROWS = (105, 334, 66, 296)
BROW_TOPS = (105, 334)
FOREHEAD_OUTLINE = (10, 338, 297, 332, 284, 251, 389, 109, 67, 103, 54, 21, 162)
"""The face oval from the top of the forehead down to the temples: the skull's front."""
SKULL_RATIO = 1.2
"""Head length over head breadth (a cephalic index of about 83)."""
HAIR = 0.1
"""Hair and the hat's own thickness between the skull and the band, in canonical units (9 mm)."""
BROW_MARGIN = 0.05
"""The hat's front stops this far above the brows, in canonical units (4.5 mm)."""
CROWN_ROOM = 0.9
"""Of the crown's outer height, how much the head and hair may fill before the hat rides up."""
MAX_LIFT = 0.35
"""How far hair may lift a hat, in canonical units (30 mm)."""
MAX_WIDEN = 1.25
"""How much wider than the head with :data:`HAIR` a hat may be made for the hair the person mask
shows at the band's height."""
BROW_GUARD = 0.03
"""In the image, the hat's lowest ring stays this far above the brows' tops (canonical units)."""
MAX_BROW_LIFT = 0.5
"""How far a hat may be raised to keep it off the brows in the image (45 mm)."""


@functools.cache
def skull() -> tuple[float, float, float]:
    """``(half-breadth, half-length, centre z)`` of the skull's horizontal section at the
    forehead, fitted (algebraically, the length/breadth ratio fixed) to the canonical outline."""
    shape = load_canonical().shape[list(FOREHEAD_OUTLINE)]
    x, z, k = shape[:, 0], shape[:, 2], SKULL_RATIO
    # k²x² + (z - zc)² = k²a²  <=>  k²x² + z² = 2 z zc + (k²a² - zc²), linear in zc and the rest.
    m = np.column_stack([2 * z, np.ones_like(z)])
    (zc, rest), *_ = np.linalg.lstsq(m, k * k * x * x + z * z, rcond=None)
    a = float(np.sqrt(rest + zc * zc) / k)
    return a, k * a, float(zc)


@functools.cache
def _forehead() -> tuple[float, float]:
    """``(top y, brows y)`` of the canonical face."""
    shape = load_canonical().shape
    return float(shape[FOREHEAD_TOP, 1]), float(shape[list(BROWS), 1].mean())


def fit_shell(prof: Profile, sit: float, lift: float = 0.0, widen: float = 1.0) -> Shell:
    """The hat on the canonical head: its band round the skull over the hair (``widen`` times
    that for more hair), its front's lowest point ``sit`` of the way down the forehead (then
    ``lift`` higher), in the head frame."""
    a, c, zc = skull()
    unit = widen * (a + HAIR) / prof.band
    top, brows = _forehead()
    lowest = top + sit * (brows - BROW_MARGIN - top)
    origin = np.array([0.0, lowest - prof.drop * unit - lift, zc])
    return Shell(origin, unit, (c + HAIR) / (a + HAIR))


def band_front(shell: Shell, prof: Profile) -> NDArray[np.float64]:
    """The middle of the band's front, on the forehead, in the head frame."""
    front = np.array([0.0, 0.0, -prof.band * shell.unit * shell.depth])
    out: NDArray[np.float64] = shell.origin + shell.rotation(prof) @ front
    return out


def _person_run(person: NDArray[np.float32], xy: NDArray[np.float64]) -> int | None:
    """Along image points from the first, how many are on the person before the first off it;
    ``None`` when the mask does not say (the first is off, none is, or the line leaves the frame)."""
    h, w = person.shape
    ij = np.round(xy).astype(int)
    if not ((ij[:, 0] >= 0) & (ij[:, 0] < w) & (ij[:, 1] >= 0) & (ij[:, 1] < h)).all():
        return None
    on = person[ij[:, 1], ij[:, 0]] >= 0.5
    if not on[0] or on.all():
        return None
    return int(np.argmin(on))


def hair_lift(person: NDArray[np.float32], pose: HeadPose, shell: Shell, prof: Profile) -> float:
    """How far to raise the hat so the crown clears the hair: the person mask's top along the
    hat's axis against the crown's height; 0 when the mask does not say."""
    crown = (prof.centre[1] - prof.top) * shell.unit
    heights = np.linspace(0.0, crown + MAX_LIFT + 0.5, 64)
    run = _person_run(person, pose.project(shell.origin + np.outer(-heights, [0.0, 1.0, 0.0]))[:, :2])
    if run is None:
        return 0.0
    return float(np.clip(heights[run] - CROWN_ROOM * crown, 0.0, MAX_LIFT))


def hair_widen(person: NDArray[np.float32], pose: HeadPose, shell: Shell, prof: Profile) -> float:
    """How much wider the band must be to go round the hair: the person mask's width at the
    band's height (along the head's left-right axis in the image) against the band's; 1 when the
    mask does not say or the hair is no wider, at most :data:`MAX_WIDEN`."""
    band = prof.band * shell.unit
    rot = pose.rotation @ shell.rotation(prof)
    along = rot[:2, 0] / max(float(np.linalg.norm(rot[:2, 0])), 1e-9)
    seen = pose.scale * band * float(np.hypot(rot[:2, 0] @ along, shell.depth * (rot[:2, 2] @ along)))
    centre = pose.project(shell.origin[None])[0, :2]
    reach = np.linspace(0.0, 2.0 * seen, 121)
    runs = [_person_run(person, centre + np.outer(side * reach, along)) for side in (-1.0, 1.0)]
    if runs[0] is None or runs[1] is None:
        return 1.0
    hair = 0.5 * (reach[runs[0]] + reach[runs[1]])
    return float(np.clip(hair / seen, 1.0, MAX_WIDEN))


def bottom_ring(shell: Shell, prof: Profile, n: int = 25) -> NDArray[np.float64]:
    """The front half of the hat's lowest ring (a brim's edge, or the bottom of a cuff), head
    frame ``(n, 3)``."""
    if prof.brim > 0.0:
        y, radius = 0.0, prof.brim * shell.unit
    else:
        last = int(np.flatnonzero(prof.half > 0)[-1])
        y, radius = (last + 1 - prof.centre[1]) * shell.unit, float(prof.half[last]) * shell.unit
    phi = np.linspace(-0.5 * np.pi, 0.5 * np.pi, n)
    ring = np.column_stack([radius * np.sin(phi), np.full(n, y), -shell.depth * radius * np.cos(phi)])
    out: NDArray[np.float64] = ring @ shell.rotation(prof).T + shell.origin
    return out


def brow_lift(pose: HeadPose, shell: Shell, prof: Profile, brows: NDArray[np.floating]) -> float:
    """How far to raise the hat so that, in the image, its lowest ring stays above the line of
    the brows' tops (``brows``: their two image points) between them: a head bowed towards the
    camera brings a brim's front down over the face; so does a nod the pose over-reads."""
    (x0, y0), (x1, y1) = sorted(tuple(map(float, p[:2])) for p in np.asarray(brows, np.float64))
    xy = pose.project(bottom_ring(shell, prof))[:, :2]
    over = (xy[:, 0] >= x0) & (xy[:, 0] <= x1)
    if not over.any():
        return 0.0
    line = y0 + (y1 - y0) * (xy[over, 0] - x0) / max(x1 - x0, 1e-9)
    excess = float((xy[over, 1] - line).max()) + BROW_GUARD * pose.scale
    up = pose.scale * max(float(pose.rotation[1, 1]), 0.3)  # image rows per unit of lift
    return float(np.clip(excess / up, 0.0, MAX_BROW_LIFT))


def placed(
    sprite: Sprite,
    pose: HeadPose,
    sit: float,
    person: NDArray[np.float32] | None = None,
    brows: NDArray[np.floating] | None = None,
) -> tuple[Profile, Shell]:
    """The hat's profile and shell for a head: widened round the hair and raised over it when
    the person mask says so, and above the brows' image points ``brows`` when the pose brings
    it down over them."""
    prof = profile(sprite)
    shell = fit_shell(prof, sit)
    widen, lift = 1.0, 0.0
    if person is not None:
        widen = hair_widen(person, pose, shell, prof)
        lift = hair_lift(person, pose, fit_shell(prof, sit, 0.0, widen), prof)
    if brows is not None:
        lift += brow_lift(pose, fit_shell(prof, sit, lift, widen), prof, brows)
    return prof, shell if (lift, widen) == (0.0, 1.0) else fit_shell(prof, sit, lift, widen)


def hat_matrix(sprite: Sprite, pose: HeadPose, sit: float) -> NDArray[np.float64]:
    """The hat's front plane: the 3x3 affine matrix taking sprite pixels to the image with the
    sprite flat at the band's front (the brim line's middle on the forehead), weak perspective."""
    prof, shell = placed(sprite, pose, sit)
    linear = pose.scale * shell.unit * pose.rotation[:2, :2]
    m = np.eye(3)
    m[:2, :2] = linear
    m[:2, 2] = pose.project(band_front(shell, prof)[None])[0, :2] - linear @ np.asarray(prof.centre)
    return m


def render_hat(
    frame: NDArray[np.uint8],
    face: Face,
    sprite: Sprite,
    params: AccessoryParams,
    person: NDArray[np.float32] | None = None,
) -> NDArray[np.uint8]:
    """``frame`` with the hat on the face's head; ``person``: the person mask in [0, 1] at frame
    size, for the hair's width and top (``None``: the hat sits by the face alone)."""
    pose = head_pose(face)
    prof, shell = placed(sprite, pose, params.sit, person, face.landmarks[list(BROW_TOPS), :2])
    return draw_shell(frame, sprite, prof, pose, shell, tint=params.tint, intensity=params.intensity)


@renders("hat")
def hat_layer(request: LayerRequest) -> Layer:
    """The item on every head, over the hair the person mask shows (when a look has one)."""
    return accessory_layer(request, lambda out, face, s, p, r: render_hat(out, face, s, p, person_mask(r)))
