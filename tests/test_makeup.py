"""Makeup renderers: region geometry, colour accuracy in linear light, stability, golden images."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from goldens import assert_golden
from numpy.typing import NDArray
from skimage.color import deltaE_ciede2000, rgb2lab
from skimage.draw import polygon2mask

from tryon.errors import InputError
from tryon.perception import Perception, PerceptionConfig
from tryon.render import regions as rg
from tryon.render.color import linear_color, luminance, to_srgb
from tryon.render.makeup import MAKEUP_KINDS, MakeupParams, region_mask, render, render_look
from tryon.render.masks import Box, fill_polygons
from tryon.testing import STILL_TRANSFORMS, moving, noisy_still

SHADES = {
    "lipstick": (155, 17, 30),
    "lip_gloss": (214, 96, 120),
    "blush": (226, 114, 120),
    "eyeshadow": (122, 74, 110),
    "eyeliner": (30, 26, 32),
    "brow": (92, 62, 42),
    "foundation": (214, 170, 140),
}


@pytest.fixture(scope="module")
def detect() -> Perception:
    return Perception(PerceptionConfig(static_image_mode=True))


@pytest.fixture(scope="module")
def face_lm(astronaut: NDArray[np.uint8], detect: Perception) -> NDArray[np.float32]:
    result = detect.process(astronaut)
    assert len(result.faces) == 1
    return result.faces[0].landmarks


def _iou(a: NDArray[np.bool_], b: NDArray[np.bool_]) -> float:
    return float((a & b).sum() / max(1, (a | b).sum()))


def _lip_polygon(lm: NDArray[np.floating], shape: tuple[int, ...]) -> NDArray[np.bool_]:
    h, w = shape[:2]
    pts = rg.check_landmarks(lm)
    box = Box(0, 0, w, h)
    outer = fill_polygons(box, [rg.lips_outer(pts)]) >= 0.5
    inner = fill_polygons(box, [rg.lips_inner(pts)]) > 0
    return outer & ~inner


# -- geometry ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["original", "rot+45", "rot-45", "scale0.5", "scale1.5", "shift", "dark"])
def test_lip_mask_covers_lip_polygon_and_never_the_mouth(
    portrait: NDArray[np.uint8], detect: Perception, name: str
) -> None:
    frame = STILL_TRANSFORMS[name].apply(portrait)
    faces = detect.process(frame).faces
    assert faces, name
    lm = faces[0].landmarks
    mask = region_mask(frame.shape, lm, "lipstick").full(frame.shape[1], frame.shape[0])
    assert _iou(mask >= 0.5, _lip_polygon(lm, frame.shape)) >= 0.9
    out = render(frame, faces[0], MakeupParams("lipstick", SHADES["lipstick"], "gloss"))
    pts = rg.check_landmarks(lm)
    inner = fill_polygons(Box(0, 0, frame.shape[1], frame.shape[0]), [rg.lips_inner(pts)]) > 0
    assert inner.sum() > 20, "the astronaut smiles with her teeth showing"
    assert np.array_equal(out[inner], frame[inner]), "teeth / inside of the mouth painted"
    changed = np.any(out != frame, axis=2)
    assert changed[_lip_polygon(lm, frame.shape)].mean() > 0.9


def _region_polygons(kind: str, lm: NDArray[np.floating]) -> list[NDArray[np.float64]]:
    pts = rg.check_landmarks(lm)
    if kind == "blush":  # the ellipse fitted to each cheek apple's landmarks
        out = []
        for e in rg.EYES:
            (cx, cy), (d1, d2), angle = cv2.fitEllipse(rg.cheek(pts, e).astype(np.float32))
            poly = cv2.ellipse2Poly((0, 0), (int(d1 * 50), int(d2 * 50)), round(angle), 0, 360, 2)
            out.append(poly / 100.0 + np.array([cx, cy]))
        return out
    if kind == "brow":
        return [rg.brow(pts, e) for e in rg.EYES]
    if kind == "eyeshadow":
        out = []
        for e in rg.EYES:
            lash, crease = rg.lid(pts, e, 1.2)
            out.append(np.concatenate([lash, crease[::-1]]))
        return out
    raise AssertionError(kind)


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        (kind, name)
        for kind in ("eyeshadow", "blush", "brow")
        for name in ("original", "rot+20-scale0.7", "scale1.5")
        # a brow at 0.7 scale is a 3-pixel strip: one pixel of rasterisation is 30% of IoU
        if not (kind == "brow" and name == "rot+20-scale0.7")
    ],
)
def test_region_masks_match_their_landmark_regions(
    portrait: NDArray[np.uint8], detect: Perception, kind: str, name: str
) -> None:
    frame = STILL_TRANSFORMS[name].apply(portrait)
    lm = detect.process(frame).faces[0].landmarks
    h, w = frame.shape[:2]
    # rasterised independently of the renderer: pixel centres inside the polygons
    region = np.zeros((h, w), bool)
    for poly in _region_polygons(kind, lm):
        region |= polygon2mask((h, w), np.asarray(poly)[:, ::-1])
    if kind == "eyeshadow":
        region &= ~(
            fill_polygons(Box(0, 0, w, h), [rg.eye_opening(rg.check_landmarks(lm), e) for e in rg.EYES]) > 0
        )
    mask = region_mask(frame.shape, lm, kind).full(w, h)
    assert _iou(mask >= 0.5, region) >= 0.9


@pytest.mark.parametrize("kind", MAKEUP_KINDS)
def test_pixels_far_from_the_region_are_byte_identical(
    astronaut: NDArray[np.uint8], face_lm, kind: str
) -> None:
    params = MakeupParams(
        kind,
        SHADES[kind],
        "shimmer" if kind in ("lipstick", "eyeshadow") else "matte" if kind != "foundation" else "natural",
        wing=True,
    )
    out = render(astronaut, face_lm, params)
    h, w = astronaut.shape[:2]
    near = region_mask(astronaut.shape, face_lm, params).full(w, h) > 0
    changed = np.any(out != astronaut, axis=2)
    assert changed.any(), kind
    assert not (changed & ~near).any(), f"{kind}: pixels outside its mask changed"
    # and the mask itself stays near the face: nothing beyond 0.6 IOD of the landmarks' hull
    iod = rg.interocular(rg.check_landmarks(face_lm))
    hull = cv2.convexHull(face_lm[:, :2].astype(np.float32)).reshape(-1, 2)
    inside = np.zeros((h, w), np.uint8)
    cv2.fillPoly(inside, [np.round(hull).astype(np.int32)], 1)
    dist = cv2.distanceTransform(1 - inside, cv2.DIST_L2, 5)
    assert not (changed & (dist > 0.6 * iod)).any()


def test_intensity_zero_leaves_the_frame_unchanged(astronaut: NDArray[np.uint8], face_lm) -> None:
    look = [
        MakeupParams(
            k,
            SHADES[k],
            "satin"
            if k not in ("brow", "eyeliner", "foundation", "lip_gloss")
            else "gloss"
            if k == "lip_gloss"
            else "matte"
            if k != "foundation"
            else "natural",
            intensity=0.0,
        )
        for k in MAKEUP_KINDS
    ]
    assert np.array_equal(render_look(astronaut, [face_lm], look), astronaut)


def test_render_does_not_modify_its_input(astronaut: NDArray[np.uint8], face_lm) -> None:
    before = astronaut.copy()
    render(astronaut, face_lm, MakeupParams("lipstick", SHADES["lipstick"], "matte"))
    assert np.array_equal(astronaut, before)


# -- colour ------------------------------------------------------------------------------------


def _flat(lightness_of: tuple[int, int, int], scale: float, shape: tuple[int, ...]) -> NDArray[np.uint8]:
    """A flat neutral surface whose luminance is the swatch's (times ``scale``)."""
    y = float(luminance(linear_color(lightness_of))) * scale
    g = to_srgb(np.array([min(y, 1.0)], np.float32))[0]
    return np.full(shape, g, np.uint8)


def _core_colour(out: NDArray[np.uint8], lm: NDArray[np.floating], kind: str) -> NDArray[np.float64]:
    mask = region_mask(out.shape, lm, kind).full(out.shape[1], out.shape[0])
    core = mask >= 0.98 * mask.max()
    assert core.sum() >= 5, kind
    return np.median(out[core].astype(np.float64), axis=0)


def _lab(rgb: NDArray[np.floating] | tuple[int, int, int]) -> NDArray[np.float64]:
    return rgb2lab(np.asarray(rgb, np.float64).reshape(1, 1, 3) / 255.0).reshape(3)


CASES = [
    ("lipstick", "matte", (155, 17, 30)),
    ("lipstick", "satin", (196, 112, 110)),
    ("lipstick", "cream", (120, 40, 70)),
    ("lipstick", "gloss", (214, 96, 120)),
    ("lipstick", "shimmer", (170, 80, 90)),
    ("lip_gloss", "gloss", (220, 130, 140)),
    ("blush", "matte", (226, 114, 120)),
    ("eyeshadow", "matte", (122, 74, 110)),
    ("brow", "matte", (92, 62, 42)),
    ("foundation", "natural", (214, 170, 140)),
    ("foundation", "matte", (120, 80, 60)),
]


@pytest.mark.parametrize(("kind", "finish", "rgb"), CASES)
def test_shade_lands_on_its_swatch_and_keeps_its_hue(
    astronaut: NDArray[np.uint8], face_lm, kind: str, finish: str, rgb: tuple[int, int, int]
) -> None:
    params = MakeupParams(kind, rgb, finish, opacity=1.0, seed=1)
    swatch = _lab(rgb)
    same = _flat(rgb, 1.0, astronaut.shape)
    got = _lab(_core_colour(render(same, face_lm, params), face_lm, kind))
    de = float(deltaE_ciede2000(swatch, got))
    assert de <= 5.0, f"{kind}/{finish}: ΔE2000 {de:.2f} on a surface of the swatch's lightness"
    hue = np.degrees(np.arctan2(swatch[2], swatch[1]))
    for scale in (0.4, 2.0):
        surface = _flat(rgb, scale, astronaut.shape)
        lab = _lab(_core_colour(render(surface, face_lm, params), face_lm, kind))
        h = np.degrees(np.arctan2(lab[2], lab[1]))
        assert abs((h - hue + 180) % 360 - 180) <= 6.0, f"{kind}/{finish} x{scale}: hue {h:.1f} vs {hue:.1f}"
        assert np.hypot(lab[1], lab[2]) > 0.5 * np.hypot(swatch[1], swatch[2])
        # the surface's lightness carries through: darker surface, darker result
        assert (lab[0] < got[0]) == (scale < 1.0)


def test_shading_is_kept_not_pasted(face_lm) -> None:
    """A lit-from-above gradient under the lips stays a gradient after lipstick."""
    h, w = 512, 512
    ramp = np.linspace(60, 200, h, dtype=np.float32)[:, None, None] * np.ones((1, w, 3), np.float32)
    frame = ramp.astype(np.uint8)
    out = render(frame, face_lm, MakeupParams("lipstick", (155, 17, 30), "satin"))
    soft = region_mask(frame.shape, face_lm, "lipstick").full(w, h)
    mask = soft >= 0.9 * soft.max()
    ys, _ = np.nonzero(mask)
    top, bottom = (
        mask & (np.arange(h)[:, None] < np.percentile(ys, 30)),
        mask & (np.arange(h)[:, None] > np.percentile(ys, 70)),
    )
    y_out = out.astype(np.float32) @ np.array([0.2126, 0.7152, 0.0722], np.float32)
    assert y_out[bottom].mean() > y_out[top].mean() + 3


# -- parameters --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"kind": "lipstick", "color": (1, 2, 3), "intensity": 1.5},
            "intensity: expected a number in [0, 1], got 1.5",
        ),
        ({"kind": "lipstick", "color": (1, 2, 3), "intensity": -0.1}, "intensity"),
        ({"kind": "lipstick", "color": (1, 2, 3), "opacity": 2}, "opacity"),
        ({"kind": "lipstick", "color": (1, 2, 300)}, "color: expected an (r, g, b)"),
        ({"kind": "lipstick", "color": (1, 2, 3), "finish": "velvet"}, "finish: expected one of"),
        ({"kind": "glasses", "color": (1, 2, 3)}, "makeup kind: expected one of"),
    ],
)
def test_bad_parameters_are_clear_errors(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match=None) as err:
        MakeupParams(**kwargs)  # type: ignore[arg-type]
    assert message in str(err.value)


def test_bad_landmarks_and_frames(astronaut: NDArray[np.uint8]) -> None:
    with pytest.raises(InputError, match=r"expected \(468, 3\) or \(478, 3\), got \(10, 3\)"):
        render(astronaut, np.zeros((10, 3), np.float32), MakeupParams("lipstick", (1, 2, 3)))
    with pytest.raises(InputError):
        render(
            np.zeros((4, 4), np.uint8), np.zeros((468, 3), np.float32), MakeupParams("lipstick", (1, 2, 3))
        )


def test_face_partly_outside_the_frame(astronaut: NDArray[np.uint8], face_lm) -> None:
    shifted = face_lm.copy()
    shifted[:, 0] -= 220  # lips and the right eye leave the frame on the left
    out = render_look(
        astronaut,
        [shifted],
        [
            MakeupParams(
                k,
                SHADES[k],
                "matte"
                if k not in ("lip_gloss", "foundation")
                else "gloss"
                if k == "lip_gloss"
                else "natural",
            )
            for k in MAKEUP_KINDS
        ],
    )
    assert out.shape == astronaut.shape


# -- stability ---------------------------------------------------------------------------------


def test_mask_follows_a_moving_face(portrait: NDArray[np.uint8], detect: Perception) -> None:
    base = detect.process(portrait).faces[0].landmarks
    tracker = Perception(PerceptionConfig())
    h, w = portrait.shape[:2]
    for i, t in enumerate(moving(16)):
        frame = t.apply(portrait)
        faces = tracker.process(frame, i / 30).faces
        assert faces, i
        expected = base.copy()
        expected[:, :2] = t.points(base[:, :2], w, h)
        mask = region_mask(frame.shape, faces[0], "lipstick").full(w, h) >= 0.5
        assert _iou(mask, _lip_polygon(faces[0].landmarks, frame.shape)) >= 0.9, i
        # and it is where the known motion puts the lips (tracking error included)
        want = np.argwhere(_lip_polygon(expected, frame.shape)).mean(axis=0)
        got = np.argwhere(mask).mean(axis=0)
        iod = rg.interocular(rg.check_landmarks(expected))
        assert np.linalg.norm(got - want) <= 0.03 * iod, (i, got, want)


def test_shimmer_is_stable_on_a_still_face(portrait: NDArray[np.uint8]) -> None:
    """Sparkles are attached to the lips: on a still, noisy sequence the makeup layer changes
    far less from frame to frame than a sparkle pattern drawn afresh each frame would."""
    tracker = Perception(PerceptionConfig())
    ours, fresh = [], []
    prev: tuple[NDArray[np.float32], NDArray[np.float32]] | None = None
    for i, frame in enumerate(noisy_still(portrait, 16, sigma=3.0)):
        face = tracker.process(frame, i / 30).faces[0]
        params = MakeupParams("lipstick", (170, 80, 90), "shimmer", seed=7)
        layer = render(frame, face, params).astype(np.float32) - frame
        layer_fresh = (
            render(frame, face, MakeupParams("lipstick", (170, 80, 90), "shimmer", seed=i)).astype(np.float32)
            - frame
        )
        region = region_mask(frame.shape, face, "lipstick").full(frame.shape[1], frame.shape[0]) > 0.5
        if prev is not None and i > 3:
            ours.append(float(np.abs(layer - prev[0])[region].mean()))
            fresh.append(float(np.abs(layer_fresh - prev[1])[region].mean()))
        prev = (layer, layer_fresh)
    assert max(ours) < 4.0, ours
    assert np.mean(ours) < 0.35 * np.mean(fresh), (np.mean(ours), np.mean(fresh))


# -- golden images -----------------------------------------------------------------------------

GOLDEN_CASES = [
    ("lipstick", "matte", (155, 17, 30)),
    ("lipstick", "satin", (196, 112, 110)),
    ("lipstick", "cream", (120, 40, 70)),
    ("lipstick", "gloss", (214, 96, 120)),
    ("lipstick", "shimmer", (170, 80, 90)),
    ("lipstick", "metallic", (150, 70, 60)),
    ("lip_gloss", "gloss", (220, 130, 140)),
    ("blush", "matte", (226, 114, 120)),
    ("blush", "shimmer", (210, 120, 100)),
    ("eyeshadow", "matte", (122, 74, 110)),
    ("eyeshadow", "shimmer", (180, 140, 80)),
    ("eyeliner", "matte", (30, 26, 32)),
    ("brow", "matte", (70, 45, 30)),
    ("foundation", "natural", (214, 170, 140)),
]


@pytest.mark.parametrize(("kind", "finish", "rgb"), GOLDEN_CASES)
def test_golden_images(
    astronaut: NDArray[np.uint8], face_lm, kind: str, finish: str, rgb: tuple[int, int, int]
) -> None:
    """Renders of the astronaut's face against reviewed images (docs/makeup-contact-sheet.png
    shows them); TRYON_UPDATE_GOLDEN=1 rewrites them after a deliberate change."""
    params = MakeupParams(kind, rgb, finish, wing=kind == "eyeliner", seed=11)
    out = render(astronaut, face_lm, params)[60:180, 160:290]
    # ... and the product is visible in it: the golden differs from the bare face
    assert_golden(out, f"makeup_{kind}_{finish}.png", astronaut[60:180, 160:290], visible=8)
