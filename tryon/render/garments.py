"""Garments (tops, dresses, jackets) on a body from its pose landmarks and its silhouette, in the
person's light, behind the face, the hair, the neck, the forearms and the hands.

The asset is a flat lay with keypoints and a part image (body, left sleeve, right sleeve; see
:mod:`tryon.catalog.schema`). Where each part goes is :mod:`tryon.render.garment_geometry`: the
body by a homography from the shoulders and hips, the sleeves piecewise along the arms. With a
person mask the body is then fitted to the silhouette (its sides follow the torso's outline
between the armpits and the hips, the fit's ease past it) and each sleeve's width to the arm's
(:mod:`tryon.render.garment_fit`); a sleeve whose arm is mostly off the person mask (a guessed
arm, not there) is not drawn.

Layers, back to front: the garment's body, drawn whole (it continues behind and below whatever
crosses it); the wearer's neck through the neck opening and the forearms where they cross the
body and no sleeve is drawn over them, restored from the frame; the sleeves; the hands, the face
and the hair over the collar, restored from the frame over everything
(:mod:`tryon.render.garment_occluders`). Everything is
clipped to the person mask widened by the fit's margin (:data:`SPILL`), and every pixel of the
garment is multiplied by the person's low-frequency shading (the luminance of the frame blurred
at a tenth of the shoulder width, relative to its median under the garment), so folds and the
direction of the light carry over.

Stateless: ``render_garment(frame, pose, asset, params, person=None, hands=(), face=None) -> frame``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np
from numpy.typing import NDArray

from tryon.frame import Frame
from tryon.look import LookItem
from tryon.render.color import LUMA, to_linear, to_srgb
from tryon.render.garment_arms import Arms, measure_arms, sleeved_limbs
from tryon.render.garment_assets import (
    FIT,
    SPILL,
    GarmentAsset,
    GarmentParams,
    Piece,
    garment_asset,
    garment_params,
    load_garment,
    split_garment,
)
from tryon.render.garment_fit import EASE, FittedBody, fit_body, shoulder_half, split_planes
from tryon.render.garment_geometry import (
    SHOULDER_EDGE,
    Body,
    apply_h,
    body_homography,
    body_of,
    body_targets,
    hip_row,
    segment_homography,
    sleeve_segments,
)
from tryon.render.garment_occluders import (
    HeadShape,
    Patch,
    believed_hair,
    fill,
    hands_mask,
    head_shape,
    neck_opening,
    with_face_box,
)
from tryon.render.garment_warp import fitted_box, warp_fitted
from tryon.render.hair import hair_mask
from tryon.render.masks import Box
from tryon.render.registry import Layer, LayerRequest, person_mask, renders
from tryon.render.sprite import sprite_box, warp_sprite
from tryon.results import Face, FrameResult, Hand, Pose

F64 = NDArray[np.float64]
Mask = NDArray[np.float32]

HAIR_REACH = 1.0
"""How far below the shoulders, and to either side of the head, hair is looked for, in shoulder
widths (long hair over the shoulders, not to the waist)."""
SLEEVE_ON_PERSON = 0.4
"""The least share of a sleeve piece's axis on the person mask for it to be drawn."""
SILHOUETTE_SHARE = 1.0
"""The garment's shoulders reach this share of the silhouette's shoulders where those are wider
than the pose's (a coat; a pose too narrow): the silhouette's edge there is the deltoids', a
little outside the seams."""
WIDEST = 2.0
"""The silhouette's shoulders believed at most this many times the pose's (their outer edges)."""
SLEEVE_SCALE = (0.4, 2.0)
"""The most a sleeve is narrowed or widened (over the body's scale) to the arm's width."""


# -- where everything goes -------------------------------------------------------------------------------


def _on_person(person: Mask, b0: F64, b1: F64) -> bool:
    """Whether the segment ``b0→b1`` lies on the person mask (samples out of the frame count)."""
    h, w = person.shape
    xy = np.round(b0 + np.outer(np.linspace(0.1, 0.9, 9), b1 - b0)).astype(int)
    framed = (xy[:, 0] >= 0) & (xy[:, 0] < w) & (xy[:, 1] >= 0) & (xy[:, 1] < h)
    on = np.ones(len(xy), bool)
    on[framed] = person[xy[framed, 1], xy[framed, 0]] > 0.5
    return float(on.mean()) >= SLEEVE_ON_PERSON


Draw = Callable[[Box], NDArray[np.float32]]


@dataclass
class Placement:
    body: Body
    h_body: F64
    fit: FittedBody | None
    arms: Arms
    layers: list[tuple[Box, Draw]]
    """Back to front, each with its frame box; the body's first when it is in view."""
    body_in_view: bool
    fronts: list[F64] = field(default_factory=list)
    """The forearms in front of the body where no sleeve is drawn over them (a long sleeve drawn
    along the forearm is it, in front; the band cut wider than the sleeve would show the
    original clothes beside it)."""


def place_garment(
    frame: NDArray[np.uint8],
    pose: Pose,
    body: Body,
    asset: GarmentAsset,
    params: GarmentParams,
    person: Mask | None,
    others: Sequence[F64] = (),
) -> Placement:
    """Where each piece goes: the body (fitted to ``person`` when given, up to the midpoints to
    the ``others``' shoulder centres) and the sleeves. The garment's shoulders reach the
    silhouette's where those are wider than the pose's."""
    h_body = body_homography(asset, body, params.fit)
    scale = float(body_targets(asset, body, params.fit)["scale"][0])
    arms = measure_arms(pose, body, person, frame.shape)
    planes = split_planes(body.shoulders.mean(0), others)
    base = 1.0
    if person is not None:
        own = SHOULDER_EDGE * body.width / 2
        edge = shoulder_half(person, body.shoulders, WIDEST * own, planes, arms.capsules)
        base = max(1.0, SILHOUETTE_SHARE * (edge or 0.0) / own)
    fit = None
    if person is not None:
        walked, covered = sleeved_limbs(arms.capsules, body, asset)
        fit = fit_body(
            asset,
            h_body,
            scale,
            hip_row(asset, body, scale),
            body.width,
            params.fit,
            person,
            walked,
            planes,
            base,
            covered,
        )
    layers: list[tuple[Box, Draw]] = []
    if fit is not None:
        fitted = fit
        box = fitted_box(asset.body, h_body, fitted, frame.shape)
        if box is not None:
            layers.append((box, lambda b: warp_fitted(asset.body, h_body, fitted, b)))
    else:
        matrix = asset.body.matrix(h_body)
        box = sprite_box(asset.body.sprite, matrix, frame.shape)
        if box is not None:
            layers.append((box, lambda b: warp_sprite(asset.body.sprite, matrix, b)))
    in_view = bool(layers)
    reach = 0.6 * float(np.linalg.norm(asset.point("left_shoulder") - asset.point("left_armpit")))
    ease = 2 * EASE * SPILL[params.fit] * body.width
    sleeved: set[int] = set()  # the sides whose forearm a sleeve is drawn over
    for side, segments in sleeve_segments(asset, body, h_body, scale, fit).items():
        for i, (piece, (g0, g1, b0, b1)) in enumerate(zip(asset.sleeves[side], segments, strict=True)):
            if person is not None and not _on_person(person, b0, b1):
                break  # the arm is not there: neither is the rest of the sleeve
            across = scale
            arm, own = arms.widths.get((side, i if asset.long_sleeves else 0)), asset.sleeve_width(side, i)
            if arm is not None and own > 0:
                across = float(np.clip((arm + ease) / own, SLEEVE_SCALE[0] * scale, SLEEVE_SCALE[1] * scale))
            m = piece.matrix(segment_homography(g0, g1, b0, b1, across, reach))
            box = sprite_box(piece.sprite, m, frame.shape)
            if box is not None:
                layers.append((box, _sprite_draw(piece, m)))
                if asset.long_sleeves and i == 1:
                    sleeved.add(side)
    fronts = [b for side, b in arms.bands.items() if side not in sleeved]
    return Placement(body, h_body, fit, arms, layers, in_view, fronts)


def _sprite_draw(piece: Piece, m: F64) -> Draw:
    return lambda b: warp_sprite(piece.sprite, m, b)


# -- drawing -------------------------------------------------------------------------------------------


def _dilated(mask: Mask, radius: int) -> Mask:
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


def _cut(canvas: NDArray[np.float32], box: Box, patch: Patch | None) -> None:
    """Take ``patch`` (in front of the garment) out of the premultiplied ``canvas`` over ``box``,
    in place and only inside the patch's mask's bounding box."""
    if patch is None:
        return
    (px0, py0, _, _), mask = patch
    x, y, w, h = cv2.boundingRect((mask > 0).view(np.uint8))
    if w == 0 or h == 0:
        return
    x0, y0 = px0 - box.x0 + x, py0 - box.y0 + y
    sub = canvas[y0 : y0 + h, x0 : x0 + w]
    sub *= (1.0 - mask[y : y + h, x : x + w])[..., None]


def shading_field(frame_lin: NDArray[np.float32], width: float) -> NDArray[np.float32]:
    """The frame's luminance blurred at a tenth of the shoulder width (computed at a quarter of
    the resolution: it is smooth by construction)."""
    h, w = frame_lin.shape[:2]
    small = cv2.resize(frame_lin, (max(1, w // 4), max(1, h // 4)), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small @ LUMA, (0, 0), max(0.5, 0.1 * width / 4))
    return np.asarray(cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR), np.float32)


def draw_garment(
    frame: NDArray[np.uint8],
    place: Placement,
    asset: GarmentAsset,
    shape: HeadShape | None,
    person: Mask | None,
    hands: Sequence[Hand],
) -> tuple[NDArray[np.float32], Box, NDArray[np.bool_]] | None:
    """The garment alone over its box, premultiplied in linear light, with what is in front of
    it cut out; and where it covers the body before the hair and hands are cut (where its light
    is measured). ``None`` when nothing of it is in the frame."""
    boxes = [b for b, _ in place.layers]
    if not boxes:
        return None
    box = Box(
        min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes)
    )
    x0, y0, x1, y1 = box
    canvas = np.zeros((y1 - y0, x1 - x0, 4), np.float32)
    body = place.body
    for i, ((bx0, by0, bx1, by1), draw) in enumerate(place.layers):
        layer = draw(Box(bx0, by0, bx1, by1))
        sub = canvas[by0 - y0 : by1 - y0, bx0 - x0 : bx1 - x0]
        if i == 0 and place.body_in_view:  # the body first: nothing under it yet
            sub[...] = layer
            if shape is not None:  # the neck through the opening, in front of the body only
                neckline = asset.front_neck()[None]
                at = apply_h(place.h_body, neckline if place.fit is None else place.fit.forward(neckline))[0]
                neck = neck_opening(shape, body.shoulders, at, person)
                _cut(canvas, box, fill(box, [neck]) if neck is not None else None)
            _cut(canvas, box, fill(box, place.fronts))  # behind the sleeves
        else:
            sub *= 1.0 - layer[..., 3:4]
            sub += layer
    covered = canvas[..., 3] > 0.5
    if not covered.any():
        return None
    _cut(canvas, box, hands_mask(hands, place.arms.hands, place.arms.discs, box))
    if shape is not None:
        _cut(canvas, box, fill(box, [shape.outline]))  # the face, over everything
        # Hair over the collar and shoulders: within a shoulder width of the head, down to
        # HAIR_REACH below the shoulders.
        hair_end = min(y1, int(body.shoulders[:, 1].max() + HAIR_REACH * body.width))
        hx0 = max(x0, int(shape.head.top[0] - HAIR_REACH * body.width))
        hx1 = min(x1, int(shape.head.top[0] + HAIR_REACH * body.width) + 1)
        if person is not None and hair_end > y0 and hx1 > hx0:
            where = Box(hx0, y0, hx1, hair_end)
            hair = hair_mask(frame, shape.head, person, where)
            hair = believed_hair(hair, where, box, covered, float(body.shoulders[:, 1].max()))
            _cut(canvas, box, None if hair is None else (where, hair))
    return canvas, box, covered


def render_garment(
    frame: NDArray[np.uint8],
    pose: Pose,
    asset: GarmentAsset,
    params: GarmentParams,
    person: Mask | None = None,
    hands: Sequence[Hand] = (),
    face: Face | None = None,
    face_boxes: Sequence[tuple[float, float, float, float]] = (),
    others: Sequence[Pose] = (),
) -> NDArray[np.uint8]:
    """``frame`` with the garment on the body of ``pose``; ``person`` (the person mask) fits and
    clips it, and with it the face (``face``, this person's face mesh, or the pose's face
    keypoints) and the hair falling from the head stay in front; the fit stops short of the
    ``others`` (the other people's poses)."""
    body = body_of(pose, frame.shape)
    if body.width < 8 or params.intensity <= 0:
        return frame
    centres = [body_of(o, frame.shape).shoulders.mean(0) for o in others]
    place = place_garment(frame, pose, body, asset, params, person, centres)
    shape = head_shape(frame, pose, face, body.shoulders)
    if face is None and face_boxes:
        shape = with_face_box(shape, pose.xy[0].astype(np.float64), face_boxes)
    drawn = draw_garment(frame, place, asset, shape, person, hands)
    if drawn is None:
        return frame
    canvas, (x0, y0, x1, y1), covered = drawn
    # Only the pixels the garment touches change: composite inside their bounding box.
    cx, cy, cw, ch = cv2.boundingRect((canvas[..., 3] > 1.0 / 512).view(np.uint8))
    if cw == 0 or ch == 0:  # all of it behind the hands, face and hair
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
    under = covered[region]
    ref = float(np.median(light[under][::7])) if under.any() else 1.0  # the light under the garment
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
        person = person_mask(r)
        for pose in r.poses:
            chosen = people.get(pose.id, default)
            if chosen is not None:
                others = [o for o in r.poses if o is not pose]
                out = render_garment(
                    out,
                    pose,
                    chosen[0],
                    chosen[1],
                    person,
                    r.hands,
                    face_of(pose, r.faces),
                    r.face_boxes,
                    others,
                )
        return out

    return clothes


__all__ = [
    "FIT",
    "SHOULDER_EDGE",
    "SPILL",
    "Arms",
    "GarmentAsset",
    "GarmentParams",
    "Piece",
    "Placement",
    "apply_h",
    "body_homography",
    "body_of",
    "body_targets",
    "draw_garment",
    "face_of",
    "garment_asset",
    "garment_layer",
    "garment_of",
    "garment_params",
    "load_garment",
    "measure_arms",
    "place_garment",
    "render_garment",
    "segment_homography",
    "shading_field",
    "sleeve_segments",
    "split_garment",
]
