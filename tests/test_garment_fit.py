"""Garments on real bodies: faces never covered, forearms (only the arm) in front of a body that
continues behind and below them, the body's sides on the person's silhouette, sleeves as wide as
the arms, and the wearer's neck through the neck opening."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from numpy.typing import NDArray
from test_garments import striped_garment

from tryon.perception import Perception, PerceptionConfig
from tryon.render.garments import (
    SPILL,
    GarmentAsset,
    GarmentParams,
    body_of,
    face_of,
    render_garment,
)
from tryon.render.regions import SILHOUETTE
from tryon.results import Pose
from tryon.testing import Transform, synthetic_pose

Points = dict[int, tuple[float, float]]
BACKGROUND, SHIRT, SKIN, BALL = (90, 90, 90), (40, 160, 60), (205, 160, 130), (250, 140, 20)
INSIDE = (200, 30, 30)
"""The inside of the garment's back, seen through its neck opening."""


def garment(long: bool = True, inside_back: bool = False) -> GarmentAsset:
    """The striped flat lay of the garment tests, its neck anchor at the neckline's top (30), its
    neck opening cut out or filled with the inside of the back (``INSIDE``)."""
    return striped_garment(long, INSIDE if inside_back else None, neck=30.0)


FACE: Points = {
    0: (320.0, 72.0),  # the nose; the wearer's left eye, ear and mouth corner are on the image's right
    1: (328.0, 57.0),
    2: (334.0, 57.0),
    3: (344.0, 57.0),
    4: (312.0, 57.0),
    5: (306.0, 57.0),
    6: (296.0, 57.0),
    7: (353.0, 64.0),
    8: (287.0, 64.0),
    9: (329.0, 92.0),
    10: (311.0, 92.0),
}
BODY: Points = {11: (380.0, 150.0), 12: (260.0, 150.0), 23: (363.0, 330.0), 24: (277.0, 330.0)}
ARMS_DOWN: Points = {13: (405.0, 255.0), 14: (235.0, 255.0), 15: (410.0, 350.0), 16: (230.0, 350.0)}


def pose_of(points: Points, faceless: bool = False) -> Pose:
    pose = synthetic_pose(points)
    if faceless:  # no face keypoints seen: nothing tells where a face is
        pose.landmarks[:11, 3] = 0.0
    return pose


def limb(mask: NDArray[np.uint8], a: tuple[float, float], b: tuple[float, float], width: int) -> None:
    cv2.line(mask, (round(a[0]), round(a[1])), (round(b[0]), round(b[1])), 255, width)


def scene(
    points: Points, torso_half: float = 62.0, arm: int = 30
) -> tuple[NDArray[np.uint8], NDArray[np.float32], NDArray[np.uint8]]:
    """A frame of a person in a green shirt (grey background) with a face and a neck in skin, its
    person mask, and the torso alone (shoulders to hips, ``torso_half`` wide each side below the
    armpits, less the arms)."""
    frame = np.full((480, 640, 3), BACKGROUND, np.uint8)
    torso = np.zeros((480, 640), np.uint8)
    cx = 320
    poly = [
        (cx - 68, 150),
        (cx + 68, 150),
        (cx + torso_half, 205),
        (cx + torso_half, 330),
        (cx - torso_half, 330),
        (cx - torso_half, 205),
    ]
    cv2.fillPoly(torso, [np.array(poly, np.int32)], 255)
    arms = np.zeros_like(torso)
    for s, e, w in ((11, 13, arm), (13, 15, arm - 6), (12, 14, arm), (14, 16, arm - 6)):
        if s in points and e in points:
            limb(arms, points[s], points[e], w)
    head = np.zeros_like(torso)
    cv2.ellipse(head, (320, 70), (36, 48), 0, 0, 360, 255, -1)
    cv2.rectangle(head, (296, 100), (344, 152), 255, -1)  # the neck
    frame[torso > 0] = SHIRT
    frame[arms > 0] = SHIRT
    frame[head > 0] = SKIN
    person = ((torso | arms | head) > 0).astype(np.float32)
    torso[arms > 0] = 0
    return frame, person, torso


def changed(out: NDArray[np.uint8], frame: NDArray[np.uint8], level: int = 2) -> NDArray[np.bool_]:
    result: NDArray[np.bool_] = np.abs(out.astype(int) - frame).max(axis=2) > level
    return result


# -- faces ---------------------------------------------------------------------------------------------


def face_pixels(shape: tuple[int, ...]) -> NDArray[np.bool_]:
    """The synthetic face: an ellipse inside the one its keypoints give."""
    mask = np.zeros(shape[:2], np.uint8)
    cv2.ellipse(mask, (320, 70), (30, 44), 0, 0, 360, 255, -1)
    return mask > 0


RAISED_ARM = {**BODY, **FACE, 13: (405.0, 70.0), 15: (285.0, 48.0), 14: (235.0, 255.0), 16: (230.0, 350.0)}
"""The left arm raised over the head: its long sleeve runs across the face."""
LEANING = {
    **FACE,
    11: (350.0, 84.0),  # the torso leaning hard to the image's right, the left shoulder at the cheek
    12: (250.0, 144.0),
    23: (405.0, 280.0),
    24: (325.0, 325.0),
    13: (405.0, 165.0),
    14: (235.0, 245.0),
    15: (415.0, 255.0),
    16: (245.0, 335.0),
}


@pytest.mark.parametrize("points", [RAISED_ARM, LEANING], ids=["raised-arm", "leaning"])
def test_a_warp_across_the_face_leaves_the_face(points: Points) -> None:
    frame, person, _ = scene(points)
    face = face_pixels(frame.shape)
    asset = garment(long=True)
    blind = render_garment(frame, pose_of(points, faceless=True), asset, GarmentParams(), person)
    assert changed(blind, frame)[face].mean() > 0.08  # without a face to keep, the garment lands on it
    out = render_garment(frame, pose_of(points), asset, GarmentParams(), person)
    assert changed(out, frame)[face].mean() <= 0.01
    assert changed(out, frame).sum() > 5000  # and the garment is still on


@pytest.fixture(scope="module")
def perception() -> Perception:
    return Perception(
        PerceptionConfig(static_image_mode=True, face_detector="full", poses=True, segmentation=True)
    )


def shifted(pose: Pose, dy: float) -> Pose:
    """The pose with everything but the face keypoints ``dy`` pixels lower (negative: higher)."""
    lm = pose.landmarks.copy()
    lm[11:, 1] += dy
    return Pose(pose.id, pose.score, lm, pose.presence, pose.world, pose.roi)


@pytest.mark.parametrize(
    "t", [Transform(), Transform(angle=20), Transform(scale=0.75), Transform(dx=-40, dy=20)]
)
def test_on_the_astronaut_her_face_is_never_covered(
    perception: Perception, astronaut: NDArray[np.uint8], t: Transform
) -> None:
    """The pose as found, and the shoulders and everything below misplaced up to the mouth (a pose
    stage misled by a collar): at most 1% of her face (the mesh's oval) changes."""
    image = t.apply(astronaut)
    result = perception.process(image)
    assert result.segmentation is not None
    pose = result.poses[0]
    face = face_of(pose, result.faces)
    assert face is not None
    oval = np.zeros(image.shape[:2], np.uint8)
    cv2.fillPoly(oval, [np.round(face.landmarks[list(SILHOUETTE), :2]).astype(np.int32)], 255)
    pixels = oval > 0
    mask = result.segmentation.mask
    asset = garment(long=True)
    mouth = float(face.landmarks[13, 1])
    raised = shifted(pose, mouth - float(pose.xy[[11, 12], 1].mean()))
    blind = shifted(pose, mouth - float(pose.xy[[11, 12], 1].mean()))
    blind.landmarks[:11, 3] = 0.0
    assert changed(render_garment(image, blind, asset, GarmentParams(), mask), image)[pixels].mean() > 0.15
    for p in (pose, raised):
        out = render_garment(image, p, asset, GarmentParams(), mask, face=face)
        assert changed(out, image)[pixels].mean() <= 0.01
        out = render_garment(image, p, asset, GarmentParams(), mask)  # no mesh: the pose's face keypoints
        assert changed(out, image)[pixels].mean() <= 0.01


def test_hair_over_the_collar_stays_in_front_without_a_face_mesh(
    perception: Perception, astronaut: NDArray[np.uint8]
) -> None:
    """A lock of her hair painted down over the shoulder is kept in front of the garment when only
    the pose's face keypoints tell where her head is."""
    base = perception.process(astronaut)
    face = base.faces[0]
    image = astronaut.copy()
    lock = np.zeros(image.shape[:2], np.uint8)
    x = int(face.landmarks[454, 0]) + 4
    top, bottom = int(face.landmarks[10, 1]) + 10, int(base.poses[0].xy[11, 1]) + 60
    cv2.rectangle(lock, (x - 12, top), (x + 12, bottom), 255, -1)
    hair = astronaut[int(face.landmarks[10, 1]) - 15, int(face.landmarks[10, 0])].astype(float)
    strands = hair + np.random.default_rng(1).normal(0, 6, (*image.shape[:2], 1))
    image[lock > 0] = np.clip(strands, 0, 255).astype(np.uint8)[lock > 0]
    result = perception.process(image)
    assert result.segmentation is not None
    mask = np.maximum(result.segmentation.mask, (lock > 0).astype(np.float32))
    out = render_garment(image, result.poses[0], garment(), GarmentParams(), mask)
    shoulder_y = int(result.poses[0].xy[11, 1])
    inner = (cv2.erode(lock, np.ones((7, 7), np.uint8)) > 0) & (np.arange(512) >= shoulder_y)[:, None]
    assert inner.sum() > 300
    assert np.abs(out[inner].astype(int) - image[inner]).mean() < 1.0


# -- occluders ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("hips_y", [330.0, 215.0], ids=["hips-seen", "hips-misplaced-above-the-arm"])
def test_a_ball_held_before_the_chest(hips_y: float) -> None:
    """A bare forearm across the belly, a ball resting on it before the chest: the arm keeps its
    pixels; the garment's body covers the torso above, beside and below the arm, and the ball
    (what the hands hold is not told from the clothes: it is covered, as the docstring of
    :mod:`tryon.render.garment_occluders` says)."""
    points = {**BODY, **FACE, 13: (410.0, 262.0), 15: (300.0, 250.0), 14: (235.0, 255.0), 16: (230.0, 350.0)}
    points[23], points[24] = (363.0, hips_y), (277.0, hips_y)
    frame, person, torso = scene(points, torso_half=70)
    arm = np.zeros_like(torso)
    limb(arm, points[13], points[15], 24)
    ball = np.zeros_like(torso)
    cv2.circle(ball, (330, 218), 26, 255, -1)
    ball[arm > 0] = 0
    hand = np.zeros_like(torso)  # where the renderer takes the hand to be: beyond the wrist
    cv2.circle(hand, (262, 246), 12, 255, -1)
    frame[(arm | hand) > 0] = SKIN
    frame[ball > 0] = BALL
    person = np.maximum(person, ((arm | ball | hand) > 0).astype(np.float32))
    out = render_garment(frame, pose_of(points), garment(long=False), GarmentParams(), person)
    moved = changed(out, frame, 20)
    yy, xx = np.mgrid[0:480, 0:640]
    core = (cv2.erode(arm, np.ones((5, 5), np.uint8)) > 0) & ((xx - 410) ** 2 + (yy - 262) ** 2 > 40**2)
    assert core.sum() > 1000
    assert np.array_equal(out[core], frame[core])  # the arm in front
    palm = cv2.erode(hand, np.ones((5, 5), np.uint8)) > 0
    assert np.array_equal(out[palm], frame[palm])  # and the hand
    held = cv2.dilate(hand, np.ones((9, 9), np.uint8)) > 0
    inside = (torso > 0) & (arm == 0) & (ball == 0) & ~held
    above = inside & (yy > 170) & (yy < 190)
    below = inside & (yy > 280) & (yy < 320)
    beside = inside & (yy > 235) & (yy < 270) & (xx < 280)
    for region in (above, below, beside):
        assert region.sum() > 300
        assert moved[region].mean() > 0.95
    assert moved[ball > 0].mean() > 0.9  # the ball: covered
    # Only the arm itself: the garment reaches 3-5 pixels from the arm's edges.
    ring = (cv2.dilate(arm, np.ones((11, 11), np.uint8)) > 0) & ~(
        cv2.dilate(arm, np.ones((7, 7), np.uint8)) > 0
    )
    ring &= inside & (xx > 320) & (xx < 390)
    assert ring.sum() > 200
    assert moved[ring].mean() > 0.95


# -- the silhouette ---------------------------------------------------------------------------------------


def arms_beside(torso_half: float, gap: float, arm: int = 30) -> Points:
    """Arms hanging beside a torso ``torso_half`` wide each side, ``gap`` pixels off it."""
    x = torso_half + gap + arm / 2
    return {
        **BODY,
        **FACE,
        13: (320 + x, 255.0),
        14: (320 - x, 255.0),
        15: (320 + x + 4, 345.0),
        16: (320 - x - 4, 345.0),
    }


@pytest.mark.parametrize("fit", ["slim", "loose"])
@pytest.mark.parametrize(
    ("torso_half", "gap"),
    [(48.0, 10.0), (95.0, 0.0), (95.0, 10.0)],
    ids=["narrow", "wide-arms-touching", "wide"],
)
def test_the_body_follows_the_silhouette(fit: str, torso_half: float, gap: float) -> None:
    """A torso narrower (0.4 shoulder widths each side) or wider (0.8) than the garment's
    homography puts it (0.59-0.67): the garment covers at least 95% of the torso between the
    shoulders and the hips (the arms aside), and nothing past the person by more than the fit's
    margin."""
    points = arms_beside(torso_half, gap)
    frame, person, torso = scene(points, torso_half)
    arms = (person > 0) & ~(torso > 0)
    arms[:150] = False  # the head and neck
    band = (torso > 0) & ~cv2.dilate(arms.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    pose = pose_of(points)
    out = render_garment(frame, pose, garment(), GarmentParams(fit=fit), person)
    moved = changed(out, frame)
    assert moved[band].mean() >= 0.95, moved[band].mean()
    r = round(SPILL[fit] * body_of(pose, frame.shape).width)
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 3, 2 * r + 3))
    allowed = cv2.dilate((person > 0).astype(np.uint8), k) > 0
    assert not (moved & ~allowed).any()
    if torso_half > 62:  # the homography alone leaves the sides of the wide one uncovered
        bare = render_garment(frame, pose, garment(), GarmentParams(fit=fit))
        assert changed(bare, frame)[band].mean() < 0.9


def test_a_loose_fit_stands_off_the_silhouette_and_a_slim_one_hugs_it() -> None:
    points = arms_beside(60.0, 25.0)
    frame, person, _ = scene(points, 60.0)
    pose = pose_of(points)
    reach = {}
    for fit in ("slim", "loose"):
        moved = changed(render_garment(frame, pose, garment(), GarmentParams(fit=fit), person), frame)
        row = moved[280, 320:400]  # the wearer's left side at the waist, out to the gap before the arm
        reach[fit] = int(np.flatnonzero(~row)[0])  # the first pixel the garment leaves alone
    width = body_of(pose, frame.shape).width
    assert 60 <= reach["slim"] <= 60 + SPILL["slim"] * width + 2
    assert reach["loose"] >= reach["slim"] + 0.04 * width
    assert reach["loose"] <= 60 + SPILL["loose"] * width + 2


@pytest.mark.parametrize("arm", [24, 40])
def test_sleeves_are_as_wide_as_the_arm(arm: int) -> None:
    """Long sleeves on arms held out from the body, 24 or 40 pixels wide: each sleeve covers its
    arm across and is no more than the fit's ease wider."""
    points = {**BODY, **FACE, 13: (460.0, 200.0), 14: (180.0, 200.0), 15: (540.0, 240.0), 16: (100.0, 240.0)}
    frame, person, _ = scene(points, 60.0, arm=arm)
    pose = pose_of(points)
    moved = changed(render_garment(frame, pose, garment(), GarmentParams(fit="slim"), person), frame, 20)
    width = body_of(pose, frame.shape).width
    for elbow, shoulder in ((points[13], points[11]), (points[14], points[12])):
        mid = (np.array(elbow) + np.array(shoulder)) / 2
        d = np.array(elbow) - np.array(shoulder)
        n = np.array([-d[1], d[0]]) / np.linalg.norm(d)
        t = np.arange(-60, 61)
        xy = np.round(mid + np.outer(t, n)).astype(int)
        across = moved[xy[:, 1], xy[:, 0]]
        assert across[60 - arm // 2 + 2 : 60 + arm // 2 - 1].all()  # the whole arm
        assert arm - 2 <= across.sum() <= arm + 2 * SPILL["slim"] * width + 3


# -- the neck ---------------------------------------------------------------------------------------------


def test_the_neck_shows_through_the_neck_opening() -> None:
    """The inside of the garment's back, seen through its neck opening on the flat lay, is hidden
    where the wearer's neck is and shows beside it."""
    points = {**BODY, **FACE, **ARMS_DOWN}
    frame, person, _ = scene(points)
    asset = garment(inside_back=True)
    inside = np.all(np.abs(asset.body.sprite.rgba[..., :3].astype(int) - INSIDE) < 8, axis=2)
    assert inside.sum() > 1000

    def red(out: NDArray[np.uint8]) -> NDArray[np.bool_]:
        result: NDArray[np.bool_] = (out[..., 0].astype(int) - out[..., 1] > 60) & changed(out, frame)
        return result

    neck = np.zeros(frame.shape[:2], bool)
    neck[110:150, 302:339] = True  # the neck's middle, from below the chin to the shoulders' line
    blind = render_garment(frame, pose_of(points, faceless=True), asset, GarmentParams(), person)
    assert red(blind)[neck].sum() > 100  # on a flat lay's terms, the inside of the back is there
    out = render_garment(frame, pose_of(points), asset, GarmentParams(), person)
    assert not red(out)[neck].any()
    assert np.array_equal(out[neck], frame[neck])  # the neck itself
    beside = red(out)[130:155]
    xs = np.flatnonzero(beside.any(axis=0))
    assert (xs < 296).any()
    assert (xs > 344).any()  # the back of the collar on either side of the neck
    assert changed(out, frame)[160:300, 280:360].mean() > 0.95  # the front below the neckline
