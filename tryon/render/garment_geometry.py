"""Where a garment goes on a body: the body's landmarks, the homography of the garment's body and
the sleeves' segments (see :mod:`tryon.render.garments`).

- the body by the homography taking the garment's shoulder line and the line a torso's length
  below it onto the person's shoulders and hips, scaled by the shoulder width and the fit (so it
  leans, bends and foreshortens with the torso). Hips out of the frame or not seen are replaced
  by the body's proportions (a torso 1.4 shoulder widths long, perpendicular to the shoulders);
  hips seen less than :data:`TORSO_MIN` shoulder widths below the shoulders (a pose stage
  misled by arms or an object held before the belly) are moved down to it;
- each sleeve piecewise along the arm: the upper sleeve from the sleeve's root (between the
  shoulder seam and the armpit, where the fitted body has it, brought onto the upper arm's axis)
  to the elbow anchor onto the shoulder-to-elbow segment, the lower sleeve from the elbow to the
  cuff onto elbow-to-wrist, so the sleeve bends at the elbow; a short sleeve runs down the upper
  arm for its own length.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from tryon.render.garment_assets import FIT, GarmentAsset
from tryon.render.garment_fit import FittedBody
from tryon.results import Pose

L_SHOULDER, R_SHOULDER, L_ELBOW, R_ELBOW, L_WRIST, R_WRIST, L_HIP, R_HIP = 11, 12, 13, 14, 15, 16, 23, 24
SHOULDER_EDGE = 1.18
"""The outer edge of the shoulders over the distance between the shoulder joints (the landmarks)."""
TORSO = 1.4
"""Shoulder joints to hip joints, in shoulder widths, when the hips are not seen."""
TORSO_MIN = 0.9
"""The shortest torso believed, in shoulder widths."""
HIP_RATIO = 0.72
"""Hip joints' distance over the shoulder joints' on an average body."""
MIN_VISIBILITY = 0.5

F64 = NDArray[np.float64]
Segment = tuple[F64, F64, F64, F64]


@dataclass(frozen=True)
class Body:
    shoulders: F64
    """``(2, 2)``: the wearer's left then right shoulder joint."""
    hips: F64
    elbows: F64
    wrists: F64
    hips_seen: bool
    arms_seen: tuple[bool, bool] = (True, True)
    """Whether each forearm (left, right) is seen: both its elbow and wrist visible."""
    elbows_seen: tuple[bool, bool] = (True, True)

    @property
    def width(self) -> float:
        return float(np.linalg.norm(self.shoulders[0] - self.shoulders[1]))


def _down(shoulders: F64) -> F64:
    width = float(np.linalg.norm(shoulders[0] - shoulders[1]))
    across = (shoulders[0] - shoulders[1]) / max(width, 1e-6)
    down = np.array([-across[1], across[0]])
    return down if float(down[1]) >= 0 else -down


def body_of(pose: Pose, shape: tuple[int, ...]) -> Body:
    xy = pose.xy.astype(np.float64)
    vis = pose.visibility
    shoulders, hips = xy[[L_SHOULDER, R_SHOULDER]], xy[[L_HIP, R_HIP]]
    h, w = shape[:2]
    width = float(np.linalg.norm(shoulders[0] - shoulders[1]))
    inside = ((hips >= 0) & (hips < [w, h])).all()
    seen = bool(inside and min(vis[L_HIP], vis[R_HIP]) >= MIN_VISIBILITY)
    across = (shoulders[0] - shoulders[1]) / max(width, 1e-6)
    if not seen:
        mid = shoulders.mean(0) + _down(shoulders) * TORSO * width
        hips = np.array([mid + across * HIP_RATIO * width / 2, mid - across * HIP_RATIO * width / 2])
    else:
        torso = hips.mean(0) - shoulders.mean(0)
        length = float(np.linalg.norm(torso))
        if length < TORSO_MIN * width:  # along the torso as seen, or straight down if it has none
            d = torso / length if length > 1e-6 else _down(shoulders)
            hips = hips + d * (TORSO_MIN * width - length)
    arms = (
        bool(min(vis[L_ELBOW], vis[L_WRIST]) >= MIN_VISIBILITY),
        bool(min(vis[R_ELBOW], vis[R_WRIST]) >= MIN_VISIBILITY),
    )
    elbows = (bool(vis[L_ELBOW] >= MIN_VISIBILITY), bool(vis[R_ELBOW] >= MIN_VISIBILITY))
    return Body(shoulders, hips, xy[[L_ELBOW, R_ELBOW]], xy[[L_WRIST, R_WRIST]], seen, arms, elbows)


def _frame_of(a: F64, b: F64) -> tuple[F64, F64]:
    """Unit vectors along ``b - a`` and its normal."""
    d = b - a
    d = d / max(float(np.linalg.norm(d)), 1e-9)
    return d, np.array([-d[1], d[0]])


def body_targets(asset: GarmentAsset, body: Body, fit: str) -> dict[str, F64]:
    """Where the garment's shoulders and its hip-line points go on the body (frame pixels), and
    the scale (frame pixels per garment pixel) as ``targets["scale"]``."""
    g_left, g_right = asset.point("left_shoulder"), asset.point("right_shoulder")
    half = body.width / 2 * SHOULDER_EDGE * FIT[fit]
    mid_s = body.shoulders.mean(0)
    across_s = (body.shoulders[0] - body.shoulders[1]) / max(body.width, 1e-6)
    scale = 2 * half / float(np.linalg.norm(g_left - g_right))
    hip_w = float(np.linalg.norm(body.hips[0] - body.hips[1]))
    across_h = (body.hips[0] - body.hips[1]) / max(hip_w, 1e-6)
    turn = float(np.clip(hip_w / max(body.width, 1e-6) / HIP_RATIO, 0.8, 1.25))
    mid_h = body.hips.mean(0)
    return {
        "left_shoulder": mid_s + across_s * half,
        "right_shoulder": mid_s - across_s * half,
        "left_hipline": mid_h + across_h * half * turn,
        "right_hipline": mid_h - across_h * half * turn,
        "scale": np.array([scale]),
    }


def hip_row(asset: GarmentAsset, body: Body, scale: float) -> float:
    """The garment row the homography puts on the body's hip line."""
    shoulders = (asset.point("left_shoulder")[1] + asset.point("right_shoulder")[1]) / 2
    torso = float(np.linalg.norm(body.hips.mean(0) - body.shoulders.mean(0)))
    return float(shoulders + torso / scale)


def body_homography(asset: GarmentAsset, body: Body, fit: str) -> F64:
    """Garment pixels → frame pixels for the garment's body."""
    t = body_targets(asset, body, fit)
    g_left, g_right = asset.point("left_shoulder"), asset.point("right_shoulder")
    torso = float(np.linalg.norm(body.hips.mean(0) - body.shoulders.mean(0)))
    drop = np.array([0.0, torso / float(t["scale"][0])])
    src = np.array([g_left, g_right, g_right + drop, g_left + drop], np.float32)
    dst = np.array(
        [t["left_shoulder"], t["right_shoulder"], t["right_hipline"], t["left_hipline"]], np.float32
    )
    return np.asarray(cv2.getPerspectiveTransform(src, dst), np.float64)


def apply_h(m: F64, points: NDArray[np.floating]) -> F64:
    p = np.column_stack(
        [np.asarray(points, np.float64).reshape(-1, 2), np.ones(len(np.asarray(points).reshape(-1, 2)))]
    )
    q = p @ m.T
    out: F64 = q[:, :2] / q[:, 2:3]
    return out


def sleeve_segments(
    asset: GarmentAsset, body: Body, h_body: F64, scale: float, fit: FittedBody | None = None
) -> dict[int, list[Segment]]:
    """Per side, per piece: ``(garment start, garment end, frame start, frame end)``; the roots
    where the body, fitted by ``fit``, has them."""
    out = {}
    for side, i, prefix in ((+1, 0, "left"), (-1, 1, "right")):
        g_root = asset.point(f"{prefix}_root")
        b_root = apply_h(h_body, g_root[None] if fit is None else fit.forward(g_root[None]))[0]
        elbow, wrist = body.elbows[i], body.wrists[i]
        # The root onto the upper arm's axis, as far along it as the body has it: on a hanging
        # arm the same point; on a raised one the sleeve runs along the arm, not under it.
        d, _ = _frame_of(body.shoulders[i], elbow)
        b_root = body.shoulders[i] + d * max(float((b_root - body.shoulders[i]) @ d), 0.0)
        if asset.long_sleeves:
            g_elbow, g_cuff = asset.point(f"{prefix}_elbow"), asset.point(f"{prefix}_cuff")
            out[side] = [(g_root, g_elbow, b_root, elbow), (g_elbow, g_cuff, elbow, wrist)]
        else:
            g_cuff = asset.point(f"{prefix}_cuff")
            d, _ = _frame_of(b_root, elbow)
            length = float(np.linalg.norm(g_cuff - g_root)) * scale
            out[side] = [(g_root, g_cuff, b_root, b_root + d * length)]
    return out


def segment_homography(g0: F64, g1: F64, b0: F64, b1: F64, scale: float, reach: float) -> F64:
    """The homography taking a band around the garment segment ``g0→g1`` onto one around the
    body segment ``b0→b1`` (stretched along it, ``scale`` across it)."""
    gd, gn = _frame_of(g0, g1)
    bd, bn = _frame_of(b0, b1)
    r = reach
    src = np.array([g0 - gd * r + gn * r, g1 + gd * r + gn * r, g1 + gd * r - gn * r, g0 - gd * r - gn * r])
    k = float(np.linalg.norm(b1 - b0)) / max(float(np.linalg.norm(g1 - g0)), 1e-9)
    dst = np.array(
        [
            b0 - bd * r * k + bn * r * scale,
            b1 + bd * r * k + bn * r * scale,
            b1 + bd * r * k - bn * r * scale,
            b0 - bd * r * k - bn * r * scale,
        ]
    )
    return np.asarray(cv2.getPerspectiveTransform(src.astype(np.float32), dst.astype(np.float32)), np.float64)


__all__ = [
    "HIP_RATIO",
    "MIN_VISIBILITY",
    "SHOULDER_EDGE",
    "TORSO",
    "TORSO_MIN",
    "Body",
    "apply_h",
    "body_homography",
    "body_of",
    "body_targets",
    "hip_row",
    "segment_homography",
    "sleeve_segments",
]
