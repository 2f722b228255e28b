"""Watches and bracelets: the band centred on the wrist keypoint and across the forearm (the pose's
when it sees the arm, else the hand's) under rotation, scale and shift; real size from the palm;
bent round the wrist so that nothing shows beyond its silhouette; the dial on the side facing the
camera and never mirrored; nothing without a hand; golden images on detected cartoon hands; the
starter products, and the pipeline switching on hands and drawing on them."""

from __future__ import annotations

import math

import numpy as np
import pytest
from goldens import assert_golden
from numpy.typing import NDArray

from tryon.art.wrist import BRACELET_STYLES, COLOURWAYS, WATCH_STYLES, draw_bracelet, draw_watch, product_shot
from tryon.catalog import Catalog
from tryon.errors import InputError
from tryon.geometry import Roi
from tryon.look import LookItem
from tryon.pipeline import PipelineConfig, TryOnPipeline
from tryon.render.accessory import AccessoryParams, product_sprite
from tryon.render.registry import LayerRequest, renderer_of
from tryon.render.sprite import Sprite
from tryon.render.wrist import (
    EASE,
    PALM_MM,
    WRIST_DEPTH,
    WRIST_WIDTH,
    Wrist,
    band_length_mm,
    band_on,
    perimeter,
    render_band,
    wrist_of,
)
from tryon.results import FrameResult, Hand
from tryon.testing import Transform, synthetic_pose

Points = NDArray[np.float64]
W, H = 640, 480
GOLD = AccessoryParams((217, 177, 90))
# A left hand seen from its back, flat in the image plane: fingers up (-y), thumb to the image's
# right, wrist at the origin; knuckles 5 and 17 are 70.7 px apart.
LEFT_BACK = np.array(
    [
        *[(0, 0), (30, -15), (50, -35), (62, -55), (70, -72)],  # wrist, thumb
        *[(25, -80), (28, -110), (30, -130), (31, -150)],  # index
        *[(0, -85), (0, -120), (0, -142), (0, -164)],  # middle
        *[(-25, -80), (-27, -112), (-28, -132), (-29, -152)],  # ring
        *[(-45, -70), (-50, -95), (-53, -110), (-55, -126)],  # pinky
    ],
    dtype=np.float64,
)
TRANSFORMS = {
    "original": Transform(),
    "rot+30": Transform(angle=30),
    "rot-30": Transform(angle=-30),
    "scale0.7": Transform(scale=0.7),
    "scale1.4": Transform(scale=1.4, dy=-40),
    "shift": Transform(dx=-60, dy=-30),
}


def hand3d(scale: float = 1.0, at: tuple[float, float] = (320.0, 330.0)) -> Points:
    return np.column_stack([LEFT_BACK * scale + at, np.zeros(21)])


def make_hand(points: Points, handedness: str = "Left") -> Hand:
    lm = np.asarray(points, np.float32)
    world = ((lm - lm[0]) / 1000.0).astype(np.float32)
    return Hand(0, 1.0, handedness, 1.0, lm, world, Roi(float(lm[0, 0]), float(lm[0, 1]), 250.0, 250.0))


def transformed(points: Points, t: Transform) -> Points:
    out = points.copy()
    out[:, :2] = t.points(points[:, :2], W, H)
    out[:, 2] *= t.scale
    return out


def mirrored(points: Points) -> Points:
    out = points.copy()
    out[:, 0] = 2 * points[0, 0] - points[:, 0]
    return out


def rolled(points: Points, degrees: float) -> Points:
    """The hand turned about the vertical image axis through its wrist (the forearm's, for an
    upright hand): the wrist rolls, showing its side."""
    a = math.radians(degrees)
    r = np.array([[math.cos(a), 0, math.sin(a)], [0, 1, 0], [-math.sin(a), 0, math.cos(a)]])
    out: Points = (points - points[0]) @ r.T + points[0]
    return out


def wrist_at(points: Points, handedness: str = "Left") -> Wrist:
    wrist = wrist_of(make_hand(points, handedness))
    assert wrist is not None
    return wrist


def palm(points: Points) -> float:
    return float(np.linalg.norm(points[5] - points[17]))


def grey() -> NDArray[np.uint8]:
    return np.full((H, W, 3), 128, np.uint8)


def drawn(out: NDArray[np.uint8], before: NDArray[np.uint8], level: int = 8) -> NDArray[np.bool_]:
    mask: NDArray[np.bool_] = np.abs(out.astype(np.int16) - before).max(axis=2) > level
    return mask


def pixel_frame(mask: NDArray[np.bool_], hand: Hand) -> tuple[Points, Points]:
    """The drawn pixels' coordinates across and along the hand's forearm, from its wrist keypoint."""
    wrist = wrist_of(hand)
    assert wrist is not None
    ys, xs = np.nonzero(mask)
    d = np.column_stack([xs, ys]) - wrist.centre
    return d @ wrist.across, d @ wrist.along


def axis_degrees(mask: NDArray[np.bool_]) -> float:
    """The direction of the drawn pixels' principal axis, in degrees modulo 180."""
    ys, xs = np.nonzero(mask)
    pts = np.column_stack([xs, ys]).astype(np.float64)
    _, vectors = np.linalg.eigh(np.cov((pts - pts.mean(axis=0)).T))
    v = vectors[:, -1]
    return float(np.degrees(np.arctan2(v[1], v[0])) % 180.0)


def angle_diff(a: float, b: float) -> float:
    return abs((a - b + 90.0) % 180.0 - 90.0)


@pytest.fixture(scope="module")
def bangle() -> Sprite:
    return draw_bracelet("bangle")


@pytest.fixture(scope="module")
def diver() -> Sprite:
    return draw_watch("diver")


# -- placement -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(TRANSFORMS))
def test_the_band_is_centred_on_the_wrist_keypoint(name: str, bangle: Sprite, diver: Sprite) -> None:
    pts = transformed(hand3d(), TRANSFORMS[name])
    hand, frame = make_hand(pts), grey()
    width = palm(pts)
    for sprite in (bangle, diver):
        out = render_band(frame, hand, sprite, GOLD if sprite is bangle else AccessoryParams())
        mask = drawn(out, frame)
        assert mask.sum() > 100, name
        across, along = pixel_frame(mask, hand)
        # symmetric about the keypoint across the forearm; the bangle along it too (the watch's
        # crown, on one side, moves its middle a little)
        assert abs((across.min() + across.max()) / 2) < 0.03 * width, (name, across.min(), across.max())
        limit = 0.03 if sprite is bangle else 0.06
        assert abs((along.min() + along.max()) / 2) < limit * width, (name, along.min(), along.max())
        assert mask[round(pts[0, 1]), round(pts[0, 0])]


@pytest.mark.parametrize("degrees", [-30.0, 30.0, 90.0, 160.0])
def test_the_band_turns_with_the_hand(degrees: float, bangle: Sprite) -> None:
    frame = grey()
    base = axis_degrees(drawn(render_band(frame, make_hand(hand3d()), bangle, GOLD), frame))
    assert angle_diff(base, 0.0) < 1.0  # across an upright forearm: level
    pts = transformed(hand3d(), Transform(angle=degrees, dx=0, dy=-60))
    turned = axis_degrees(drawn(render_band(frame, make_hand(pts), bangle, GOLD), frame))
    assert angle_diff(turned, -degrees) < 2.0, turned  # Transform turns counter-clockwise on screen


def test_the_band_lies_across_the_pose_forearm_not_the_bent_hand(bangle: Sprite) -> None:
    frame = grey()
    pts = hand3d()
    wrist = pts[0, :2]
    # the hand points straight up, the forearm comes in from the lower left at 25° off vertical
    tilt = math.radians(25.0)
    elbow = wrist + 200.0 * np.array([-math.sin(tilt), math.cos(tilt)])
    pose = synthetic_pose({13: tuple(elbow), 15: (wrist[0] + 4, wrist[1] + 3), 14: (10, 10), 16: (20, 20)})
    out = render_band(frame, make_hand(pts), bangle, GOLD, [pose])
    assert angle_diff(axis_degrees(drawn(out, frame)), math.degrees(tilt)) < 2.0
    # ... but not a pose whose wrist is elsewhere (someone else's), nor an arm it does not see
    far = synthetic_pose({13: tuple(elbow + 150), 15: tuple(wrist + 150)})
    hidden = synthetic_pose({13: tuple(elbow), 15: tuple(wrist)}, visibility=0.2)
    for other in (far, hidden):
        level = render_band(frame, make_hand(pts), bangle, GOLD, [other])
        assert angle_diff(axis_degrees(drawn(level, frame)), 0.0) < 1.0


# -- size and the wrist's shape ------------------------------------------------------------------


def test_real_size_follows_the_palm(bangle: Sprite) -> None:
    """The 6 mm bangle is 6 mm wide at PALM_MM between the knuckles, whatever the hand's size."""
    frame = grey()
    widths = {}
    for scale in (0.7, 1.0, 1.4):
        pts = hand3d(scale, at=(320.0, 300.0))
        hand = make_hand(pts)
        across, along = pixel_frame(drawn(render_band(frame, hand, bangle, GOLD), frame), hand)
        px_per_mm = palm(pts) / PALM_MM
        widths[scale] = float(np.ptp(along) + 1) / px_per_mm
        assert widths[scale] == pytest.approx(6.0, abs=1.5 / px_per_mm), scale  # within 1.5 px
        # across: the bangle's ellipse, its perimeter the 195 mm band, within the ease
        wrist = wrist_of(hand)
        assert wrist is not None
        ease = 195.0 * px_per_mm / perimeter(wrist.half_width, wrist.half_depth)
        assert EASE[0] < ease < EASE[1]
        assert np.ptp(across) + 1 == pytest.approx(2 * ease * WRIST_WIDTH * palm(pts) / 2, abs=2.0)
    assert widths[1.4] == pytest.approx(widths[0.7], rel=0.15)


def test_the_far_side_is_hidden(diver: Sprite) -> None:
    """Only the band's front half is drawn: nothing beyond the wrist's silhouette, the flat image
    compressed towards the edges, and a wrist turned to show its side shows its depth."""
    frame = grey()
    pts = hand3d(1.4)
    hand = make_hand(pts)
    wrist = wrist_of(hand)
    assert wrist is not None
    band = band_on(wrist, band_length_mm(diver))
    lo, hi = band.extent
    across, _ = pixel_frame(drawn(render_band(frame, hand, diver, AccessoryParams()), frame), hand)
    assert across.min() >= lo - 1.0
    assert across.max() <= hi + 1.0
    assert across.min() < lo + 2.0  # ... and reaches it
    # the visible half is half the band: a flat image of the same length would reach much further
    half_flat = band_length_mm(diver) / 2 * wrist.px_per_mm
    assert hi < 0.7 * half_flat
    slope = np.gradient(band.across, band.s)
    assert slope[len(slope) // 2] > 0.95  # square on at the centre, edge-on at the sides
    assert slope[0] < 0.2
    assert slope[-1] < 0.2
    # rolled a quarter turn the silhouette is the wrist's depth; half-way, between the two
    for degrees, expected in ((90.0, WRIST_DEPTH), (45.0, math.sqrt((1 + WRIST_DEPTH**2) / 2))):
        turned = band_on(wrist_at(rolled(pts, degrees)), band_length_mm(diver))
        lo2, hi2 = turned.extent
        assert (hi2 - lo2) / (hi - lo) == pytest.approx(expected, rel=0.02), degrees


def test_the_dial_faces_the_camera_and_is_never_mirrored(diver: Sprite) -> None:
    back = hand3d(1.4)
    palm_side = mirrored(back)  # a left hand showing its palm
    frame = grey()
    for pts, handedness in ((back, "Left"), (palm_side, "Left"), (palm_side, "Right"), (back, "Right")):
        hand = make_hand(pts, handedness)
        wrist = wrist_of(hand)
        assert wrist is not None
        band = band_on(wrist, band_length_mm(diver))
        assert band.rows == band.turn  # turned, not mirrored
        # the dial's centre (arc length 0) faces the camera square on, over the keypoint
        assert float(
            np.interp(0.0, band.s[:: int(band.turn)], band.across[:: int(band.turn)])
        ) == pytest.approx(0.0, abs=0.5)
        assert band.facing.max() == pytest.approx(1.0, abs=1e-3)
        # the crown (3 o'clock, the image's top) points to the fingers on a left wrist and to the
        # elbow on a right one, back or palm to the camera (the watch turned round the arm)
        _, along = pixel_frame(drawn(render_band(frame, hand, diver, AccessoryParams()), frame), hand)
        crown_to_fingers = along.max() > -along.min() + 3
        assert crown_to_fingers == (handedness == "Left"), handedness
    # rolled 50° (the thumb's side towards the camera), the back of the wrist, and the dial on it,
    # turns towards the little finger's side (the image's left): by the band's depth × sin 50°
    turned = band_on(wrist_at(rolled(back, 50.0)), band_length_mm(diver))
    centre = float(np.interp(0.0, turned.s[:: int(turned.turn)], turned.across[:: int(turned.turn)]))
    shift = turned.wrist.half_depth * math.sin(math.radians(50.0))
    assert -EASE[1] * shift - 1 < centre < -EASE[0] * shift + 1


# -- nothing to draw -------------------------------------------------------------------------------


def test_nothing_is_drawn_without_a_visible_wrist(bangle: Sprite, diver: Sprite) -> None:
    frame = grey()
    for sprite in (bangle, diver):
        assert render_band(frame, make_hand(hand3d(0.2)), sprite, GOLD) is frame  # tiny
        outside = hand3d()
        outside[:, 1] += 200  # the wrist below the frame
        assert render_band(frame, make_hand(outside), sprite, GOLD) is frame
        assert render_band(frame, make_hand(hand3d()), sprite, AccessoryParams(intensity=0.0)) is frame
    item = LookItem(*Catalog.load().resolve("tidewater-steel-diver"))
    layer = renderer_of("watch").build(LayerRequest((item,)))
    assert layer(frame, FrameResult(W, H)) is frame
    # the layer puts the item on every visible hand
    two = FrameResult(
        W, H, hands=[make_hand(hand3d(0.8, (180.0, 330.0))), make_hand(hand3d(0.8, (470.0, 330.0)))]
    )
    mask = drawn(layer(frame, two), frame)
    assert mask[:, :320].sum() > 200
    assert mask[:, 320:].sum() > 200


# -- art and products ------------------------------------------------------------------------------


def test_the_art_draws_every_style_with_its_anchors() -> None:
    for style in WATCH_STYLES:
        for colourway in COLOURWAYS[style]:
            sprite = draw_watch(style, colourway)
            assert set(sprite.anchors) == {"band_left", "band_right", "face_centre"}
            assert 150 < band_length_mm(sprite) < 190
            centre = sprite.anchor("face_centre")
            assert sprite.rgba[round(centre[1]), round(centre[0]), 3] == 255
    for style in BRACELET_STYLES:
        sprite = draw_bracelet(style)
        assert set(sprite.anchors) == {"band_left", "band_right"}
        assert 150 < band_length_mm(sprite) < 210
        shot = product_shot(sprite)  # closed in a ring
        assert shot.shape[0] == shot.shape[1]
        assert shot[shot.shape[0] // 2, shot.shape[1] // 2, 3] == 0
    with pytest.raises(InputError, match="watch style: expected one of diver, dress, smart, got 'pocket'"):
        draw_watch("pocket")
    with pytest.raises(InputError, match="colourway: expected one of black, blue, green, got 'pink'"):
        draw_watch("diver", "pink")
    with pytest.raises(InputError, match="bracelet style"):
        draw_bracelet("anklet")


def test_starter_wrist_products() -> None:
    catalog = Catalog.load()
    watches, bracelets = catalog.by_kind("watch"), catalog.by_kind("bracelet")
    assert len(watches) >= 3
    assert len(bracelets) >= 3
    for product in [*watches, *bracelets]:
        assert "thumbnail" in product.assets
        for variant in product.variants:
            sprite = product_sprite(product, variant.asset or "front")
            assert 150 < band_length_mm(sprite) < 210
            assert sprite.rgba[..., 3].max() == 255
            if product.kind == "watch":  # each colourway its own image, drawn as it is
                assert variant.asset is not None
                assert "face_centre" in sprite.anchors
            else:  # one shading image, tinted
                assert variant.asset is None
                assert variant.rgb is not None


# -- on detected hands -----------------------------------------------------------------------------


@pytest.mark.parametrize("spec", ["tidewater-steel-diver:blue", "riverstone-beaded-bracelet:tiger-eye"])
def test_golden_wrist(two_hands: tuple[NDArray[np.uint8], list[Hand]], spec: str) -> None:
    """One watch and one bracelet on the cartoon hands (TRYON_UPDATE_GOLDEN=1 rewrites)."""
    img, hands = two_hands
    item = LookItem(*Catalog.load().resolve(spec))
    out = renderer_of(item.product.kind).build(LayerRequest((item,)))(img, FrameResult(W, H, hands=hands))
    crop = np.s_[230:400, 100:560]
    assert_golden(np.ascontiguousarray(out[crop]), f"wrist_{item.product.id}.png", img[crop], visible=60)


def test_the_pipeline_switches_on_hands_and_draws_on_them(
    two_hands: tuple[NDArray[np.uint8], list[Hand]],
) -> None:
    img, _ = two_hands
    pipeline = TryOnPipeline(["tidewater-steel-diver"], config=PipelineConfig(static_image_mode=True))
    out = pipeline.process(img)
    assert {"hands", "poses"} <= pipeline.perception.stages
    result = pipeline.last_result
    assert result is not None
    assert len(result.hands) == 2
    assert pipeline.stats.failures == {}
    mask = drawn(out, img)
    for hand in result.hands:
        x, y = np.round(hand.landmarks[0, :2]).astype(int)
        r = round(0.5 * palm(hand.landmarks.astype(np.float64)))
        assert mask[y - r : y + r, x - r : x + r].sum() > 300
    assert not mask[:150].any()  # nothing on the fingers
