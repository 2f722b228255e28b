"""Earrings, hats and necklaces: placed by the head pose (and the shoulders), at real size, hidden
where the head, hair or chin is in front of them; the starter products through the pipeline."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from goldens import assert_golden
from numpy.typing import NDArray

from tryon.art.hats import HAT_STYLES, draw_hat
from tryon.art.jewelry import EARRING_STYLES, NECKLACE_STYLES, draw_earring, draw_necklace
from tryon.catalog import Catalog
from tryon.errors import InputError
from tryon.geometry import Roi
from tryon.headpose import estimate_head_pose, load_canonical, matrix_from_euler
from tryon.perception import Perception, PerceptionConfig
from tryon.pipeline import PipelineConfig, TryOnPipeline
from tryon.render.accessory import MM_PER_UNIT, AccessoryParams, accessory_params, product_sprite
from tryon.render.earrings import ear_lobes, render_earrings
from tryon.render.hats import hat_matrix, render_hat
from tryon.render.necklaces import Neck, neck_of, necklace_matrix, render_necklace
from tryon.render.regions import SILHOUETTE
from tryon.render.sprite import Sprite
from tryon.results import Face, FrameResult
from tryon.testing import Transform, synthetic_pose

GOLD = AccessoryParams((217, 177, 90))
TRANSFORMS = {
    "original": Transform(),
    "roll+30": Transform(angle=30),
    "roll-30": Transform(angle=-30),
    "scale0.7": Transform(scale=0.7),
    "scale1.3": Transform(scale=1.3, dy=40),
    "shift": Transform(dx=-50, dy=30),
}


@pytest.fixture(scope="module")
def perception() -> Perception:
    return Perception(
        PerceptionConfig(static_image_mode=True, face_detector="full", poses=True, segmentation=True)
    )


@pytest.fixture(scope="module")
def scenes(
    perception: Perception, astronaut: NDArray[np.uint8]
) -> dict[str, tuple[NDArray[np.uint8], FrameResult]]:
    out = {}
    for name, t in TRANSFORMS.items():
        image = t.apply(astronaut)
        result = perception.process(image)
        assert len(result.faces) == 1
        assert len(result.poses) == 1
        out[name] = (image, result)
    return out


def synthetic(yaw: float = 0.0, pitch: float = 0.0, roll: float = 0.0, iod: float = 90.0) -> Face:
    """A face whose landmarks are the canonical face turned by known angles."""
    pts = iod * load_canonical().shape @ matrix_from_euler(yaw, pitch, roll).T + [320.0, 200.0, 0.0]
    return Face(0, 1.0, pts.astype(np.float32), Roi(320, 200, 200, 200, 0.0))


def changed(a: NDArray[np.uint8], b: NDArray[np.uint8], level: int = 12) -> NDArray[np.bool_]:
    out: NDArray[np.bool_] = np.abs(a.astype(np.int16) - b).max(axis=2) > level
    return out


def near(mask: NDArray[np.bool_], xy: NDArray[np.floating], radius: float) -> int:
    yy, xx = np.mgrid[0 : mask.shape[0], 0 : mask.shape[1]]
    return int((mask & ((xx - xy[0]) ** 2 + (yy - xy[1]) ** 2 < radius**2)).sum())


# -- earrings ------------------------------------------------------------------------------------


def test_lobes_follow_the_transforms_and_sit_below_the_ears(
    scenes: dict[str, tuple[NDArray[np.uint8], FrameResult]], astronaut: NDArray[np.uint8]
) -> None:
    h, w = astronaut.shape[:2]
    face0 = scenes["original"][1].faces[0]
    lobes0 = np.array([lobe.xy for lobe in ear_lobes(estimate_head_pose(face0.landmarks))])
    # Plausible anatomy on the real face: outside the face oval by less than 0.2 IOD, between the
    # nose base and the mouth corners in height, one on each side.
    iod = face0.interocular
    lm = face0.landmarks
    oval_x = lm[list(SILHOUETTE), 0]
    assert oval_x.max() - 0.05 * iod < lobes0[0, 0] < oval_x.max() + 0.2 * iod
    assert oval_x.min() - 0.2 * iod < lobes0[1, 0] < oval_x.min() + 0.05 * iod
    assert (lm[2, 1] - 0.25 * iod < lobes0[:, 1]).all()
    assert (lobes0[:, 1] < lm[[61, 291], 1].max()).all()
    for name, t in TRANSFORMS.items():
        face = scenes[name][1].faces[0]
        lobes = np.array([lobe.xy for lobe in ear_lobes(estimate_head_pose(face.landmarks))])
        expected = t.points(lobes0, w, h)
        err = np.linalg.norm(lobes - expected, axis=1) / face.interocular
        assert err.max() < 0.05, (name, err)


@pytest.mark.parametrize("name", ["roll+30", "roll-30"])
def test_earrings_hang_straight_down_when_the_head_rolls(
    scenes: dict[str, tuple[NDArray[np.uint8], FrameResult]], name: str
) -> None:
    image, result = scenes[name]
    face = result.faces[0]
    out = render_earrings(image, face, draw_earring("bar-drop"), GOLD)
    diff = changed(out, image)
    counts = []
    for lobe in ear_lobes(estimate_head_pose(face.landmarks)):
        ys, xs = np.nonzero(diff)
        keep = np.hypot(xs - lobe.xy[0], ys - lobe.xy[1]) < 0.8 * face.interocular
        pts = np.column_stack([xs[keep], ys[keep]]).astype(float)
        counts.append(len(pts))
        if len(pts) < 20:
            continue  # on the raised side the drop swings behind the jaw, which hides it
        # The drawn pixels start at the lobe and run straight down the image: every row of
        # them is centred under the lobe.
        assert abs(pts[:, 1].min() - lobe.xy[1]) < 0.05 * face.interocular
        rows = [pts[pts[:, 1] == y, 0].mean() for y in np.unique(pts[:, 1])]
        assert np.abs(np.array(rows) - lobe.xy[0]).max() < 0.05 * face.interocular
        assert np.ptp(pts[:, 1]) > 0.2 * face.interocular
    assert max(counts) > 80, counts


def test_earring_size_is_real_size() -> None:
    """A 7 mm ball stud is 7/90 of the eye-corner span of a frontal face, at any face size."""
    sprite = draw_earring("ball-stud")
    for iod in (120.0, 200.0):
        face = synthetic(iod=iod)
        frame = np.full((480, 640, 3), 128, np.uint8)
        diff = changed(render_earrings(frame, face, sprite, GOLD), frame, 40)  # half covered
        lobe = ear_lobes(estimate_head_pose(face.landmarks))[0].xy
        x0, x1 = int(lobe[0] - 0.2 * iod), int(lobe[0] + 0.2 * iod)
        ys = np.nonzero(diff[:, x0:x1].any(axis=1))[0]
        height_mm = (ys.max() - ys.min() + 1) / (iod / MM_PER_UNIT)
        assert abs(height_mm - 7.0) < 90 / iod * 1.5, height_mm  # within 1.5 pixels


def test_the_far_earring_hides_as_the_head_turns() -> None:
    sprite = draw_earring("teardrop")
    frame = np.full((400, 640, 3), 128, np.uint8)
    seen = {}
    for yaw in (0.0, 15.0, 45.0, -45.0):
        face = synthetic(yaw=yaw)
        diff = changed(render_earrings(frame, face, sprite, GOLD), frame)
        lobes = ear_lobes(estimate_head_pose(face.landmarks))
        seen[yaw] = {lobe.side: near(diff, lobe.xy + np.array([0, 20]), 45) for lobe in lobes}
    assert min(seen[0.0].values()) > 100
    assert abs(seen[0.0][1] - seen[0.0][-1]) < 0.1 * seen[0.0][1]
    assert min(seen[15.0].values()) > 50  # both still shown
    # yaw > 0 turns the nose to the image's left: the subject's right side (-1) turns away.
    assert seen[45.0][-1] == 0
    assert seen[45.0][+1] > 100
    assert seen[-45.0][+1] == 0
    assert seen[-45.0][-1] > 100


def test_hair_over_the_ear_hides_the_earring(
    scenes: dict[str, tuple[NDArray[np.uint8], FrameResult]],
) -> None:
    image, result = scenes["original"]
    face = result.faces[0]
    assert result.segmentation is not None
    person = result.segmentation.mask
    sprite = draw_earring("bar-drop")
    bare = render_earrings(image, face, sprite, GOLD, person)
    lobes = {lobe.side: lobe.xy for lobe in ear_lobes(estimate_head_pose(face.landmarks))}
    iod = face.interocular
    # Her hair leaves her right ear (the image's left) bare: that earring is the same with the
    # person mask as without.
    plain = render_earrings(image, face, sprite, GOLD)
    x, y = lobes[-1].astype(int)
    side = np.s_[:, : int(lobes[-1][0] + 0.3 * iod)]
    assert np.array_equal(bare[side], plain[side])
    assert changed(bare, image)[side].sum() > 50
    # A lock of brown hair falling over that ear, down to 0.25 IOD below the lobe.
    x, y = lobes[-1]
    locks = image.copy()
    rng = np.random.default_rng(0)
    x0, x1, y0, y1 = int(x - 0.12 * iod), int(x + 0.12 * iod), int(y - 0.6 * iod), int(y + 0.25 * iod)
    strands = np.array([92, 62, 40]) + rng.normal(0, 10, (y1 - y0, x1 - x0, 1)) * [1.0, 0.8, 0.6]
    locks[y0:y1, x0:x1] = np.clip(strands, 0, 255).astype(np.uint8)
    mask = person.copy()
    mask[y0:y1, x0:x1] = 1.0  # the hair is part of the person
    out = render_earrings(locks, face, sprite, GOLD, mask)
    diff = changed(out, locks)
    assert not diff[y0:y1, x0:x1].any()  # hidden behind the lock
    assert diff[y1 + 2 :, x0:x1].sum() > 20  # the end hanging below the hair shows
    assert near(diff, lobes[+1] + np.array([0, 0.3 * iod]), 0.4 * iod) > 20  # the other ear still shows


# -- hats ----------------------------------------------------------------------------------------


def test_hat_follows_the_transforms_scales_with_the_face_and_rolls(
    scenes: dict[str, tuple[NDArray[np.uint8], FrameResult]], astronaut: NDArray[np.uint8]
) -> None:
    h, w = astronaut.shape[:2]
    sprite = draw_hat("fedora")
    left, right = sprite.anchor("brim_left"), sprite.anchor("brim_right")
    pts = np.array([[*left, 1.0], [*right, 1.0]])

    def brim(name: str) -> NDArray[np.float64]:
        face = scenes[name][1].faces[0]
        m = hat_matrix(sprite, estimate_head_pose(face.landmarks), 0.4)
        out: NDArray[np.float64] = (pts @ m.T)[:, :2]
        return out

    brim0 = brim("original")
    face0 = scenes["original"][1].faces[0]
    # Sits on the top of the forehead: the brim line's middle is near vertex 10, above the brows.
    mid0 = brim0.mean(0)
    assert abs(mid0[0] - face0.landmarks[10, 0]) < 0.1 * face0.interocular
    assert face0.landmarks[10, 1] - 0.3 * face0.interocular < mid0[1] < face0.landmarks[[105, 334], 1].min()
    width0 = np.linalg.norm(brim0[0] - brim0[1]) / face0.interocular
    angle0 = np.degrees(np.arctan2(-(brim0[0] - brim0[1])[1], (brim0[0] - brim0[1])[0]))
    for name, t in TRANSFORMS.items():
        face = scenes[name][1].faces[0]
        b = brim(name)
        expected = t.points(brim0, w, h)
        assert (np.linalg.norm(b - expected, axis=1) / face.interocular).max() < 0.05, name
        # Scaled by the face: the brim's width over the eye span does not change.
        assert abs(np.linalg.norm(b[0] - b[1]) / face.interocular / width0 - 1) < 0.03, name
        along = b[0] - b[1]
        # Rolls with the head (the transform's rotation on top of her own tilt).
        assert abs(np.degrees(np.arctan2(-along[1], along[0])) - angle0 - t.angle) < 2.5, name


def test_hat_follows_pitch_and_covers_the_forehead_not_the_face() -> None:
    sprite = draw_hat("fedora")
    heights = {}
    for pitch in (0.0, 30.0):
        face = synthetic(pitch=pitch)
        m = hat_matrix(sprite, estimate_head_pose(face.landmarks), 0.4)
        heights[pitch] = abs(np.linalg.det(m[:2, :2])) / abs(m[0, 0])  # vertical scale
    assert heights[30.0] / heights[0.0] == pytest.approx(np.cos(np.radians(30)), abs=0.04)
    face = synthetic()
    frame = np.full((400, 640, 3), 128, np.uint8)
    diff = changed(render_hat(frame, face, sprite, AccessoryParams((90, 60, 40))), frame)
    lm = face.landmarks
    assert diff[int(lm[10, 1]), int(lm[10, 0])]  # the top of the forehead is under the hat
    assert not diff[int(lm[[159, 386], 1].min()) :, :].any()  # nothing from the eyes down


# -- necklaces -----------------------------------------------------------------------------------


def test_necklace_ends_at_the_neck_and_follows_the_shoulders(
    scenes: dict[str, tuple[NDArray[np.uint8], FrameResult]], astronaut: NDArray[np.uint8]
) -> None:
    h, w = astronaut.shape[:2]
    result = scenes["original"][1]
    face0 = result.faces[0]
    neck0 = neck_of(face0, result.poses)
    chin = face0.landmarks[152, :2]
    shoulders = result.poses[0].xy[[11, 12]]
    iod = face0.interocular
    # The neck's base is below the chin, above the shoulder line, and between the shoulders.
    assert chin[1] + 0.5 * iod < neck0.base[1] <= shoulders[:, 1].max()
    assert shoulders[:, 0].min() < neck0.base[0] < shoulders[:, 0].max()
    # Her shoulders are level: from the face alone the estimate is close.
    assert np.linalg.norm(neck_of(face0, ()).base - neck0.base) < 0.15 * iod
    ends0 = np.array(neck0.ends())
    assert abs(np.linalg.norm(ends0[0] - ends0[1]) / iod - 1.0) < 0.1  # a neck ~ the eye span wide
    for name in ("roll+30", "roll-30", "scale0.7", "shift"):
        t = TRANSFORMS[name]
        _, r = scenes[name]
        ends = np.array(neck_of(r.faces[0], r.poses).ends())
        err = np.linalg.norm(ends - t.points(ends0, w, h), axis=1) / r.faces[0].interocular
        assert err.max() < 0.15, (name, err)


def test_necklace_lies_along_the_shoulders_not_the_tilted_head() -> None:
    face = synthetic(roll=20)
    chin = face.landmarks[152, :2]
    shoulders = {
        0: tuple(face.landmarks[1, :2]),
        11: (chin[0] + 150, chin[1] + 110),
        12: (chin[0] - 150, chin[1] + 110),
    }
    pose = synthetic_pose(shoulders)
    level = np.array(neck_of(face, [pose]).ends())
    assert abs(level[0, 1] - level[1, 1]) < 1e-6  # level shoulders: a level necklace
    tilted = np.array(neck_of(face, ()).ends())  # no body: across the head
    along = tilted[0] - tilted[1]
    assert abs(np.degrees(np.arctan2(along[1], along[0]))) == pytest.approx(20, abs=1.0)
    # A lopsided pair (a shoulder landmark off at the chin) is not trusted.
    bad = synthetic_pose({**shoulders, 12: (chin[0] - 10, chin[1] + 5)})
    assert np.allclose(np.array(neck_of(face, [bad]).ends()), tilted)


def test_necklace_hangs_from_its_ends_and_hides_behind_the_chin() -> None:
    sprite = draw_necklace("collar")
    frame = np.full((600, 640, 3), 128, np.uint8)
    face = synthetic()
    neck = neck_of(face)
    m = necklace_matrix(sprite, neck)
    ends = np.array([[*sprite.anchor("left_end"), 1.0], [*sprite.anchor("right_end"), 1.0]]) @ m.T
    assert np.allclose(ends[:, :2], np.array(neck.ends()), atol=1e-6)
    # A nod brings the neck's base up towards the chin.
    nod = neck_of(synthetic(pitch=60))
    assert (nod.base[1] - synthetic(pitch=60).landmarks[152, 1]) < 0.6 * (
        neck.base[1] - face.landmarks[152, 1]
    )
    # With the chin right over the collar (a deep nod), the face hides what is behind it.
    high = Neck(face.landmarks[152, :2] - np.array([0.0, 0.1 * neck.unit]), neck.up, neck.across, neck.unit)
    inside = np.zeros(frame.shape[:2], np.uint8)
    cv2.fillPoly(inside, [np.round(face.landmarks[list(SILHOUETTE), :2]).astype(np.int32)], 1)
    inside = cv2.erode(inside, np.ones((5, 5), np.uint8))  # the outline is anti-aliased
    hidden = changed(render_necklace(frame, face, sprite, GOLD, neck=high), frame, 4)
    assert not (hidden & (inside > 0)).any()
    away = synthetic()
    away.landmarks[:, 1] += 400  # the same necklace with no face over it
    whole = changed(render_necklace(frame, away, sprite, GOLD, neck=high), frame, 4)
    assert whole.sum() > 500
    assert hidden.sum() < 0.8 * whole.sum()
    assert (whole & (inside > 0)).sum() > 100


# -- assets, catalog and pipeline ----------------------------------------------------------------


def test_starter_accessories_load_with_anchors_and_real_sizes() -> None:
    catalog = Catalog.load()
    counts = {kind: len(catalog.by_kind(kind)) for kind in ("earrings", "hat", "necklace")}
    assert counts["earrings"] >= 4, counts
    assert counts["hat"] >= 3, counts
    assert counts["necklace"] >= 3, counts
    for kind in counts:
        for product in catalog.by_kind(kind):
            sprite = product_sprite(product)
            assert "thumbnail" in product.assets
            assert 8 < sprite.width_mm < 500
            assert sprite.size[0] > 100
            assert sprite.rgba[..., 3].max() == 255


def test_bad_sprites_say_what_was_expected() -> None:
    with pytest.raises(InputError, match=r"expected \(H, W, 4\) uint8 RGBA, got \(4, 4, 3\)"):
        Sprite(np.zeros((4, 4, 3), np.uint8), {}, 10.0)
    with pytest.raises(InputError, match="anchor 'hook' expected inside the 4x4 image"):
        Sprite(np.zeros((4, 4, 4), np.uint8), {"hook": (9.0, 1.0)}, 10.0)
    with pytest.raises(InputError, match="expected an anchor 'hook', got none"):
        Sprite(np.zeros((4, 4, 4), np.uint8), {}, 10.0).anchor("hook")
    with pytest.raises(InputError, match="earring style"):
        draw_earring("clip-on")


def test_the_look_switches_the_stages_it_needs(portrait: NDArray[np.uint8]) -> None:
    config = PipelineConfig(static_image_mode=True, face_detector="full")
    pipeline = TryOnPipeline(["velvet-matte-lipstick"], config=config)
    assert pipeline.perception.stages == {"faces"}
    plain = pipeline.process(portrait)
    pipeline.set_look(["aurora-hoop-earrings:silver", "amour-heart-pendant", "bowery-felt-fedora:black"])
    out = pipeline.process(portrait)
    assert pipeline.perception.stages == {"faces", "poses", "segmentation"}
    result = pipeline.last_result
    assert result is not None
    assert result.poses
    assert result.segmentation is not None
    assert pipeline.stats.failures == {}
    face = result.faces[0]
    diff = changed(out, plain)
    iod = face.interocular
    for lobe in ear_lobes(estimate_head_pose(face.landmarks)):
        assert near(diff, lobe.xy + np.array([0, 0.15 * iod]), 0.25 * iod) > 20
    assert diff[: int(face.landmarks[10, 1]), :].sum() > 1000  # the hat
    assert near(diff, neck_of(face, result.poses).base, 1.2 * iod) > 20  # the necklace
    pipeline.set_look(["velvet-matte-lipstick"])
    pipeline.process(portrait)
    assert pipeline.perception.stages == {"faces"}


@pytest.mark.parametrize(
    "spec",
    [
        "aurora-hoop-earrings:yellow-gold",
        "dewdrop-teardrop-earrings:rose-gold",
        "azure-halo-studs",
        "bowery-felt-fedora:camel",
        "north-rib-beanie:cherry",
        "solstice-straw-sun-hat",
        "riviera-pearl-strand:white",
        "amour-heart-pendant:yellow-gold",
    ],
)
def test_golden_accessories(scenes: dict[str, tuple[NDArray[np.uint8], FrameResult]], spec: str) -> None:
    """Each kind on the astronaut against a reviewed image (TRYON_UPDATE_GOLDEN=1 rewrites)."""
    image, result = scenes["original"]
    product, variant = Catalog.load().resolve(spec)
    params = accessory_params(product, variant)
    face = result.faces[0]
    sprite = product_sprite(product)
    assert result.segmentation is not None
    if product.kind == "earrings":
        out, box = render_earrings(image, face, sprite, params, result.segmentation.mask), (60, 200, 110, 330)
    elif product.kind == "hat":
        out, box = render_hat(image, face, sprite, params), (0, 130, 90, 420)
    else:
        out, box = render_necklace(image, face, sprite, params, result.poses), (150, 330, 110, 330)
    y0, y1, x0, x1 = box
    assert_golden(out[y0:y1, x0:x1], f"accessory_{product.id}.png", image[y0:y1, x0:x1], visible=40)


@pytest.mark.parametrize("style", [*EARRING_STYLES, *NECKLACE_STYLES, *HAT_STYLES])
def test_every_drawn_style_has_its_anchors_on_the_drawing(style: str) -> None:
    if style in EARRING_STYLES:
        sprite, names = draw_earring(style), ["hook"]
    elif style in NECKLACE_STYLES:
        sprite, names = draw_necklace(style), ["left_end", "right_end"]
    else:
        sprite, names = draw_hat(style), ["brim_left", "brim_right"]
    alpha = sprite.rgba[..., 3]
    r = max(3, round(0.02 * sprite.size[0]))
    for name in names:
        x, y = np.round(sprite.anchor(name)).astype(int)
        assert alpha[max(y - r, 0) : y + r + 1, max(x - r, 0) : x + r + 1].max() > 128, name


def test_nails_through_the_pipeline_on_a_frame_without_a_face() -> None:
    from tryon.testing import TWO_HANDS, hands_image

    image = hands_image(TWO_HANDS)
    catalog = Catalog.load()
    assert len(catalog.by_kind("nails")) >= 4
    product = catalog.by_kind("nails")[0]
    pipeline = TryOnPipeline([product.id], catalog=catalog, config=PipelineConfig(static_image_mode=True))
    assert pipeline.perception.stages == {"faces"}  # the look's stages go on with the next frame
    out = pipeline.process(image)
    assert pipeline.perception.stages == {"faces", "hands"}
    assert pipeline.stats.failures == {}
    result = pipeline.last_result
    assert result is not None
    assert not result.faces
    assert len(result.hands) == 2
    diff = changed(out, image)
    tips = np.concatenate([hand.landmarks[[8, 12, 16], :2] for hand in result.hands])
    scale = float(np.linalg.norm(result.hands[0].landmarks[5, :2] - result.hands[0].landmarks[17, :2]))
    painted = [near(diff, tip, 0.3 * scale) for tip in tips]
    assert min(painted) > 10, painted
    assert diff.sum() < 0.02 * diff.size  # only the nails
