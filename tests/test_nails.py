"""Nail polish: nail geometry from the hand landmarks (synthetic hands in 3D), visibility (palm or
back of the hand towards the camera), rendering on hands the hand pipeline detects in the cartoon
hands of test_hands, the finishes, golden images, bad input, and the starter nail products."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import cv2
import numpy as np
import pytest
from goldens import assert_golden
from numpy.typing import NDArray

from tryon.art.nails import draw_swatch
from tryon.catalog import Catalog
from tryon.errors import InputError
from tryon.geometry import Roi
from tryon.perception import Perception, PerceptionConfig
from tryon.render.finish import seed_of
from tryon.render.masks import Box, fill_polygons
from tryon.render.nails import NAIL_FINISHES, NailParams, NailQuad, nail_quads, render_nails
from tryon.results import Hand

Points = NDArray[np.float64]
ROOT = Path(__file__).resolve().parents[1]

# A left hand seen from its back, flat in the image plane: fingers up (-y), thumb to the image's
# right (the person's left side, the frame not mirrored), wrist at the origin.
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
TIPS, DIPS = (4, 8, 12, 16, 20), (3, 7, 11, 15, 19)


def hand3d(scale: float = 1.0, at: tuple[float, float] = (320.0, 400.0)) -> Points:
    """The flat hand in pixels: (21, 3) x, y, z (z = 0: the hand faces the camera squarely)."""
    xy = LEFT_BACK * scale + at
    return np.column_stack([xy, np.zeros(21)])


def make_hand(points: Points, handedness: str = "Left") -> Hand:
    lm = np.asarray(points, np.float32)
    world = ((lm - lm[0]) / 1000.0).astype(np.float32)
    roi = Roi(float(lm[:, 0].mean()), float(lm[:, 1].mean()), 250.0, 250.0)
    return Hand(0, 1.0, handedness, 1.0, lm, world, roi)


def mirrored(points: Points) -> Points:
    out = points.copy()
    out[:, 0] = 2 * points[0, 0] - points[:, 0]
    return out


def rotated(points: Points, axis: str, degrees: float, about: Points | None = None) -> Points:
    """Points turned about the wrist (or ``about``) around the image's x, y or z axis."""
    a = math.radians(degrees)
    c, s = math.cos(a), math.sin(a)
    r = {
        "x": np.array([[1, 0, 0], [0, c, -s], [0, s, c]]),
        "y": np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]]),
        "z": np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]]),
    }[axis]
    centre = points[0] if about is None else about
    out: Points = (points - centre) @ r.T + centre
    return out


def knuckle_spacing(points: Points) -> float:
    return float(
        np.mean([np.linalg.norm(points[a, :2] - points[b, :2]) for a, b in ((5, 9), (9, 13), (13, 17))])
    )


# --- geometry ----------------------------------------------------------------------------------


def test_nails_lie_on_the_last_segment_near_the_tip() -> None:
    pts = hand3d()
    quads = nail_quads(make_hand(pts))
    assert [q.finger for q in quads] == [0, 1, 2, 3, 4]
    spacing = knuckle_spacing(pts)
    for q in quads:
        dip, tip = pts[DIPS[q.finger], :2], pts[TIPS[q.finger], :2]
        seg = tip - dip
        seg_len = float(np.linalg.norm(seg))
        d = seg / seg_len
        normal = np.array([-d[1], d[0]])
        off = [float((point - dip) @ normal) for point in (q.cuticle, q.free_edge, q.centre)]
        if q.finger == 0:  # the thumbnail faces partly sideways: it sits towards the radial side
            radial = float((pts[2, :2] - pts[5, :2]) @ normal)
            assert all(0.1 * q.width < o * np.sign(radial) < 0.4 * q.width for o in off), off
        else:
            assert all(abs(o) < 0.05 * q.width for o in off), (q.finger, off)  # on the finger's axis
        t_cuticle = float((q.cuticle - dip) @ d) / seg_len
        t_free = float((q.free_edge - dip) @ d) / seg_len
        assert 0.25 <= t_cuticle <= 0.5, q.finger
        assert 0.85 <= t_free <= 1.0, q.finger  # near the tip, set back a little
        axis = (q.free_edge - q.cuticle) / q.length
        assert float(axis @ d) > math.cos(math.radians(1.0)), q.finger
        assert q.visibility > 0.99, q.finger
        assert 0.3 * spacing < q.width < 0.8 * spacing, q.finger
        outline = q.outline()
        # the outline is inside the nail's frame and fills most of it
        assert cv2.contourArea(outline.astype(np.float32)) > 0.75 * q.width * q.length
    widths = [q.width for q in quads]
    assert widths[2] > widths[3] > widths[4]  # middle > ring > pinky


@pytest.mark.parametrize("degrees", [30.0, 90.0, 200.0, -75.0])
def test_nails_rotate_with_the_hand(degrees: float) -> None:
    pts = hand3d()
    centre = np.array([300.0, 250.0, 0.0])
    before = nail_quads(make_hand(pts))
    after = nail_quads(make_hand(rotated(pts, "z", degrees, about=centre)))
    a = math.radians(degrees)
    r = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    for q0, q1 in zip(before, after, strict=True):
        expected = (q0.corners - centre[:2]) @ r.T + centre[:2]
        np.testing.assert_allclose(q1.corners, expected, atol=0.02)
        assert q1.visibility == pytest.approx(q0.visibility, abs=1e-3)


def test_nails_scale_with_the_hand() -> None:
    small, big = nail_quads(make_hand(hand3d(0.6))), nail_quads(make_hand(hand3d(1.7)))
    for q0, q1 in zip(small, big, strict=True):
        assert q1.width == pytest.approx(q0.width * 1.7 / 0.6, rel=1e-3)
        assert q1.length == pytest.approx(q0.length * 1.7 / 0.6, rel=1e-3)
        assert q1.visibility == pytest.approx(q0.visibility, abs=1e-3)


def test_a_foreshortened_last_segment_shortens_the_nail_not_its_width() -> None:
    pts = hand3d()
    base = nail_quads(make_hand(pts))
    # 2D: the index fingertip moved 40% of the way towards its DIP joint
    moved = pts.copy()
    moved[8, :2] = pts[8, :2] + 0.4 * (pts[7, :2] - pts[8, :2])
    q = nail_quads(make_hand(moved))[1]
    assert q.length == pytest.approx(0.6 * base[1].length, rel=0.02)
    assert q.width == pytest.approx(base[1].width, rel=1e-6)
    # 3D: the middle finger's last segment flexed towards the palm (+z: away from the camera)
    lengths, visibility = [], []
    for degrees in (0.0, 30.0, 55.0, 85.0):
        flexed = pts.copy()
        flexed[12] = rotated(pts, "x", -degrees, about=pts[11])[12]
        assert flexed[12, 2] >= pts[12, 2]
        q = nail_quads(make_hand(flexed))[2]
        expected = base[2].length * math.cos(math.radians(degrees))
        assert q.length == pytest.approx(expected, rel=0.02, abs=0.3)
        assert q.width == pytest.approx(base[2].width, rel=0.02)
        lengths.append(q.length)
        visibility.append(q.visibility)
    assert lengths == sorted(lengths, reverse=True)
    assert visibility[0] > 0.99
    assert visibility[2] > 0.5
    assert visibility[3] < 0.2  # ... but not when the nail is nearly edge-on


def test_palm_towards_the_camera_hides_the_nails() -> None:
    back = hand3d()
    palm = mirrored(back)  # the same outline mirrored: a left hand showing its palm
    assert all(q.visibility > 0.99 for q in nail_quads(make_hand(back, "Left")))
    assert all(q.visibility == 0.0 for q in nail_quads(make_hand(palm, "Left")))
    # a right hand is the mirror image of a left one: the mirrored outline is its back
    assert all(q.visibility > 0.99 for q in nail_quads(make_hand(palm, "Right")))
    assert all(q.visibility == 0.0 for q in nail_quads(make_hand(back, "Right")))
    # turning the hand round in 3D (about the vertical axis) shows the palm
    for degrees in (180.0, 160.0, -170.0):
        turned = nail_quads(make_hand(rotated(back, "y", degrees)))
        assert all(q.visibility == 0.0 for q in turned), degrees
    # the same in every in-plane orientation
    for degrees in (45.0, 135.0, 250.0):
        assert all(q.visibility > 0.99 for q in nail_quads(make_hand(rotated(back, "z", degrees))))
        assert all(q.visibility == 0.0 for q in nail_quads(make_hand(rotated(palm, "z", degrees))))


def test_left_and_right_hands_are_mirror_images() -> None:
    left = hand3d()
    right = mirrored(left)
    ql, qr = nail_quads(make_hand(left, "Left")), nail_quads(make_hand(right, "Right"))
    for a, b in zip(ql, qr, strict=True):
        flipped = a.corners.copy()
        flipped[:, 0] = 2 * left[0, 0] - flipped[:, 0]
        # the same nail, its corners listed in mirrored order
        assert sorted(map(tuple, np.round(b.corners, 6))) == sorted(map(tuple, np.round(flipped, 6)))
        assert (b.width, b.length, b.visibility) == pytest.approx((a.width, a.length, a.visibility))


def test_turning_the_hand_to_show_the_thumb() -> None:
    """Turned about the vertical axis towards the thumb's side, the fingernails narrow and fade
    while the thumbnail, which faces that side, widens; edge-on only the thumbnail shows."""
    flat = nail_quads(make_hand(hand3d()))
    # the left hand's thumb is on the image's right: turning it there brings the thumb's side round
    turned = nail_quads(make_hand(rotated(hand3d(), "y", 40.0)))
    assert turned[0].width > flat[0].width * 1.15
    for f in range(1, 5):
        assert turned[f].width < flat[f].width * 0.9
        assert turned[f].visibility > 0.9
    edge_on = nail_quads(make_hand(rotated(hand3d(), "y", 88.0)))
    assert edge_on[0].visibility > 0.9
    assert all(q.visibility < 0.05 for q in edge_on[1:])


def test_degenerate_fingers_are_skipped() -> None:
    pts = hand3d()
    pts[8] = pts[7]  # tip on the joint
    q = nail_quads(make_hand(pts))[1]
    assert q.visibility == 0.0
    frame = np.full((480, 640, 3), 120, np.uint8)
    out = render_nails(frame, [make_hand(pts)], NailParams((200, 20, 40), "gloss"))
    assert out.shape == frame.shape


# --- rendering on detected hands ---------------------------------------------------------------


def nail_masks(hands: list[Hand], shape: tuple[int, ...], shrink: float = 1.0) -> list[NDArray[np.float32]]:
    """Each visible nail's coverage at frame size, its outline shrunk about its centre."""
    h, w = shape[:2]
    out = []
    for hand in hands:
        for q in nail_quads(hand):
            if q.visibility < 0.99:
                continue
            poly = q.centre + (q.outline() - q.centre) * shrink
            out.append(fill_polygons(Box(0, 0, w, h), [poly]))
    return out


def lab(rgb: NDArray[np.uint8]) -> NDArray[np.float32]:
    return np.asarray(cv2.cvtColor(rgb.reshape(-1, 1, 3).astype(np.float32) / 255, cv2.COLOR_RGB2LAB))[:, 0]


def test_polish_colour_on_every_nail(two_hands: tuple[NDArray[np.uint8], list[Hand]]) -> None:
    img, hands = two_hands
    shade = (178, 20, 40)
    out = render_nails(img, hands, NailParams(shade, "cream"))
    masks = nail_masks(hands, img.shape, shrink=0.6)
    assert len(masks) >= 8  # the cartoon hands show their backs: nearly every nail is painted
    target = lab(np.array([shade], np.uint8))[0]
    for core in masks:
        inside = core > 0.99
        assert inside.sum() >= 10
        before = lab(img[inside]).mean(axis=0)
        after = lab(out[inside]).mean(axis=0)
        d_after, d_before = np.linalg.norm(after - target), np.linalg.norm(before - target)
        assert d_after < 0.3 * d_before, (d_after, d_before)
        # the shade's hue; its lightness follows the light on the nail
        assert np.linalg.norm(after[1:] - target[1:]) < 15, after


def test_nothing_changes_away_from_the_nails(two_hands: tuple[NDArray[np.uint8], list[Hand]]) -> None:
    img, hands = two_hands
    copy = img.copy()
    for finish in NAIL_FINISHES:
        out = render_nails(img, hands, NailParams((40, 60, 160), finish, seed=5))
        near = np.zeros(img.shape[:2], np.uint8)
        for m in nail_masks(hands, img.shape):
            near |= (m > 0).astype(np.uint8)
        near = cv2.dilate(near, np.ones((9, 9), np.uint8))  # 4 px: the feathered edge
        changed = np.any(out != img, axis=2)
        assert changed.sum() > 500
        assert not np.any(changed & (near == 0)), finish
    np.testing.assert_array_equal(img, copy)  # the input is not modified


def test_intensity_scales_the_polish(two_hands: tuple[NDArray[np.uint8], list[Hand]]) -> None:
    img, hands = two_hands
    none = render_nails(img, hands, NailParams((178, 20, 40), "gloss", intensity=0.0))
    np.testing.assert_array_equal(none, img)
    full = render_nails(img, hands, NailParams((178, 20, 40), "cream")).astype(np.float32)
    half = render_nails(img, hands, NailParams((178, 20, 40), "cream", intensity=0.5)).astype(np.float32)
    ratio = np.abs(half - img).sum() / np.abs(full - img).sum()
    assert 0.3 < ratio < 0.7


def nail_pixels(out: NDArray[np.uint8], hands: list[Hand], shrink: float = 0.85) -> NDArray[np.uint8]:
    cores = nail_masks(hands, out.shape, shrink=shrink)
    inside = np.max(cores, axis=0) > 0.99
    return out[inside]


def detail(out: NDArray[np.uint8], hands: list[Hand]) -> float:
    """High-frequency variance of luminance inside the nails (the image minus its 1 px blur),
    away from their edges."""
    y = cv2.cvtColor(out, cv2.COLOR_RGB2GRAY).astype(np.float32)
    high = y - cv2.GaussianBlur(y, (0, 0), 1.0)
    cores = nail_masks(hands, out.shape, shrink=0.6)
    return float(high[np.max(cores, axis=0) > 0.99].var())


def test_finishes_look_different(two_hands: tuple[NDArray[np.uint8], list[Hand]]) -> None:
    img, hands = two_hands
    shade = (150, 40, 90)
    outs = {f: render_nails(img, hands, NailParams(shade, f, seed=11)) for f in NAIL_FINISHES}

    def brightest(out: NDArray[np.uint8]) -> float:
        px = nail_pixels(out, hands).astype(np.float32)
        return float(np.percentile(px @ np.array([0.2126, 0.7152, 0.0722], np.float32), 99))

    assert brightest(outs["gloss"]) > brightest(outs["cream"]) + 40  # a sharp white highlight
    assert brightest(outs["gloss"]) > 200
    cream = detail(outs["cream"], hands)
    assert detail(outs["shimmer"], hands) > 2 * cream
    assert detail(outs["glitter"], hands) > 4 * cream
    assert detail(outs["glitter"], hands) > detail(outs["shimmer"], hands)  # bigger, brighter flakes


def test_sparkles_are_stable_and_move_with_the_hand(two_hands: tuple[NDArray[np.uint8], list[Hand]]) -> None:
    img, hands = two_hands
    params = NailParams((30, 40, 110), "glitter", seed=seed_of("p", "v"))
    first = render_nails(img, hands, params)
    np.testing.assert_array_equal(first, render_nails(img, hands, params))  # no flicker
    other = render_nails(img, hands, NailParams((30, 40, 110), "glitter", seed=seed_of("p", "w")))
    assert np.any(other != first)  # the seed sets the pattern
    # the hands (and the picture) moved by a whole number of pixels: the same sparkles, moved
    dx, dy = 17, -9
    moved_img = np.roll(img, (dy, dx), axis=(0, 1))
    moved_hands = [
        Hand(
            h.id,
            h.score,
            h.handedness,
            h.handedness_score,
            (h.landmarks + np.array([dx, dy, 0], np.float32)).astype(np.float32),
            h.world,
            h.roi,
        )
        for h in hands
    ]
    moved = render_nails(moved_img, moved_hands, params)
    expected = np.roll(first, (dy, dx), axis=(0, 1))
    diff = np.abs(moved.astype(np.int16) - expected)
    assert diff.max() <= 2
    assert (diff > 0).mean() < 0.001
    # ... and not the same sparkles left in place
    assert np.abs(moved.astype(np.int16) - first).max() > 50


def test_golden_nails(two_hands: tuple[NDArray[np.uint8], list[Hand]]) -> None:
    img, hands = two_hands
    crop = (slice(80, 340), slice(60, 600))
    for name, params in (
        ("nails_gloss.png", NailParams((200, 16, 46), "gloss", seed=seed_of("golden", "gloss"))),
        ("nails_glitter.png", NailParams((40, 46, 120), "glitter", seed=seed_of("golden", "glitter"))),
    ):
        out = render_nails(img, hands, params)
        assert_golden(np.ascontiguousarray(out[crop]), name, img[crop], visible=60)


# --- bad input ---------------------------------------------------------------------------------


def test_bad_parameters_raise_input_errors() -> None:
    with pytest.raises(InputError, match=r"expected one of cream, gloss, shimmer, glitter, got 'matte'"):
        NailParams((200, 20, 40), "matte")
    with pytest.raises(InputError, match=r"color: expected an \(r, g, b\) tuple .* got '#C8102E'"):
        NailParams("#C8102E", "cream")  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"got \(256, 0, 0\)"):
        NailParams((256, 0, 0), "cream")
    with pytest.raises(InputError, match=r"shimmer_color: .* got \(1, 2\)"):
        NailParams((1, 2, 3), "shimmer", shimmer_color=(1, 2))  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"intensity: expected a number in \[0, 1\], got 1.5"):
        NailParams((1, 2, 3), "gloss", intensity=1.5)
    with pytest.raises(InputError, match="uint8"):
        render_nails(np.zeros((64, 64, 3), np.float32), [], NailParams((1, 2, 3), "cream"))  # type: ignore[arg-type]


# --- the starter products ----------------------------------------------------------------------


def load_script() -> object:
    spec = importlib.util.spec_from_file_location("make_nails", ROOT / "assets" / "make_nails.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_starter_nail_products() -> None:
    catalog = Catalog.load()
    nails = catalog.by_kind("nails")
    assert len(nails) >= 4
    script = load_script()
    assert {p.id for p in nails} >= {spec["id"] for spec in script.PRODUCTS}  # type: ignore[attr-defined]
    finishes = set()
    for product in nails:
        assert 3 <= len(product.variants) <= 6, product.id
        assert product.buy_url.startswith("https://shop.example.com/"), product.id
        for v in product.variants:
            assert v.rgb is not None, (product.id, v.id)
            assert v.finish in NAIL_FINISHES, (product.id, v.id)
            finishes.add(v.finish)
            NailParams(v.rgb, v.finish, 1.0, seed_of(product.id, v.id), v.shimmer_rgb)  # renderable
        thumb = product.assets["thumbnail"]
        image = cv2.cvtColor(cv2.imread(str(thumb.path)), cv2.COLOR_BGR2RGB)
        assert image.shape == (256, 256, 3), product.id
        first = product.variants[0]
        assert first.rgb is not None
        assert first.finish is not None
        drawn = draw_swatch(first.rgb, first.finish, first.shimmer_rgb, seed=seed_of(product.id, first.id))
        assert np.abs(drawn.astype(np.int16) - image).max() <= 2, f"{product.id}: run assets/make_nails.py"
    assert finishes == set(NAIL_FINISHES)


def test_swatch_shows_the_shade() -> None:
    red = draw_swatch((200, 16, 46), "cream")
    blue = draw_swatch((30, 40, 160), "cream")
    assert red[170, 96, 0] > red[170, 96, 2]
    assert blue[170, 96, 2] > blue[170, 96, 0]
    glitter = draw_swatch((30, 40, 160), "glitter", (255, 255, 255))
    assert np.abs(glitter.astype(np.int16) - blue).max() > 80  # flakes
    with pytest.raises(InputError, match="got 'satin'"):
        draw_swatch((1, 2, 3), "satin")


def test_nail_quad_is_a_plain_value() -> None:
    q = NailQuad(1, np.array([[0.0, 0.0], [10.0, 0.0], [10.0, 14.0], [0.0, 14.0]]), 1.0)
    assert (q.width, q.length) == (10.0, 14.0)
    assert q.centre.tolist() == [5.0, 7.0]
    outline = q.outline()
    assert outline[:, 0].min() >= 0
    assert outline[:, 0].max() <= 10
    assert outline[:, 1].min() >= 0
    assert outline[:, 1].max() <= 14


@pytest.mark.parametrize("at", [(-40.0, 200.0), (600.0, 180.0), (320.0, 150.0), (-400.0, -400.0)])
def test_hands_at_and_beyond_the_frame_edges(at: tuple[float, float]) -> None:
    frame = np.full((240, 320, 3), 128, np.uint8)
    frame[:, :, 0] = np.arange(320, dtype=np.uint8)[None, :] // 2
    hand = make_hand(hand3d(1.2, at))
    out = render_nails(frame, [hand], NailParams((200, 20, 40), "glitter", seed=1))
    assert out.shape == frame.shape
    inside = [q for q in nail_quads(hand) if np.all((q.centre >= 0) & (q.centre < [320, 240]))]
    changed = np.any(out != frame, axis=2)
    assert changed.any() == bool(inside)
    for q in inside:
        x, y = np.round(q.centre).astype(int)
        assert changed[y, x]


def test_detected_hands_and_their_mirror_images(two_hands: tuple[NDArray[np.uint8], list[Hand]]) -> None:
    """The model reads the cartoon hands as backs of hands: in the image and in its mirror image
    (where it reports the other hand) every nail shows. The mirrored landmarks with the original
    handedness describe palms: no nail shows and nothing is painted."""
    img, hands = two_hands
    w = img.shape[1]
    flipped = np.ascontiguousarray(img[:, ::-1])
    perception = Perception(PerceptionConfig(faces=False, hands=True, static_image_mode=True))
    again = perception.process(flipped, 0.0).hands
    assert sorted(h.handedness for h in again) == sorted(h.handedness for h in hands) == ["Left", "Right"]
    for hand in [*hands, *again]:
        assert all(q.visibility > 0.99 for q in nail_quads(hand)), hand.handedness
    palms = []
    for h in hands:
        lm = h.landmarks.copy()
        lm[:, 0] = (w - 1) - lm[:, 0]
        palms.append(Hand(h.id, h.score, h.handedness, h.handedness_score, lm, h.world, h.roi))
    assert all(q.visibility == 0.0 for hand in palms for q in nail_quads(hand))
    np.testing.assert_array_equal(render_nails(flipped, palms, NailParams((200, 20, 40), "gloss")), flipped)
