"""Garments (tops, dresses, jackets) warped onto a body from its pose landmarks, behind the hands
and forearms in front of it, inside the person's silhouette, and in the person's light.

The asset is a flat lay with keypoints and a part image (body, left sleeve, right sleeve; see
:mod:`tryon.catalog.schema`). Each part is warped on its own:

- the body by the homography taking the garment's shoulder line and the line a torso's length
  below it onto the person's shoulders and hips, scaled by the shoulder width and the fit (so it
  leans, bends and foreshortens with the torso). Hips out of the frame or not seen are replaced
  by the body's proportions (a torso 1.4 shoulder widths long, perpendicular to the shoulders);
- each sleeve piecewise along the arm: the upper sleeve from the sleeve's root (between the
  shoulder seam and the armpit) to the elbow anchor onto the shoulder-to-elbow segment, the
  lower sleeve from the elbow to the cuff onto elbow-to-wrist, so the sleeve bends at the elbow;
  a short sleeve runs down the upper arm for its own length.

Layers, back to front: the body, the person's own forearms where they cross it, the sleeves,
the person's own hands. Everything is clipped to the person mask widened by the fit's margin,
and every pixel of the garment is multiplied by the person's low-frequency shading (the
luminance of the frame blurred at a tenth of the shoulder width, relative to its median under
the garment), so folds and the direction of the light carry over.

Stateless: ``render_garment(frame, pose, asset, params, person=None, hands=()) -> frame``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from tryon.frame import Frame
from tryon.look import LookItem
from tryon.render.color import LUMA, to_linear, to_srgb
from tryon.render.garment_assets import (
    FIT,
    GarmentAsset,
    GarmentParams,
    Piece,
    garment_asset,
    garment_params,
    load_garment,
    split_garment,
)
from tryon.render.hair import hair_mask
from tryon.render.masks import Box
from tryon.render.registry import Layer, LayerRequest, renders
from tryon.render.sprite import Sprite, sprite_box, warp_sprite
from tryon.results import Face, FrameResult, Hand, Pose

L_SHOULDER, R_SHOULDER, L_ELBOW, R_ELBOW, L_WRIST, R_WRIST, L_HIP, R_HIP = 11, 12, 13, 14, 15, 16, 23, 24
SPILL = {"slim": 0.03, "regular": 0.06, "loose": 0.12}
"""How far past the person's silhouette the garment may reach, in shoulder widths."""
SHOULDER_EDGE = 1.18
"""The outer edge of the shoulders over the distance between the shoulder joints (the landmarks)."""
TORSO = 1.4
"""Shoulder joints to hip joints, in shoulder widths, when the hips are not seen."""
HIP_RATIO = 0.72
"""Hip joints' distance over the shoulder joints' on an average body."""
NECK_RISE = 0.12
"""The neckline's centre above the shoulder joints' midpoint, in shoulder widths."""
HAIR_REACH = 1.0
"""How far below the shoulders hair is looked for, in shoulder widths (long hair, not to the waist)."""
FOREARM_WIDTH = 0.22
HAND_RADIUS = 0.22
MIN_VISIBILITY = 0.5


# -- the body's geometry -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Body:
    shoulders: NDArray[np.float64]
    """``(2, 2)``: the wearer's left then right shoulder joint."""
    hips: NDArray[np.float64]
    elbows: NDArray[np.float64]
    wrists: NDArray[np.float64]
    hips_seen: bool
    arms_seen: tuple[bool, bool] = (True, True)
    """Whether each forearm (left, right) is seen: both its elbow and wrist visible."""

    @property
    def width(self) -> float:
        return float(np.linalg.norm(self.shoulders[0] - self.shoulders[1]))


def body_of(pose: Pose, shape: tuple[int, ...]) -> Body:
    xy = pose.xy.astype(np.float64)
    vis = pose.visibility
    shoulders, hips = xy[[L_SHOULDER, R_SHOULDER]], xy[[L_HIP, R_HIP]]
    h, w = shape[:2]
    inside = ((hips >= 0) & (hips < [w, h])).all()
    seen = bool(inside and min(vis[L_HIP], vis[R_HIP]) >= MIN_VISIBILITY)
    if not seen:
        width = float(np.linalg.norm(shoulders[0] - shoulders[1]))
        across = (shoulders[0] - shoulders[1]) / max(width, 1e-6)
        down = np.array([-across[1], across[0]])
        if float(down[1]) < 0:
            down = -down
        mid = shoulders.mean(0) + down * TORSO * width
        hips = np.array([mid + across * HIP_RATIO * width / 2, mid - across * HIP_RATIO * width / 2])
    arms = (
        bool(min(vis[L_ELBOW], vis[L_WRIST]) >= MIN_VISIBILITY),
        bool(min(vis[R_ELBOW], vis[R_WRIST]) >= MIN_VISIBILITY),
    )
    return Body(shoulders, hips, xy[[L_ELBOW, R_ELBOW]], xy[[L_WRIST, R_WRIST]], seen, arms)


def _frame_of(
    a: NDArray[np.float64], b: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Unit vectors along ``b - a`` and its normal."""
    d = b - a
    d = d / max(float(np.linalg.norm(d)), 1e-9)
    return d, np.array([-d[1], d[0]])


def body_targets(asset: GarmentAsset, body: Body, fit: str) -> dict[str, NDArray[np.float64]]:
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


def body_homography(asset: GarmentAsset, body: Body, fit: str) -> NDArray[np.float64]:
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


def apply_h(m: NDArray[np.float64], points: NDArray[np.floating]) -> NDArray[np.float64]:
    p = np.column_stack(
        [np.asarray(points, np.float64).reshape(-1, 2), np.ones(len(np.asarray(points).reshape(-1, 2)))]
    )
    q = p @ m.T
    out: NDArray[np.float64] = q[:, :2] / q[:, 2:3]
    return out


def sleeve_segments(
    asset: GarmentAsset, body: Body, h_body: NDArray[np.float64], scale: float
) -> dict[
    int, list[tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]]
]:
    """Per side, per piece: ``(garment start, garment end, frame start, frame end)``."""
    out = {}
    for side, i, prefix in ((+1, 0, "left"), (-1, 1, "right")):
        g_root = asset.point(f"{prefix}_root")
        b_root = apply_h(h_body, g_root[None])[0]
        elbow, wrist = body.elbows[i], body.wrists[i]
        if asset.long_sleeves:
            g_elbow, g_cuff = asset.point(f"{prefix}_elbow"), asset.point(f"{prefix}_cuff")
            out[side] = [(g_root, g_elbow, b_root, elbow), (g_elbow, g_cuff, elbow, wrist)]
        else:
            g_cuff = asset.point(f"{prefix}_cuff")
            d, _ = _frame_of(b_root, elbow)
            length = float(np.linalg.norm(g_cuff - g_root)) * scale
            out[side] = [(g_root, g_cuff, b_root, b_root + d * length)]
    return out


def segment_homography(
    g0: NDArray[np.float64],
    g1: NDArray[np.float64],
    b0: NDArray[np.float64],
    b1: NDArray[np.float64],
    scale: float,
    reach: float,
) -> NDArray[np.float64]:
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


# -- drawing -------------------------------------------------------------------------------------------


def _dilated(mask: NDArray[np.float32], radius: int) -> NDArray[np.float32]:
    """``mask`` widened by ``radius`` pixels (at half resolution above 4 pixels: it is a margin)."""
    if radius < 1:
        return mask
    if radius <= 4:
        k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
        return np.asarray(cv2.dilate(mask, k), np.float32)
    h, w = mask.shape
    small = cv2.resize(mask, (max(1, w // 2), max(1, h // 2)), interpolation=cv2.INTER_AREA)
    r = max(1, (radius - 2) // 2)  # the upsampling blurs the edge out by a pixel or two
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    grown = cv2.resize(cv2.dilate(small, k), (w, h), interpolation=cv2.INTER_LINEAR)
    return np.asarray(np.maximum(grown, mask), np.float32)


def occluders(
    body: Body, hands: Sequence[Hand], box: Box
) -> tuple[NDArray[np.float32] | None, NDArray[np.float32] | None]:
    """``(forearms, hands)`` masks in [0, 1] over ``box`` (x0, y0, x1, y1) of the person's own
    forearms and hands; ``None`` for one that does not reach the box."""
    x0, y0, x1, y1 = box
    origin = np.array([x0, y0], np.float64)
    width = body.width
    arms = np.zeros((y1 - y0, x1 - x0), np.uint8)
    for i in (0, 1):
        if not body.arms_seen[i]:
            continue
        a = np.round((body.elbows[i] - origin) * 16).astype(np.int32)
        b = np.round((body.wrists[i] - origin) * 16).astype(np.int32)
        cv2.line(
            arms,
            (int(a[0]), int(a[1])),
            (int(b[0]), int(b[1])),
            255,
            max(1, round(FOREARM_WIDTH * width)),
            cv2.LINE_AA,
            shift=4,
        )
    palms = np.zeros_like(arms)
    if hands:
        for hand in hands:
            hull = cv2.convexHull(np.round(hand.xy - origin).astype(np.int32))
            cv2.fillConvexPoly(palms, hull, 255, cv2.LINE_AA)
        palms = np.asarray(cv2.dilate(palms, np.ones((5, 5), np.uint8)), np.uint8)
    else:
        for i in (0, 1):
            if not body.arms_seen[i]:
                continue
            c = np.round(body.wrists[i] + (body.wrists[i] - body.elbows[i]) * 0.35 - origin).astype(int)
            cv2.circle(
                palms, (int(c[0]), int(c[1])), max(1, round(HAND_RADIUS * width / 2)), 255, -1, cv2.LINE_AA
            )
    return _unit(arms), _unit(palms)


def _unit(mask: NDArray[np.uint8]) -> NDArray[np.float32] | None:
    if not mask.any():
        return None
    return np.asarray(mask, np.float32) * np.float32(1.0 / 255.0)


def _cut(canvas: NDArray[np.float32], mask: NDArray[np.float32] | None) -> None:
    """Take ``mask`` (in front of the garment) out of the premultiplied ``canvas``, in place and
    only inside the mask's bounding box."""
    if mask is None:
        return
    x, y, w, h = cv2.boundingRect((mask > 0).view(np.uint8))
    if w == 0 or h == 0:
        return
    sub = canvas[y : y + h, x : x + w]
    sub *= (1.0 - mask[y : y + h, x : x + w])[..., None]


def shading_field(frame_lin: NDArray[np.float32], width: float) -> NDArray[np.float32]:
    """The frame's luminance blurred at a tenth of the shoulder width (computed at a quarter of
    the resolution: it is smooth by construction)."""
    h, w = frame_lin.shape[:2]
    small = cv2.resize(frame_lin, (max(1, w // 4), max(1, h // 4)), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small @ LUMA, (0, 0), max(0.5, 0.1 * width / 4))
    return np.asarray(cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR), np.float32)


def render_garment(
    frame: NDArray[np.uint8],
    pose: Pose,
    asset: GarmentAsset,
    params: GarmentParams,
    person: NDArray[np.float32] | None = None,
    hands: Sequence[Hand] = (),
    face: Face | None = None,
) -> NDArray[np.uint8]:
    """``frame`` with the garment on the body of ``pose``; ``person`` (the person mask) clips it
    and, with this person's ``face``, finds the hair that falls over it."""
    body = body_of(pose, frame.shape)
    if body.width < 8 or params.intensity <= 0:
        return frame
    h_body = body_homography(asset, body, params.fit)
    scale = float(body_targets(asset, body, params.fit)["scale"][0])
    reach = 0.6 * float(np.linalg.norm(asset.point("left_shoulder") - asset.point("left_armpit")))
    layers: list[tuple[Sprite, NDArray[np.float64]]] = [(asset.body.sprite, asset.body.matrix(h_body))]
    for side, segments in sleeve_segments(asset, body, h_body, scale).items():
        for piece, (g0, g1, b0, b1) in zip(asset.sleeves[side], segments, strict=True):
            layers.append((piece.sprite, piece.matrix(segment_homography(g0, g1, b0, b1, scale, reach))))
    placed = [(s, m, b) for s, m in layers if (b := sprite_box(s, m, frame.shape)) is not None]
    if not placed:
        return frame
    x0, y0 = min(b[0] for _, _, b in placed), min(b[1] for _, _, b in placed)
    x1, y1 = max(b[2] for _, _, b in placed), max(b[3] for _, _, b in placed)
    arms, palms = occluders(body, hands, Box(x0, y0, x1, y1))
    # The garment alone, premultiplied in linear light: the body, the person's forearms cut out
    # of it, the sleeves over both; then what is in front of everything is cut out.
    canvas = np.zeros((y1 - y0, x1 - x0, 4), np.float32)
    for sprite, m, (bx0, by0, bx1, by1) in placed:
        layer = warp_sprite(sprite, m, Box(bx0, by0, bx1, by1))
        sub = canvas[by0 - y0 : by1 - y0, bx0 - x0 : bx1 - x0]
        if sprite is asset.body.sprite:  # first when in view: nothing under it yet
            sub[...] = layer
            _cut(canvas, arms)  # the forearms in front of the body, behind the sleeves
        else:
            sub *= 1.0 - layer[..., 3:4]
            sub += layer
    covered = canvas[..., 3] > 0.5  # where the garment's light is measured (hair and hands aside)
    if not covered.any():
        return frame
    hair_end = min(y1, int(body.shoulders[:, 1].max() + HAIR_REACH * body.width))
    if face is not None and person is not None and hair_end > y0:  # hair over the collar and shoulders
        _cut(canvas[: hair_end - y0], hair_mask(frame, face, person, Box(x0, y0, x1, hair_end)))
    _cut(canvas, palms)
    # Only the pixels the garment touches change: composite inside their bounding box.
    cx, cy, cw, ch = cv2.boundingRect((canvas[..., 3] > 1.0 / 512).view(np.uint8))
    if cw == 0 or ch == 0:  # all of it behind the hands and hair
        return frame
    region = np.s_[cy : cy + ch, cx : cx + cw]
    # How much of the garment shows: inside the silhouette widened by the fit's margin, times the
    # intensity. Applied to the shading gain and the alpha (one channel each), not the canvas.
    keep = np.full((ch, cw), params.intensity, np.float32)
    if person is not None:
        margin = round(SPILL[params.fit] * body.width)
        keep *= _dilated(person[y0:y1, x0:x1].astype(np.float32), margin)[region]
    original = to_linear(np.ascontiguousarray(frame[y0 + cy : y0 + cy + ch, x0 + cx : x0 + cx + cw]))
    light = shading_field(original, body.width)
    ref = float(np.median(light[covered[region]][::7]))  # the light under the garment
    gain = np.clip(light * np.float32(1.0 / max(ref, 1e-4)), 0.35, 1.6)
    gain -= 1.0
    gain *= np.float32(params.shading)
    gain += 1.0
    gain *= keep
    paint = canvas[region]
    left = keep * paint[..., 3]
    np.subtract(1.0, left, out=left)  # what is left of the original
    out = paint[..., :3] * gain[..., None]
    out += original * left[..., None]
    result = frame.copy()
    result[y0 + cy : y0 + cy + ch, x0 + cx : x0 + cx + cw] = to_srgb(out)
    return result


def face_of(pose: Pose, faces: Sequence[Face]) -> Face | None:
    """The face whose nose tip is this pose's nose (within an eye span), if any."""
    best, best_d = None, float("inf")
    for face in faces:
        d = float(np.linalg.norm(face.landmarks[1, :2] - pose.xy[0]))
        if d < face.interocular and d < best_d:
            best, best_d = face, d
    return best


Garment = tuple[GarmentAsset, GarmentParams]


def garment_of(item: LookItem) -> Garment:
    return garment_asset(item.product, item.variant), garment_params(item.product, item.intensity)


@renders("top", "dress", "jacket", per_person=True)
def garment_layer(request: LayerRequest) -> Layer:
    """The look's garment of a kind on every tracked person, or the person's own (``people``, by
    pose track id), in front of the body and behind the person's forearms and hands."""
    default = garment_of(request.items[0]) if request.items else None
    people = {pid: garment_of(item) for pid, item in request.people.items()}

    def clothes(out: Frame, r: FrameResult) -> Frame:
        person = r.segmentation.mask if r.segmentation is not None else None
        for pose in r.poses:
            chosen = people.get(pose.id, default)
            if chosen is not None:
                out = render_garment(out, pose, chosen[0], chosen[1], person, r.hands, face_of(pose, r.faces))
        return out

    return clothes


__all__ = [
    "FIT",
    "SHOULDER_EDGE",
    "SPILL",
    "GarmentAsset",
    "GarmentParams",
    "Piece",
    "apply_h",
    "body_homography",
    "body_of",
    "body_targets",
    "face_of",
    "garment_asset",
    "garment_layer",
    "garment_of",
    "garment_params",
    "load_garment",
    "occluders",
    "render_garment",
    "segment_homography",
    "shading_field",
    "sleeve_segments",
    "split_garment",
]
