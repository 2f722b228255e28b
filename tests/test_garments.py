"""Garments on bodies: keypoints onto the body's, sleeves that bend at the elbow, forearms in
front, nothing outside the person, the person's light, and one garment per person."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from numpy.typing import NDArray

from tryon.perception import Perception, PerceptionConfig
from tryon.render.garments import (
    SHOULDER_EDGE,
    SPILL,
    GarmentAsset,
    GarmentParams,
    apply_h,
    body_homography,
    body_of,
    body_targets,
    render_garment,
    segment_homography,
    sleeve_segments,
    split_garment,
)
from tryon.testing import Transform, synthetic_pose

Anchors = dict[str, tuple[float, float]]


def striped_garment(
    long: bool = True, inside: tuple[int, int, int] | None = None, neck: float = 40.0
) -> GarmentAsset:
    """A striped flat lay at 1 px/mm (sleeves hanging 22° out), its parts and anchors; its neck
    opening cut out, or (``inside``: that colour) filled with the inside of the back, a band above
    the front neckline wider than a neck. ``neck``: the neck anchor's height."""
    w, h = 1000, 760
    parts = np.zeros((h, w), np.uint8)
    cx = w / 2
    a: dict[str, NDArray[np.float64]] = {
        "neck": np.array([cx, neck]),
        "left_shoulder": np.array([cx + 220, 60.0]),
        "right_shoulder": np.array([cx - 220, 60.0]),
        "left_armpit": np.array([cx + 200, 250.0]),
        "right_armpit": np.array([cx - 200, 250.0]),
        "left_hem": np.array([cx + 210, 680.0]),
        "right_hem": np.array([cx - 210, 680.0]),
    }
    body = np.array(
        [
            a["right_shoulder"],
            *([(cx - 110, 30), (cx + 110, 30)] if inside else [(cx - 85, 40), (cx, 90), (cx + 85, 40)]),
            a["left_shoulder"],
            a["left_armpit"],
            a["left_hem"],
            a["right_hem"],
            a["right_armpit"],
        ]
    )
    cv2.fillPoly(parts, [np.round(body).astype(np.int32)], 1)
    for side, label, pre in ((1, 2, "left"), (-1, 3, "right")):
        root = (a[f"{pre}_shoulder"] + a[f"{pre}_armpit"]) / 2
        d = np.array([side * math.sin(math.radians(22)), math.cos(math.radians(22))])
        n = np.array([-d[1], d[0]])
        if long:
            a[f"{pre}_elbow"] = root + d * 300
            a[f"{pre}_cuff"] = a[f"{pre}_elbow"] + d * 250
        else:
            a[f"{pre}_cuff"] = root + d * 160
        cuff = a[f"{pre}_cuff"]
        poly = np.array(
            [a[f"{pre}_shoulder"], a[f"{pre}_armpit"], cuff + side * n * 42, cuff - side * n * 42]
        )
        m = np.zeros_like(parts)
        cv2.fillConvexPoly(m, np.round(poly).astype(np.int32), 1)
        parts[(m > 0) & (parts == 0)] = label
    yy = np.mgrid[0:h, 0:w][0]
    rgba = np.zeros((h, w, 4), np.uint8)
    rgba[..., :3] = np.where(((yy // 30) % 2 == 0)[..., None], [40, 90, 170], [235, 235, 230])
    if inside is not None:
        back = np.zeros_like(parts)
        opening = [(cx - 110, 30), (cx + 110, 30), (cx + 90, 48), (cx, 95), (cx - 90, 48)]
        cv2.fillPoly(back, [np.round(np.array(opening)).astype(np.int32)], 1)
        rgba[back > 0, :3] = inside
    rgba[..., 3] = np.where(parts > 0, 255, 0)
    rgba[parts == 0, :3] = 0
    anchors: Anchors = {k: (float(v[0]), float(v[1])) for k, v in a.items()}
    return split_garment(rgba, parts, anchors, float(w))


STANDING = {
    0: (320.0, 60.0),
    11: (380.0, 150.0),  # the wearer's left shoulder (image right)
    12: (260.0, 150.0),
    13: (400.0, 260.0),
    14: (240.0, 260.0),
    15: (405.0, 360.0),
    16: (235.0, 360.0),
    23: (363.0, 330.0),
    24: (277.0, 330.0),
}


def arm_bent(degrees: float) -> dict[int, tuple[float, float]]:
    """The standing body with the left forearm bent ``degrees`` from straight (towards the body)."""
    pts = dict(STANDING)
    ex, ey = pts[13]
    length = 100.0
    a = math.radians(degrees)
    pts[15] = (ex - length * math.sin(a), ey + length * math.cos(a))
    return pts


def test_body_keypoints_go_onto_the_body() -> None:
    asset = striped_garment()
    pose = synthetic_pose(STANDING)
    body = body_of(pose, (480, 640))
    assert body.hips_seen
    h = body_homography(asset, body, "regular")
    t = body_targets(asset, body, "regular")
    g = apply_h(h, np.array([asset.point("left_shoulder"), asset.point("right_shoulder")]))
    assert np.abs(g - np.array([t["left_shoulder"], t["right_shoulder"]])).max() < 2.0
    # The shoulder seams sit just outside the shoulder joints, on the shoulders' line.
    sw = body.width
    assert np.linalg.norm(g[0] - body.shoulders[0]) == pytest.approx(
        (SHOULDER_EDGE * 1.06 - 1) * sw / 2, abs=2.0
    )
    assert abs(g[0, 1] - 150.0) < 2.0
    # The garment's point a torso below the shoulders lands on the hip line.
    torso = float(np.linalg.norm(body.hips.mean(0) - body.shoulders.mean(0)))
    mid = (asset.point("left_shoulder") + asset.point("right_shoulder")) / 2 + [0, torso / t["scale"][0]]
    assert np.linalg.norm(apply_h(h, mid[None])[0] - body.hips.mean(0)) < 2.0
    # The fit widens the garment and not the shoulder line's position.
    loose = apply_h(body_homography(asset, body, "loose"), asset.point("left_shoulder")[None])[0]
    assert loose[0] > g[0, 0] + 3


@pytest.mark.parametrize("degrees", [0.0, 30.0, 60.0, 90.0, 120.0, 150.0])
def test_sleeves_follow_the_elbow_angle(degrees: float) -> None:
    asset = striped_garment()
    pose = synthetic_pose(arm_bent(degrees))
    body = body_of(pose, (480, 640))
    h = body_homography(asset, body, "regular")
    scale = float(body_targets(asset, body, "regular")["scale"][0])
    reach = 50.0
    (upper, lower) = sleeve_segments(asset, body, h, scale)[+1]
    for g0, g1, b0, b1 in (upper, lower):
        m = segment_homography(g0, g1, b0, b1, scale, reach)
        assert np.abs(apply_h(m, np.array([g0, g1])) - np.array([b0, b1])).max() < 2.0
    assert np.linalg.norm(lower[3] - body.wrists[0]) < 1e-6  # the cuff on the wrist
    frame = np.full((480, 640, 3), 90, np.uint8)
    out = render_garment(frame, pose, asset, GarmentParams(shading=0.0))
    changed = np.abs(out.astype(int) - frame).max(axis=2) > 20
    for t in (0.3, 0.5, 0.7):  # the lower sleeve covers the forearm whatever the bend
        x, y = np.round(body.elbows[0] + t * (body.wrists[0] - body.elbows[0])).astype(int)
        assert changed[y, x], (degrees, t)


def test_the_hips_out_of_frame_are_replaced_by_the_body_s_proportions() -> None:
    pts = dict(STANDING)
    pts[23], pts[24] = (363.0, 560.0), (277.0, 560.0)  # below a 480-pixel frame
    body = body_of(synthetic_pose(pts), (480, 640))
    assert not body.hips_seen
    torso = float(np.linalg.norm(body.hips.mean(0) - body.shoulders.mean(0)))
    assert torso == pytest.approx(1.4 * body.width, rel=1e-6)
    assert abs(body.hips.mean(0)[0] - 320.0) < 1e-6


def test_a_forearm_in_front_of_the_torso_stays_in_front() -> None:
    """A bare forearm (short sleeves) crossing the torso keeps its pixels."""
    asset = striped_garment(long=False)
    pts = dict(STANDING)
    pts[13], pts[15] = (400.0, 250.0), (290.0, 235.0)  # the left forearm across the belly
    pose = synthetic_pose(pts)
    frame = np.full((480, 640, 3), 90, np.uint8)
    arm = np.zeros((480, 640), np.uint8)
    cv2.line(arm, (400, 250), (290, 235), 255, 22)
    frame[arm > 0] = (200, 150, 120)
    person = np.zeros((480, 640), np.float32)
    cv2.ellipse(person, (320, 260), (130, 230), 0, 0, 360, 1.0, -1)
    person[arm > 0] = 1.0
    out = render_garment(frame, pose, asset, GarmentParams(), person)
    yy, xx = np.mgrid[0:480, 0:640]
    # The forearm's pixels away from the elbow (where the short sleeve ends over the arm).
    core = (cv2.erode(arm, np.ones((5, 5), np.uint8)) > 0) & ((xx - 400) ** 2 + (yy - 250) ** 2 > 35**2)
    assert core.sum() > 1000
    assert np.array_equal(out[core], frame[core])
    torso = np.zeros_like(arm)
    cv2.rectangle(torso, (290, 270), (350, 320), 255, -1)
    assert (np.abs(out.astype(int) - frame).max(axis=2)[torso > 0] > 20).mean() > 0.9  # the tee is there


def test_nothing_is_drawn_outside_the_person_beyond_the_fit() -> None:
    asset = striped_garment()
    pose = synthetic_pose(STANDING)
    frame = np.full((480, 640, 3), 90, np.uint8)
    person = np.zeros((480, 640), np.float32)
    cv2.ellipse(person, (320, 250), (70, 200), 0, 0, 360, 1.0, -1)  # narrower than the garment
    for fit in ("slim", "loose"):
        out = render_garment(frame, pose, asset, GarmentParams(fit=fit), person)
        changed = np.abs(out.astype(int) - frame).max(axis=2) > 2
        r = round(SPILL[fit] * body_of(pose, frame.shape).width)
        k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 3, 2 * r + 3))
        allowed = cv2.dilate((person > 0).astype(np.uint8), k) > 0
        assert changed.sum() > 1000
        assert not (changed & ~allowed).any(), fit


def test_the_garment_takes_the_person_s_light() -> None:
    asset = striped_garment()
    pose = synthetic_pose(STANDING)
    ramp = np.linspace(40, 220, 640)[None, :, None]  # light from the image's right
    frame = np.broadcast_to(ramp, (480, 640, 3)).astype(np.uint8).copy()
    flat = render_garment(frame, pose, asset, GarmentParams(shading=0.0))
    lit = render_garment(frame, pose, asset, GarmentParams())
    left, right = np.s_[200:300, 275:300], np.s_[200:300, 340:365]
    ratio_flat = flat[right].astype(float).mean() / flat[left].astype(float).mean()
    ratio_lit = lit[right].astype(float).mean() / lit[left].astype(float).mean()
    ratio_frame = frame[right].astype(float).mean() / frame[left].astype(float).mean()
    assert ratio_flat == pytest.approx(1.0, abs=0.05)
    # Brighter where the person is lit, by about as much as the frame is (in sRGB: 1.16 here).
    assert 1.08 < ratio_lit < 1.1 * ratio_frame


@pytest.fixture(scope="module")
def perception() -> Perception:
    return Perception(
        PerceptionConfig(static_image_mode=True, faces=False, poses=True, max_poses=2, segmentation=True)
    )


@pytest.mark.parametrize(
    "t", [Transform(), Transform(angle=20), Transform(scale=0.75), Transform(dx=-40, dy=20)]
)
def test_on_the_astronaut_the_garment_stays_on_her_shoulders_and_inside_her(
    perception: Perception, astronaut: NDArray[np.uint8], t: Transform
) -> None:
    image = t.apply(astronaut)
    result = perception.process(image)
    assert result.poses
    assert result.segmentation is not None
    pose = result.poses[0]
    asset = striped_garment()
    body = body_of(pose, image.shape)
    h = body_homography(asset, body, "regular")
    seams = apply_h(h, np.array([asset.point("left_shoulder"), asset.point("right_shoulder")]))
    # On the shoulders' line, just outside each shoulder joint: within 3% of the shoulder width.
    expected = body_targets(asset, body, "regular")
    for seam, key in zip(seams, ("left_shoulder", "right_shoulder"), strict=True):
        assert np.linalg.norm(seam - expected[key]) < 0.03 * body.width
    along = (body.shoulders[0] - body.shoulders[1]) / body.width
    normal = np.array([-along[1], along[0]])
    assert np.abs((seams - body.shoulders) @ normal).max() < 0.03 * body.width
    out = render_garment(image, pose, asset, GarmentParams(), result.segmentation.mask)
    changed = np.abs(out.astype(int) - image).max(axis=2) > 2
    r = round(SPILL["regular"] * body.width)
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 3, 2 * r + 3))
    allowed = cv2.dilate((result.segmentation.mask > 0).astype(np.uint8), k) > 0
    assert changed.sum() > 0.02 * changed.size
    assert not (changed & ~allowed).any()


def test_two_people_each_get_their_own(perception: Perception, astronaut: NDArray[np.uint8]) -> None:
    small = cv2.resize(astronaut, (256, 256), interpolation=cv2.INTER_AREA)
    frame = np.full((360, 552, 3), 200, np.uint8)  # two portraits side by side, 40 px apart
    frame[104:, :256] = small
    frame[104:, 296:] = small
    result = perception.process(frame)
    assert len(result.poses) == 2
    asset = striped_garment()
    mids = []
    for pose in result.poses:
        out = render_garment(frame, pose, asset, GarmentParams())
        changed = np.abs(out.astype(int) - frame).max(axis=2) > 20
        _ys, xs = np.nonzero(changed)
        assert len(xs) > 1500
        mids.append(float(np.median(xs)))
        # Each garment on its own person's half of the frame.
        person_x = float(pose.xy[[11, 12], 0].mean())
        side = slice(0, 276) if person_x < 276 else slice(276, 552)
        assert changed[:, side].sum() > 0.95 * changed.sum()
    assert abs(mids[0] - mids[1]) > 200
    assert result.poses[0].id != result.poses[1].id


def test_long_hair_falls_over_the_collar(astronaut: NDArray[np.uint8]) -> None:
    """Brown strands painted from her hair down over the shoulders stay in front of the garment."""
    from tryon.render.garments import face_of

    perception = Perception(
        PerceptionConfig(static_image_mode=True, face_detector="full", poses=True, segmentation=True)
    )
    base = perception.process(astronaut)
    face = base.faces[0]
    image = astronaut.copy()
    rng = np.random.default_rng(1)
    lock = np.zeros(image.shape[:2], np.uint8)
    x = int(face.landmarks[454, 0]) + 4  # beside her left cheek (the image's right), down past the shoulder
    top, bottom = int(face.landmarks[10, 1]) + 10, int(base.poses[0].xy[11, 1]) + 60
    cv2.rectangle(lock, (x - 12, top), (x + 12, bottom), 255, -1)
    hair_rgb = astronaut[int(face.landmarks[10, 1]) - 15, int(face.landmarks[10, 0])].astype(float)
    strands = hair_rgb + rng.normal(0, 6, (*image.shape[:2], 1))
    image[lock > 0] = np.clip(strands, 0, 255).astype(np.uint8)[lock > 0]
    result = perception.process(image)
    assert result.segmentation is not None
    pose = result.poses[0]
    paired = face_of(pose, result.faces)
    assert paired is not None
    mask = np.maximum(result.segmentation.mask, (lock > 0).astype(np.float32))
    asset = striped_garment()
    out = render_garment(image, pose, asset, GarmentParams(), mask, face=paired)
    # The same without hair: the person mask cleared above the forehead, where the hair's colour
    # is sampled (the hair test then finds none).
    headless = mask.copy()
    headless[: int(paired.landmarks[10, 1])] = 0.0
    behind = render_garment(image, pose, asset, GarmentParams(), headless, face=paired)
    shoulder_y = int(pose.xy[11, 1])
    band = np.zeros_like(lock, bool)
    band[shoulder_y - 5 : bottom - 2] = True
    inner = (cv2.erode(lock, np.ones((7, 7), np.uint8)) > 0) & band
    covered = np.abs(behind.astype(int) - image).max(axis=2) > 20
    assert (covered & inner).sum() > 100  # the garment would cover the lock there ...
    kept = np.abs(out[inner].astype(int) - image[inner])
    assert kept.mean() < 1.0  # ... but the hair is in front
    assert np.percentile(kept, 99) <= 12
    elsewhere = covered & ~(cv2.dilate(lock, np.ones((9, 9), np.uint8)) > 0)
    assert np.array_equal(out[elsewhere], behind[elsewhere])  # and only the hair


@pytest.mark.parametrize(
    "spec",
    [
        "holiday-fair-isle-pyjama-top-adult:red",
        "mariner-breton-top:navy",
        "garden-floral-wrap-dress",
        "classic-denim-jacket",
    ],
)
def test_golden_garments(perception: Perception, astronaut: NDArray[np.uint8], spec: str) -> None:
    """Starter garments on the astronaut against reviewed images (TRYON_UPDATE_GOLDEN=1 rewrites)."""
    from goldens import assert_golden

    from tryon.catalog import Catalog
    from tryon.render.garments import garment_asset, garment_params

    product, variant = Catalog.load().resolve(spec)
    result = perception.process(astronaut)
    assert result.segmentation is not None
    out = render_garment(
        astronaut,
        result.poses[0],
        garment_asset(product, variant),
        garment_params(product),
        result.segmentation.mask,
    )
    crop = np.s_[150:512, 20:420]
    assert_golden(out[crop], f"garment_{product.id}.png", astronaut[crop], visible=60)


def test_the_pipeline_dresses_two_people_and_each_keeps_theirs(astronaut: NDArray[np.uint8]) -> None:
    from tryon.pipeline import PipelineConfig, TryOnPipeline

    small = cv2.resize(astronaut, (256, 256), interpolation=cv2.INTER_AREA)
    frame = np.full((360, 552, 3), 200, np.uint8)
    frame[104:, :256] = small
    frame[104:, 296:] = small
    pipeline = TryOnPipeline(["holiday-fair-isle-pyjama-top-adult:green"], config=PipelineConfig(max_faces=2))
    ids = []
    for i in range(6):  # video mode: tracked
        out = pipeline.process(frame, i / 30)
        result = pipeline.last_result
        assert result is not None
        assert pipeline.stats.failures == {}
        ids.append(sorted(p.id for p in result.poses))
    assert len(ids[-1]) == 2
    assert ids[-1] == ids[-2] == ids[-3]  # the same two tracks frame after frame
    changed = np.abs(out.astype(int) - frame).max(axis=2) > 30
    assert changed[:, :256].sum() > 3000
    assert changed[:, 296:].sum() > 3000


def test_a_person_can_wear_their_own_garment(astronaut: NDArray[np.uint8]) -> None:
    """Parent and child: the look's adult pyjama top on one person, the child's top (another
    colourway) on the other, each kept by track id; a non-garment is refused."""
    from tryon.errors import InputError
    from tryon.pipeline import PipelineConfig, TryOnPipeline

    small = cv2.resize(astronaut, (256, 256), interpolation=cv2.INTER_AREA)
    frame = np.full((360, 552, 3), 200, np.uint8)
    frame[104:, :256] = small
    frame[104:, 296:] = small
    pipeline = TryOnPipeline(["holiday-fair-isle-pyjama-top-adult:red"], config=PipelineConfig(max_faces=2))
    pipeline.process(frame, 0.0)
    result = pipeline.last_result
    assert result is not None
    assert len(result.poses) == 2
    right = max(result.poses, key=lambda p: float(p.xy[0, 0]))
    pipeline.dress_person(right.id, "holiday-fair-isle-pyjama-top-child:green")
    with pytest.raises(InputError, match="a person is dressed in a top, dress or jacket"):
        pipeline.dress_person(right.id, "velvet-matte-lipstick")
    for i in range(1, 4):
        out = pipeline.process(frame, i / 30)
    red_minus_green = out[..., 0].astype(int) - out[..., 1].astype(int)
    changed = np.abs(out.astype(int) - frame).max(axis=2) > 30
    left_half, right_half = changed[:, :256], changed[:, 296:]
    assert red_minus_green[:, :256][left_half].mean() > 40  # red on the left person
    assert red_minus_green[:, 296:][right_half].mean() < 0  # green on the right one
    pipeline.dress_person(right.id, None)
    out = pipeline.process(frame, 4 / 30)
    changed = np.abs(out.astype(int) - frame).max(axis=2) > 30
    assert (out[..., 0].astype(int) - out[..., 1])[:, 296:][
        changed[:, 296:]
    ].mean() > 40  # back to the look's
