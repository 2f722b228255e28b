"""Pure pre- and post-processing functions: ROI geometry, SSD decoding and NMS, smoothing."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tryon.detect.anchors import AnchorOptions, generate_anchors
from tryon.detect.ssd import FACE_FULL_RANGE, FACE_SHORT_RANGE, PALM, POSE, decode_boxes, weighted_nms
from tryon.geometry import (
    Roi,
    apply_affine,
    crop,
    letterbox,
    remove_letterbox,
    roi_from_alignment,
    roi_iou,
    rotation_between,
    tensor_to_image,
)
from tryon.landmarks.face import roi_from_landmarks
from tryon.segment.selfie import smooth_mask
from tryon.smooth.one_euro import LandmarkSmoother, OneEuroParams, VisibilitySmoother


@pytest.mark.parametrize(
    ("spec", "count"), [(FACE_SHORT_RANGE, 896), (FACE_FULL_RANGE, 2304), (PALM, 2016), (POSE, 2254)]
)
def test_anchor_counts_match_the_models(spec: object, count: int) -> None:
    anchors = generate_anchors(spec.anchors)  # type: ignore[attr-defined]
    assert anchors.shape == (count, 2)
    assert anchors.min() > 0
    assert anchors.max() < 1


def test_anchor_order_is_row_major_with_repeats() -> None:
    a = generate_anchors(AnchorOptions(32, 32, (16, 16)))
    # 2x2 cells, two layers of stride 16 with one extra interpolated anchor each: 4 per cell.
    assert a.shape == (16, 2)
    np.testing.assert_allclose(a[:4], [[0.25, 0.25]] * 4)
    np.testing.assert_allclose(a[4], [0.75, 0.25])
    np.testing.assert_allclose(a[8], [0.25, 0.75])


def test_decode_boxes_uses_anchor_offsets_and_scale() -> None:
    anchors = np.array([[0.5, 0.25]], np.float32)
    raw = np.array([[12.8, -6.4, 25.6, 12.8, 0.0, 0.0, 6.4, 6.4]], np.float32)
    boxes, kps = decode_boxes(raw, anchors, 128.0, 2)
    np.testing.assert_allclose(boxes[0], [0.5, 0.15, 0.7, 0.25], atol=1e-6)
    np.testing.assert_allclose(kps[0], [[0.5, 0.25], [0.55, 0.3]], atol=1e-6)


def test_weighted_nms_averages_groups_and_keeps_top_score() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]], np.float32)
    kps = np.array([[[5, 5]], [[6, 6]], [[55, 55]]], np.float32)
    scores = np.array([0.9, 0.6, 0.8], np.float32)
    out = weighted_nms(boxes, kps, scores, 0.3)
    assert [round(s, 3) for _, _, s in out] == [0.9, 0.8]
    np.testing.assert_allclose(out[0][0], (boxes[0] * 0.9 + boxes[1] * 0.6) / 1.5, atol=1e-5)
    np.testing.assert_allclose(out[0][1], [[5.4, 5.4]], atol=1e-5)
    np.testing.assert_allclose(out[1][0], boxes[2])


def test_rotation_between_matches_mediapipe_convention() -> None:
    assert rotation_between(np.array([0.0, 0.0]), np.array([10.0, 0.0]), 0.0) == pytest.approx(0.0)
    # End point below the start (y grows downwards): positive rotation for target 0.
    assert rotation_between(np.array([0.0, 0.0]), np.array([10.0, 10.0]), 0.0) == pytest.approx(math.pi / 4)
    # Pose/hand convention: target 90°, the second point straight above the first gives 0.
    assert rotation_between(np.array([5.0, 10.0]), np.array([5.0, 0.0]), math.pi / 2) == pytest.approx(0.0)


@settings(max_examples=40, deadline=None)
@given(
    cx=st.floats(50, 500),
    cy=st.floats(50, 500),
    w=st.floats(20, 300),
    h=st.floats(20, 300),
    angle=st.floats(-math.pi, math.pi),
    u=st.floats(0, 1),
    v=st.floats(0, 1),
)
def test_tensor_map_puts_tensor_corners_on_roi_corners(
    cx: float, cy: float, w: float, h: float, angle: float, u: float, v: float
) -> None:
    roi = Roi(cx, cy, w, h, angle)
    m = tensor_to_image(roi, 64, 32)
    corners = apply_affine(m, np.array([[0, 0], [64, 0], [64, 32], [0, 32]], np.float32))
    np.testing.assert_allclose(corners, roi.corners(), atol=1e-3)
    # the tensor centre is the ROI centre, and distances scale by the ROI size
    centre = apply_affine(m, np.array([[32, 16]], np.float32))[0]
    np.testing.assert_allclose(centre, [cx, cy], atol=1e-3)
    p = apply_affine(m, np.array([[u * 64, v * 32]], np.float32))[0]
    local = np.array([[math.cos(angle), math.sin(angle)], [-math.sin(angle), math.cos(angle)]]) @ (
        p - [cx, cy]
    )
    np.testing.assert_allclose(local, [(u - 0.5) * w, (v - 0.5) * h], atol=1e-2)


def test_crop_samples_the_roi() -> None:
    frame = np.zeros((100, 200, 3), np.uint8)
    frame[40:60, 120:140] = 255  # a white square centred at (130, 50)
    out = crop(frame, Roi(130, 50, 20, 20, 0.0), 20, 20)
    assert out.mean() > 240
    out = crop(frame, Roi(130, 50, 40, 40, math.pi / 4), 40, 40)
    assert out[20, 20].min() == 255  # centre
    assert out[0, 0].max() == 0  # corner of the rotated window is outside the square


def test_letterbox_and_its_removal_are_inverse() -> None:
    roi, pad = letterbox(Roi(100, 100, 200, 100), 128, 128)
    assert (roi.width, roi.height) == (200, 200)
    assert pad == (0.0, 0.25, 0.0, 0.25)
    xy = np.array([[0.5, 0.25], [0.5, 0.75]], np.float32)
    np.testing.assert_allclose(remove_letterbox(xy, pad), [[0.5, 0.0], [0.5, 1.0]])


def test_roi_transform_shift_square_scale() -> None:
    roi = Roi(100, 100, 40, 20, math.pi / 2).transformed(scale=2.0, shift_y=-0.5, square_long=True)
    # shift of half the height "up" in the ROI's frame, rotated by 90°: +x on screen.
    assert roi.cx == pytest.approx(110)
    assert roi.cy == pytest.approx(100)
    assert (roi.width, roi.height) == (80, 80)


def test_alignment_roi_is_square_around_the_centre() -> None:
    roi = roi_from_alignment(np.array([100.0, 200.0]), np.array([100.0, 150.0]), math.pi / 2)
    assert (roi.cx, roi.cy, roi.width, roi.height) == (100, 200, 100, 100)
    assert roi.rotation == pytest.approx(0.0)


@pytest.mark.parametrize("degrees", [-40, 0, 25])
def test_face_roi_from_landmarks_follows_head_roll(degrees: float) -> None:
    rng = np.random.default_rng(1)
    pts = rng.uniform(-50, 50, (468, 3)).astype(np.float32)
    pts[33, :2], pts[263, :2] = (-30, 0), (30, 0)
    a = math.radians(degrees)
    rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    pts[:, :2] = pts[:, :2] @ rot.T + (300, 200)
    roi = roi_from_landmarks(pts)
    assert roi.rotation == pytest.approx(a, abs=1e-5)
    assert roi.width == roi.height


def test_roi_iou() -> None:
    assert roi_iou(Roi(10, 10, 10, 10), Roi(10, 10, 10, 10)) == pytest.approx(1.0)
    assert roi_iou(Roi(10, 10, 10, 10), Roi(15, 10, 10, 10)) == pytest.approx(50 / 150)
    assert roi_iou(Roi(10, 10, 10, 10), Roi(100, 10, 10, 10)) == 0.0


def test_one_euro_is_still_when_still_and_follows_a_step() -> None:
    f = LandmarkSmoother(OneEuroParams(min_cutoff=0.05, beta=80.0))
    rng = np.random.default_rng(0)
    base = np.zeros((10, 2))
    # 0.3 px of noise on a 200 px object: the filter must at least halve it...
    outs = [f.update(base + rng.normal(0, 0.3, base.shape), i / 30, 200.0) for i in range(60)]
    assert np.std(np.stack(outs[20:]), axis=0).mean() < 0.15
    # ...and a 50 px jump must be followed within 3 frames (within 5% of the jump).
    step = [f.update(base + 50.0, (60 + i) / 30, 200.0) for i in range(3)]
    assert np.abs(step[-1] - 50.0).max() < 2.5


def test_one_euro_reset_and_non_increasing_time() -> None:
    f = LandmarkSmoother(OneEuroParams(min_cutoff=0.05, beta=0.0))
    f.update(np.zeros((1, 2)), 0.0, 1.0)
    held = f.update(np.ones((1, 2)), 1 / 30, 1.0)
    assert 0 < held[0, 0] < 0.1
    np.testing.assert_array_equal(f.update(np.full((1, 2), 5.0), 1 / 30, 1.0), [[5.0, 5.0]])  # same time: raw
    f.reset()
    np.testing.assert_array_equal(
        f.update(np.full((1, 2), 7.0), 2.0, 1.0), [[7.0, 7.0]]
    )  # first sample passes


def test_visibility_low_pass() -> None:
    v = VisibilitySmoother(0.1)
    assert v.update(np.array([1.0]))[0] == 1.0
    assert v.update(np.array([0.0]))[0] == pytest.approx(0.9)


def test_mask_smoothing_keeps_confident_pixels_and_blends_edges() -> None:
    prev = np.array([[0.0, 0.0, 1.0]], np.float32)
    cur = np.array([[1.0, 0.5, 0.0]], np.float32)
    out = smooth_mask(cur, prev, 0.6)
    assert out[0, 0] == 1.0  # confident: follows the current frame at once
    assert out[0, 2] == 0.0
    assert out[0, 1] == pytest.approx(0.5 + 0.6 * (0.0 - 0.5))  # uncertain: blended
    np.testing.assert_array_equal(smooth_mask(cur, None, 0.6), cur)
