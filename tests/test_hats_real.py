"""Hats on real heads: a shell round the skull that turns with the head (its centre on the skull's
axis, between the ears; its near side wider than its far side), sitting above the brows, sized by
the head (not by the flat drawing), raised by hair the person mask shows; and on photos of real
people, above every face's brows and no wider than the head allows.

The turned heads are the canonical face rotated in 3D (real geometry: the head pose reads the
turn exactly), so the hat's expected place is known."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from numpy.typing import NDArray

from tryon.art.hats import draw_hat
from tryon.catalog import Catalog
from tryon.geometry import Roi
from tryon.headpose import estimate_head_pose, load_canonical, matrix_from_euler
from tryon.perception import Perception, PerceptionConfig
from tryon.render.accessory import AccessoryParams, accessory_params, product_sprite
from tryon.render.earrings import ear_lobes
from tryon.render.hats import render_hat
from tryon.render.regions import SILHOUETTE
from tryon.render.sprite import Sprite
from tryon.results import Face

HATS = ("north-rib-beanie", "bowery-felt-fedora", "solstice-straw-sun-hat")
BROW_TOPS = (105, 334)
PLAIN = AccessoryParams()  # the sprite's own colours


def turned(
    yaw: float = 0.0, scale: float = 90.0, pitch: float = 0.0, size: tuple[int, int] = (480, 640)
) -> Face:
    """A face whose landmarks are the canonical face turned in 3D, ``scale`` pixels between the
    outer eye corners, its forehead well inside a ``size`` frame."""
    h, w = size
    pts = scale * load_canonical().shape @ matrix_from_euler(yaw, pitch, 0.0).T + [w / 2, 0.62 * h, 0.0]
    return Face(0, 1.0, pts.astype(np.float32), Roi(w / 2, 0.62 * h, 3 * scale, 3 * scale, 0.0))


def grey(size: tuple[int, int] = (480, 640)) -> NDArray[np.uint8]:
    return np.full((*size, 3), 128, np.uint8)


def hat_mask(out: NDArray[np.uint8], bare: NDArray[np.uint8]) -> NDArray[np.bool_]:
    mask: NDArray[np.bool_] = np.abs(out.astype(np.int16) - bare).max(axis=2) > 12
    return mask


def extent(mask: NDArray[np.bool_], row: int) -> tuple[int, int]:
    cols = np.flatnonzero(mask[row])
    assert cols.size, f"nothing drawn on row {row}"
    return int(cols.min()), int(cols.max())


def striped_hat() -> Sprite:
    """A white dome on a cuff with a red stripe down its front middle (where the face's midline
    is when it is worn), brim anchors at the cuff's top."""
    w, h, base, r = 400, 340, 290, 180
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    cx = w / 2
    dome = (((xx - cx) / r) ** 2 + ((yy - base) / 260) ** 2 <= 1) & (yy <= base)
    cuff = (np.abs(xx - cx) <= r) & (yy > base) & (yy <= base + 36)
    alpha = np.where(dome | cuff, 255, 0).astype(np.uint8)
    rgb = np.full((h, w, 3), 235, np.uint8)
    rgb[np.abs(xx - cx) < 8] = (220, 20, 20)
    anchors = {"brim_left": (cx + r, float(base)), "brim_right": (cx - r, float(base))}
    return Sprite(np.dstack([rgb, alpha]), anchors, 200.0, "striped hat")


def brow_line(face: Face) -> tuple[float, float, float, float]:
    """``(x0, y0, x1, y1)`` of the brows' tops, left to right in the image."""
    a, b = face.landmarks[list(BROW_TOPS), :2].astype(np.float64)
    (x0, y0), (x1, y1) = sorted([tuple(a), tuple(b)])
    return x0, y0, x1, y1


def lowest_over_brows(mask: NDArray[np.bool_], face: Face) -> float:
    """How far the hat comes below the brows' line between them (negative: it stays above)."""
    x0, y0, x1, y1 = brow_line(face)
    worst = -math.inf
    for x in range(math.ceil(x0), math.floor(x1) + 1):
        rows = np.flatnonzero(mask[:, x])
        if rows.size:
            line = y0 + (y1 - y0) * (x - x0) / max(x1 - x0, 1e-9)
            worst = max(worst, float(rows.max()) - line)
    return worst


def oval_width(face: Face) -> float:
    return float(np.ptp(face.landmarks[list(SILHOUETTE), 0]))


# -- the shell turns with the head ----------------------------------------------------------------


@pytest.mark.parametrize("yaw", [-40.0, -25.0, 25.0, 40.0])
def test_hat_centre_stays_on_the_skull_between_the_ears(yaw: float) -> None:
    face = turned(yaw)
    pose = estimate_head_pose(face.landmarks)
    ears = sorted(float(lobe.xy[0]) for lobe in ear_lobes(pose))
    crown_row = int(face.landmarks[10, 1] - 0.6 * pose.scale)
    for product_id in HATS:
        product, variant = Catalog.load().resolve(product_id)
        bare = grey()
        out = render_hat(bare, face, product_sprite(product), accessory_params(product, variant))
        left, right = extent(hat_mask(out, bare), crown_row)
        centre = (left + right) / 2
        assert ears[0] < centre < ears[1], (product_id, centre, ears)
        # On the skull's axis, behind the face: near the ears' middle, not over the forehead.
        assert abs(centre - sum(ears) / 2) < 0.15 * pose.scale, (product_id, centre, ears)
        forehead = float(face.landmarks[10, 0])
        assert abs(centre - forehead) > 0.25 * pose.scale * abs(math.sin(math.radians(yaw))), product_id


@pytest.mark.parametrize("yaw", [-40.0, -25.0, 0.0, 25.0, 40.0])
def test_near_side_is_wider_than_far_side_and_front_follows_the_forehead(yaw: float) -> None:
    face = turned(yaw)
    bare = grey()
    out = render_hat(bare, face, striped_hat(), PLAIN)
    mask = hat_mask(out, bare)
    row = int(face.landmarks[10, 1] - 0.6 * 90)
    left, right = extent(mask, row)
    r, g, b = (out[row, :, k].astype(int) for k in range(3))
    stripe = np.flatnonzero(mask[row] & (r > 150) & (g < 90) & (b < 90))
    assert stripe.size, "the front stripe is hidden"
    front = float(stripe.mean())
    # The front of the hat is over the forehead's middle, wherever the head turns.
    assert abs(front - float(face.landmarks[10, 0])) < 0.1 * 90
    right_side, left_side = right - front, front - left  # yaw > 0: the image's right comes nearer
    near, far = (right_side, left_side) if yaw >= 0 else (left_side, right_side)
    if yaw == 0.0:
        assert near == pytest.approx(far, rel=0.05)
    else:
        assert near > 1.25 * far, (near, far)
        assert near / far > (1.6 if abs(yaw) >= 40 else 1.25)


def test_far_side_goes_behind_the_near_side() -> None:
    """Turned far enough, the stripe down the front goes round the far side, edge-on at most."""
    for yaw in (-80.0, 80.0):
        face = turned(yaw)
        bare = grey()
        out = render_hat(bare, face, striped_hat(), PLAIN)
        mask = hat_mask(out, bare)
        assert mask.sum() > 2000
        # The crown's body (the dome's top is shaded from the middle column: not looked at).
        band = slice(int(face.landmarks[10, 1] - 0.8 * 90), int(face.landmarks[10, 1] - 0.2 * 90))
        red = (out[band, :, 0] > 150) & (out[band, :, 1] < 90) & (out[band, :, 2] < 90)
        left, right = np.flatnonzero(mask[band].any(0))[[0, -1]]
        xs = np.flatnonzero(red.any(0))
        far_edge = left if yaw > 0 else right
        assert xs.size == 0 or np.abs(xs - far_edge).max() < 0.1 * (right - left), (yaw, xs)


# -- on the skull, above the brows ----------------------------------------------------------------


@pytest.mark.parametrize("yaw", [-30.0, 0.0, 30.0])
@pytest.mark.parametrize("product_id", HATS)
def test_hat_front_stays_above_the_brows(product_id: str, yaw: float) -> None:
    product, variant = Catalog.load().resolve(product_id)
    for scale in (60.0, 110.0):
        face = turned(yaw, scale)
        bare = grey()
        out = render_hat(bare, face, product_sprite(product), accessory_params(product, variant))
        mask = hat_mask(out, bare)
        assert mask[: int(face.landmarks[10, 1])].sum() > 100 * (scale / 60) ** 2  # the hat is there
        assert lowest_over_brows(mask, face) < -0.02 * scale, (product_id, yaw, scale)
        # It covers the top of the forehead (it sits on the head, not above it).
        x10, y10 = np.round(face.landmarks[10, :2]).astype(int)
        assert mask[y10 - int(0.15 * scale), x10], (product_id, yaw, scale)


# -- sized by the head ----------------------------------------------------------------------------


@pytest.mark.parametrize("product_id", HATS)
@pytest.mark.parametrize("yaw", [0.0, 20.0])
def test_hat_width_follows_head_width_across_scales(product_id: str, yaw: float) -> None:
    product, variant = Catalog.load().resolve(product_id)
    sprite, params = product_sprite(product), accessory_params(product, variant)
    ratios = []
    for scale in (45.0, 70.0, 110.0, 150.0):
        size = (int(8 * scale), int(10 * scale))
        face = turned(yaw, scale, size=size)
        bare = grey(size)
        mask = hat_mask(render_hat(bare, face, sprite, params), bare)
        cols = np.flatnonzero(mask.any(axis=0))
        ratios.append((cols[-1] - cols[0] + 1) / oval_width(face))
    assert max(ratios) / min(ratios) < 1.1, ratios


def test_hat_size_comes_from_the_head_not_the_drawing() -> None:
    """The same beanie drawn at another resolution, or listed with another flat width, is worn
    the same size; and a beanie is about as wide as the head with its hair."""
    face = turned()
    widths = []
    for sprite in (draw_hat("beanie"), draw_hat("beanie", px_per_mm=2.5)):
        for width_mm in (sprite.width_mm, 1.5 * sprite.width_mm):
            bare = grey()
            resized = Sprite(sprite.rgba, sprite.anchors, width_mm, sprite.name)
            mask = hat_mask(render_hat(bare, face, resized, PLAIN), bare)
            cols = np.flatnonzero(mask.any(axis=0))
            widths.append(cols[-1] - cols[0] + 1)
    assert max(widths) - min(widths) <= 3, widths
    assert 1.1 < widths[0] / oval_width(face) < 1.35, widths[0] / oval_width(face)


# -- the person mask: hair lifts the hat ----------------------------------------------------------


def head_mask(face: Face, shape: tuple[int, int], top: float) -> NDArray[np.float32]:
    """A person mask: the face oval and an ellipse of head and hair up to image row ``top``."""
    mask = np.zeros(shape, np.uint8)
    cv2.fillPoly(mask, [np.round(face.landmarks[list(SILHOUETTE), :2]).astype(np.int32)], 1)
    cx, chin = float(face.landmarks[10, 0]), float(face.landmarks[152, 1])
    half_w = 0.55 * oval_width(face)
    centre = (round(cx), round((top + chin) / 2))
    cv2.ellipse(mask, centre, (round(half_w), round((chin - top) / 2)), 0, 0, 360, 1, -1)
    return mask.astype(np.float32)


def test_tall_hair_lifts_the_hat_short_hair_does_not() -> None:
    face = turned()
    bare = grey()
    sprite = draw_hat("beanie")
    plain = render_hat(bare, face, sprite, PLAIN)
    top_plain = int(np.flatnonzero(hat_mask(plain, bare).any(axis=1))[0])
    y10 = float(face.landmarks[10, 1])
    short = head_mask(face, bare.shape[:2], y10 - 0.95 * 90)  # the head's top: under the crown
    assert np.array_equal(render_hat(bare, face, sprite, PLAIN, short), plain)
    tall = head_mask(face, bare.shape[:2], top_plain - 0.2 * 90)  # hair above where the crown ends
    lifted = hat_mask(render_hat(bare, face, sprite, PLAIN, tall), bare)
    top_lifted = int(np.flatnonzero(lifted.any(axis=1))[0])
    assert 0.15 * 90 < top_plain - top_lifted <= 0.36 * 90, (top_plain, top_lifted)
    # Lifted, it sits on the hair, not above it: its bottom is well below the hair's top.
    bottom = int(np.flatnonzero(lifted.any(axis=1))[-1])
    assert bottom > top_plain - 0.2 * 90 + 0.5 * 90


def test_wide_hair_widens_the_hat_up_to_a_limit() -> None:
    face = turned()
    bare = grey()
    sprite = draw_hat("beanie")
    y10 = float(face.landmarks[10, 1])

    def width(person: NDArray[np.float32] | None) -> int:
        cols = np.flatnonzero(hat_mask(render_hat(bare, face, sprite, PLAIN, person), bare).any(axis=0))
        return int(cols[-1] - cols[0] + 1)

    plain = width(None)
    widths = {}
    for ratio in (1.15, 1.4):
        mask = np.zeros(bare.shape[:2], np.uint8)
        cv2.fillPoly(mask, [np.round(face.landmarks[list(SILHOUETTE), :2]).astype(np.int32)], 1)
        half = round(ratio * plain / 2)
        cx = round(float(face.landmarks[10, 0]))
        cv2.rectangle(mask, (cx - half, round(y10 - 0.95 * 90)), (cx + half, round(y10 + 0.4 * 90)), 1, -1)
        widths[ratio] = width(mask.astype(np.float32))
    assert widths[1.15] / plain == pytest.approx(1.15, abs=0.04), widths
    assert widths[1.4] / plain == pytest.approx(1.25, abs=0.04), widths  # no more than that


# -- photos of real people ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def photo_faces(real_photos: dict[str, NDArray[np.uint8]]) -> list[tuple[str, NDArray[np.uint8], Face]]:
    perception = Perception(PerceptionConfig(static_image_mode=True, face_detector="full", max_faces=6))
    out = []
    for name, image in sorted(real_photos.items()):
        faces = perception.process(image).faces
        assert faces, f"no face found in {name}"
        out += [(name, image, face) for face in faces]
    return out


@pytest.mark.parametrize("product_id", HATS)
def test_hats_on_real_photos_sit_above_the_brows_and_fit_the_head(
    photo_faces: list[tuple[str, NDArray[np.uint8], Face]], product_id: str
) -> None:
    """Every face found wears the hat above its brows. A beanie is no wider than 1.6 face ovals,
    nor is a fedora's crown (its top quarter, above the brim seen behind it); a brim is wider by
    nature (a 6 cm fedora brim makes the hat about 2.2 ovals wide, a sun hat's about 3, as the
    real ones), and a sun hat's brim rises behind its whole crown on a head seen from above."""
    product, variant = Catalog.load().resolve(product_id)
    sprite, params = product_sprite(product), accessory_params(product, variant)
    for name, image, face in photo_faces:
        mask = hat_mask(render_hat(image, face, sprite, params), image)
        assert mask.sum() > 50, (name, face.id)
        assert lowest_over_brows(mask, face) < 0.0, (name, face.id)
        oval = oval_width(face)
        rows = np.flatnonzero(mask.any(axis=1))
        if product_id == "north-rib-beanie":
            cols = np.flatnonzero(mask.any(axis=0))
            assert cols[-1] - cols[0] + 1 <= 1.6 * oval, (name, face.id, (cols[-1] - cols[0] + 1) / oval)
        elif product_id == "bowery-felt-fedora":
            crown_row = int(rows[0] + 0.2 * (face.landmarks[10, 1] - rows[0]))
            left, right = extent(mask, crown_row)
            assert right - left + 1 <= 1.6 * oval, (name, face.id, (right - left + 1) / oval)
