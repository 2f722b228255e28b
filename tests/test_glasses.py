"""Glasses placed by head pose: anchors on the face under transforms, the frame sized by the eye
distance, lenses that let the eyes show, the far temple hidden behind a turned head."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from goldens import assert_golden
from numpy.typing import NDArray

from tryon.art.glasses import STYLES, draw_glasses
from tryon.geometry import Roi
from tryon.headpose import estimate_head_pose, load_canonical, matrix_from_euler
from tryon.perception import Perception, PerceptionConfig
from tryon.render.glasses import GlassesParams, asset_to_image, render_glasses
from tryon.render.regions import SILHOUETTE
from tryon.results import Face
from tryon.testing import Transform

CLEAR = GlassesParams((110, 70, 40), (200, 210, 220), 0.1)
SUN = GlassesParams((30, 25, 25), (40, 50, 45), 0.8)


@pytest.fixture(scope="module")
def perception() -> Perception:
    return Perception(PerceptionConfig(static_image_mode=True, face_detector="full"))


def face_of(perception: Perception, image: NDArray[np.uint8]) -> Face:
    faces = perception.process(image).faces
    assert len(faces) == 1
    return faces[0]


TRANSFORMS = {
    "original": Transform(),
    "roll+30": Transform(angle=30),
    "roll-30": Transform(angle=-30),
    "scale0.7": Transform(scale=0.7),
    "scale1.3": Transform(scale=1.3, dy=40),
    "shift": Transform(dx=-60, dy=30),
}


@pytest.mark.parametrize("name", list(TRANSFORMS))
def test_bridge_on_the_nose_bridge_and_width_by_eye_distance(
    perception: Perception, astronaut: NDArray[np.uint8], name: str
) -> None:
    asset = draw_glasses("rectangle")
    face = face_of(perception, TRANSFORMS[name].apply(astronaut))
    pose = estimate_head_pose(face.landmarks)
    bridge = asset_to_image(asset, pose, np.array([asset.bridge]))[0, :2]
    iod = face.interocular
    assert np.linalg.norm(bridge - face.landmarks[168, :2]) < 0.03 * iod
    lenses = asset_to_image(asset, pose, np.array([asset.right_lens, asset.left_lens]))[:, :2]
    eyes = np.array([face.landmarks[[33, 133], :2].mean(0), face.landmarks[[362, 263], :2].mean(0)])
    # Lens centres over the eye centres (so the frame follows the eye distance and the roll),
    # a little above them along the face (the bridge rests above the eye line).
    along = eyes[1] - eyes[0]
    along /= np.linalg.norm(along)
    offset = lenses - eyes
    assert np.abs(offset @ along).max() < 0.03 * iod
    assert np.abs(offset @ [-along[1], along[0]]).max() < 0.1 * iod
    ah, aw = asset.front.shape[:2]
    ends = asset_to_image(asset, pose, np.array([[0, ah / 2], [aw, ah / 2]], float))[:, :2]
    ratio = np.linalg.norm(ends[1] - ends[0]) / iod
    assert 1.2 < ratio < 1.6, ratio  # a 136 mm frame on a ~90 mm eye span


def test_the_width_ratio_is_the_same_at_every_scale(
    perception: Perception, astronaut: NDArray[np.uint8]
) -> None:
    asset = draw_glasses("round")
    ah, aw = asset.front.shape[:2]
    ratios = []
    for scale in (0.7, 1.0, 1.3):
        face = face_of(perception, Transform(scale=scale, dy=40 * (scale > 1)).apply(astronaut))
        ends = asset_to_image(
            asset, estimate_head_pose(face.landmarks), np.array([[0, ah / 2], [aw, ah / 2]], float)
        )
        ratios.append(np.linalg.norm(ends[1, :2] - ends[0, :2]) / face.interocular)
    assert max(ratios) / min(ratios) < 1.03, ratios


def test_rendering_touches_only_the_glasses_and_lets_the_eyes_show(
    perception: Perception, portrait: NDArray[np.uint8]
) -> None:
    face = face_of(perception, portrait)
    for params in (CLEAR, SUN):
        out = render_glasses(portrait, face, draw_glasses("wayfarer"), params)
        changed = np.abs(out.astype(int) - portrait.astype(int)).sum(2) > 0
        ys, xs = np.nonzero(changed)
        iod = face.interocular
        centre = face.landmarks[168, :2]
        # Everything changed lies around the eyes: within the frame's reach of the bridge.
        assert (np.abs(xs - centre[0]) < 1.0 * iod).all()
        assert (np.abs(ys - centre[1]) < 0.6 * iod).all()
        eye = face.landmarks[[33, 133, 159, 145], :2]
        x0, y0 = np.floor(eye.min(0)).astype(int)
        x1, y1 = np.ceil(eye.max(0)).astype(int)
        before, after = portrait[y0:y1, x0:x1].astype(float), out[y0:y1, x0:x1].astype(float)
        # Through the lens the eye is still there: its pattern kept, only tinted and darkened.
        corr = np.corrcoef(before.mean(2).ravel(), after.mean(2).ravel())[0, 1]
        assert corr > 0.9, corr
        darker = before.mean() - after.mean()
        assert (darker > 25) if params is SUN else (abs(darker) < 15), darker


def synthetic_face(yaw: float, size: int = 480) -> tuple[NDArray[np.uint8], Face]:
    """A grey frame and a face whose landmarks are the canonical face turned by ``yaw``."""
    shape = load_canonical().shape
    lm = 120 * shape @ matrix_from_euler(yaw, 0, 0).T + [size / 2, size / 2, 0]
    roi = Roi(size / 2, size / 2, 300, 300, 0.0)
    face = Face(0, 1.0, lm.astype(np.float32), roi)
    return np.full((size, size, 3), 128, np.uint8), face


def test_far_temple_is_hidden_behind_a_turned_head() -> None:
    image, face = synthetic_face(yaw=45)  # nose to the image's left: the subject's right side turns away
    out = render_glasses(image, face, draw_glasses("rectangle"), CLEAR)
    changed = np.abs(out.astype(int) - image.astype(int)).sum(2) > 0
    inside = np.zeros(image.shape[:2], np.uint8)
    cv2.fillPoly(inside, [np.round(face.landmarks[list(SILHOUETTE), :2]).astype(np.int32)], 1)
    eroded = cv2.erode(inside, np.ones((5, 5), np.uint8))
    lens_area = np.zeros_like(inside)
    # The front of the frame and its lenses are drawn over the face; beyond them, on the face,
    # nothing may change (the far temple runs behind the head).
    asset = draw_glasses("rectangle")
    pose = estimate_head_pose(face.landmarks)
    ah, aw = asset.front.shape[:2]
    front = asset_to_image(asset, pose, np.array([[0, 0], [aw, 0], [aw, ah], [0, ah]], float))[:, :2]
    cv2.fillConvexPoly(lens_area, np.round(front).astype(np.int32), 1)
    lens_area = cv2.dilate(lens_area, np.ones((5, 5), np.uint8))
    far_side = np.arange(image.shape[1])[None, :] < front[:, 0].min()
    assert not (changed & (eroded > 0) & (lens_area == 0) & far_side).any()
    # The near temple (the subject's left, towards the camera) is drawn, beyond the front.
    assert (changed & (lens_area == 0)).sum() > 50


@pytest.mark.parametrize("style", STYLES)
def test_every_style_is_symmetric_with_anchors_on_the_frame(style: str) -> None:
    asset = draw_glasses(style)
    alpha = asset.front[..., 3]
    assert np.abs(alpha.astype(int) - alpha[:, ::-1].astype(int)).mean() < 2.0
    w = alpha.shape[1]
    assert asset.bridge[0] == pytest.approx(w / 2)
    assert asset.left_lens[0] + asset.right_lens[0] == pytest.approx(w, abs=1)
    for x, y in (asset.left_lens, asset.right_lens):
        assert asset.lenses[round(y), round(x)] == 255


def test_catalog_eyewear_through_the_pipeline(portrait: NDArray[np.uint8]) -> None:
    from tryon.catalog import Catalog
    from tryon.pipeline import PipelineConfig, TryOnPipeline

    catalog = Catalog.load()
    assert len(catalog.by_kind("glasses")) >= 4
    assert len(catalog.by_kind("sunglasses")) >= 2
    config = PipelineConfig(static_image_mode=True)
    face = TryOnPipeline(catalog=catalog, config=config)
    plain = face.process(portrait)
    assert face.last_result is not None
    lm = face.last_result.faces[0].landmarks
    eye = lm[[33, 133, 159, 145], :2]
    x0, y0 = np.floor(eye.min(0)).astype(int)
    x1, y1 = np.ceil(eye.max(0)).astype(int)
    means = {}
    for spec in ("harbor-round-optical:havana", "riviera-aviator-sunglasses:gold-green"):
        pipeline = TryOnPipeline([spec, "velvet-matte-lipstick:ruby-red"], catalog=catalog, config=config)
        out = pipeline.process(portrait)
        assert pipeline.stats.failures == {}
        means[spec] = out[y0:y1, x0:x1].astype(float).mean()
        # The lipstick is there too (glasses go over the makeup, not instead of it).
        lips = lm[[61, 291, 0, 17], :2]
        lx0, ly0 = np.floor(lips.min(0)).astype(int)
        lx1, ly1 = np.ceil(lips.max(0)).astype(int)
        assert np.abs(out[ly0:ly1, lx0:lx1].astype(int) - plain[ly0:ly1, lx0:lx1]).mean() > 5
    base = plain[y0:y1, x0:x1].astype(float).mean()
    assert abs(means["harbor-round-optical:havana"] - base) < 15  # clear lenses
    assert base - means["riviera-aviator-sunglasses:gold-green"] > 25  # sunglasses


@pytest.mark.parametrize(
    "spec",
    [
        "harbor-round-optical:havana",
        "metro-rectangle-optical:navy",
        "muse-cat-eye-optical:rose",
        "atlas-wayfarer-optical:black",
        "riviera-aviator-sunglasses:gold-green",
        "coast-wayfarer-sunglasses:havana-brown",
    ],
)
def test_golden_eyewear(perception: Perception, astronaut: NDArray[np.uint8], spec: str) -> None:
    """Each starter frame on the astronaut against a reviewed image (TRYON_UPDATE_GOLDEN=1
    rewrites them after a deliberate change; look at them before committing)."""
    from tryon.catalog import Catalog
    from tryon.render.glasses import glasses_asset, glasses_params

    product, variant = Catalog.load().resolve(spec)
    face = face_of(perception, astronaut)
    out = render_glasses(astronaut, face, glasses_asset(product), glasses_params(product, variant))
    crop = out[60:180, 150:300]
    assert_golden(crop, f"eyewear_{product.id}.png", astronaut[60:180, 150:300], visible=40)


def head_turn(image: NDArray[np.uint8], face: Face, degrees: float) -> NDArray[np.uint8]:
    """The head turned about a vertical axis by warping: the face region is mapped as a cylinder
    (radius: the face's half-width) rotated by ``degrees`` (yaw > 0: the nose to the image's left);
    the background is left as it is. A 2D warp: the model reads about 40% of it as yaw."""
    h, w = image.shape[:2]
    oval = face.landmarks[list(SILHOUETTE), :2]
    cx = float(oval[:, 0].mean())
    r = 0.62 * float(np.ptp(oval[:, 0]))
    xx, yy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    u = np.clip((xx - cx) / r, -1.0, 1.0)
    angle = np.arcsin(u) + np.radians(degrees)  # where the surface point seen here came from
    src = cx + r * np.sin(np.clip(angle, -np.pi / 2, np.pi / 2))
    inside = np.abs(xx - cx) < r
    map_x = np.where(inside, src, xx).astype(np.float32)
    return np.asarray(cv2.remap(image, map_x, yy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT), np.uint8)


@pytest.mark.parametrize("degrees", [-20.0, 20.0])
def test_bridge_stays_on_the_nose_bridge_when_the_head_turns(
    perception: Perception, astronaut: NDArray[np.uint8], degrees: float
) -> None:
    turned = head_turn(astronaut, face_of(perception, astronaut), degrees)
    face = face_of(perception, turned)
    pose = estimate_head_pose(face.landmarks)
    assert np.sign(pose.yaw) == np.sign(degrees)  # the warp reads as a turn the right way
    asset = draw_glasses("round")
    bridge = asset_to_image(asset, pose, np.array([asset.bridge]))[0, :2]
    assert np.linalg.norm(bridge - face.landmarks[168, :2]) < 0.03 * face.interocular
