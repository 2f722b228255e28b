"""The arms of a body as the person mask shows them, for a garment: each limb's width, a capsule
round every limb (the silhouette fit walks the torso's edge in off them, or fills behind those
the sleeves cover), the forearms' outlines and where the hands are (in front of the garment).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from tryon.render.garment_assets import GarmentAsset
from tryon.render.garment_fit import Capsule, limb_width
from tryon.render.garment_geometry import Body
from tryon.render.garment_occluders import FOREARM_WIDTH, forearm_band, pose_hand
from tryon.results import Pose

F64 = NDArray[np.float64]
Mask = NDArray[np.float32]

UPPER_ARM_WIDTH = 0.3
"""The upper arm's width in shoulder widths, when the mask does not tell."""
UPPER_ARM, FOREARM = (0.2, 0.6), (0.15, 0.5)
"""The widths believed of the mask's upper arms and forearms, in shoulder widths (narrower: a
pose that put the limb along its edge, wider: an arm against the body)."""
ARM_REACH = 0.35
"""How far from a limb's axis its edge is looked for, in shoulder widths."""


@dataclass
class Arms:
    """The arms as the person mask shows them."""

    capsules: list[Capsule] = field(default_factory=list)
    """Upper arms and forearms, for the silhouette fit."""
    widths: dict[tuple[int, int], float] = field(default_factory=dict)
    """``(side, 0)``: the upper arm's measured width, ``(side, 1)`` the forearm's."""
    bands: dict[int, F64] = field(default_factory=dict)
    """The forearms' outlines (in front of the garment's body), by side."""
    hands: list[F64] = field(default_factory=list)
    """The hands from the pose's hand keypoints, when no hand landmarks are given."""
    discs: list[tuple[F64, float]] = field(default_factory=list)
    """Where the hands are when neither hand landmarks nor the pose's hand keypoints tell."""


def _in_frame(p: F64, shape: tuple[int, ...]) -> bool:
    return bool(0 <= p[0] < shape[1] and 0 <= p[1] < shape[0])


def _limb(a: F64, b: F64, width: float) -> bool:
    """Whether ``a→b`` is as long as a limb can be (0.3-2 shoulder widths): a joint the pose
    placed, seen or not, in the frame or beyond it."""
    return 0.3 * width <= float(np.linalg.norm(b - a)) <= 2.0 * width


def measure_arms(pose: Pose, body: Body, person: Mask | None, shape: tuple[int, ...]) -> Arms:
    """The arms' widths from ``person`` and, for the silhouette fit, a capsule round every limb
    the pose placed, seen or not, in the frame or out of it (an arm hanging at the side is not
    the torso)."""
    out = Arms()
    w = body.width
    reach = ARM_REACH * w
    for i, side in ((0, +1), (1, -1)):
        shoulder, elbow, wrist = body.shoulders[i], body.elbows[i], body.wrists[i]
        upper = None
        # An arm not seen is behind something (a helmet, the other arm): the mask is not its width.
        if person is not None and body.elbows_seen[i] and _in_frame(elbow, shape):
            upper = limb_width(person, shoulder, elbow, reach)
            upper = None if upper is None else float(np.clip(upper, UPPER_ARM[0] * w, UPPER_ARM[1] * w))
        if upper is not None:
            out.widths[side, 0] = upper
        fore = None
        if body.arms_seen[i]:
            usual = 0.85 * upper if upper is not None else FOREARM_WIDTH * body.width
            outline, fore = forearm_band(elbow, wrist, person, usual, reach)
            fore = None if fore is None else float(np.clip(fore, FOREARM[0] * w, FOREARM[1] * w))
            if fore is not None:
                out.widths[side, 1] = fore
            out.bands[side] = outline
            hand = pose_hand(pose, i)
            if hand is None:
                out.discs.append((wrist + (wrist - elbow) * 0.35, 0.6 * (fore or FOREARM_WIDTH * body.width)))
            elif isinstance(hand, np.ndarray):
                out.hands.append(hand)
        if _limb(shoulder, elbow, body.width):
            width = upper or UPPER_ARM_WIDTH * body.width
            out.capsules.append(Capsule(shoulder, elbow, width / 2))
            if _limb(elbow, wrist, body.width):
                width = fore or (0.85 * upper if upper else FOREARM_WIDTH * body.width)
                out.capsules.append(Capsule(elbow, wrist, width / 2))
    return out


def sleeved_limbs(
    capsules: list[Capsule], body: Body, asset: GarmentAsset
) -> tuple[list[Capsule], list[Capsule]]:
    """The limbs the torso's edge is walked in off, and those the body fills behind: an arm
    hanging along the torso (more along it than across) under a long sleeve is drawn over by the
    sleeve, so the body behind it reaches the silhouette (what shows of it is where the pose put
    the arm inside the coat's edge, or the coat is wider than the arm)."""
    if not asset.long_sleeves:
        return capsules, []
    down = body.hips.mean(0) - body.shoulders.mean(0)
    down = down / max(float(np.linalg.norm(down)), 1e-9)
    walked: list[Capsule] = []
    covered: list[Capsule] = []
    for c in capsules:
        d = c.b - c.a
        along = abs(float(d @ down))
        (covered if along > abs(float(d[0] * down[1] - d[1] * down[0])) else walked).append(c)
    return walked, covered


__all__ = ["ARM_REACH", "FOREARM", "UPPER_ARM", "UPPER_ARM_WIDTH", "Arms", "measure_arms", "sleeved_limbs"]
