"""Pose post-processing as pure functions, on hand-made arrays with known answers: decoding,
heatmap refinement (MediaPipe's RefineLandmarksFromHeatmap, kernel 9), projection, world
rotation, the mask warp and the ROI helpers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.typing import NDArray

from tryon.detect.ssd import Detection
from tryon.errors import InputError
from tryon.geometry import Roi
from tryon.landmarks.pose import (
    aux_object_scale,
    decode_landmarks,
    detection_to_roi,
    mask_to_frame,
    project_landmarks,
    refine_from_heatmap,
    rotate_world,
)

BIG = 30.0
"""A logit whose sigmoid is 1 in float32."""


def logit(p: float) -> float:
    return math.log(p / (1 - p))


def heatmap(n: int = 1, size: int = 64, fill: float = -BIG) -> NDArray[np.float32]:
    return np.full((size, size, n), fill, np.float32)


# ---- decoding -------------------------------------------------------------------------------------


def test_decode_scales_xyz_and_applies_sigmoid() -> None:
    raw = np.zeros((1, 39 * 5), np.float32)
    raw[0, :5] = [128.0, 64.0, -25.6, 0.0, logit(0.9)]
    raw[0, 5:10] = [256.0, 0.0, 51.2, BIG, -BIG]
    lm = decode_landmarks(raw)
    assert lm.shape == (39, 5)
    assert lm.dtype == np.float32
    np.testing.assert_allclose(lm[0], [0.5, 0.25, -0.1, 0.5, 0.9], rtol=1e-6)
    np.testing.assert_allclose(lm[1], [1.0, 0.0, 0.2, 1.0, 0.0], atol=1e-7)


def test_decode_rejects_a_partial_row() -> None:
    with pytest.raises(InputError, match="multiple of 5"):
        decode_landmarks(np.zeros(12, np.float32))


# ---- heatmap refinement ---------------------------------------------------------------------------


def test_single_confident_cell_snaps_to_its_index() -> None:
    hm = heatmap()
    hm[20, 10, 0] = BIG  # row 20, column 10
    out = refine_from_heatmap(np.array([[12.3 / 64, 18.9 / 64]], np.float32), hm)
    # The weighted mean of cell indices divided by 64, no half-cell offset.
    np.testing.assert_allclose(out, [[10 / 64, 20 / 64]], atol=1e-6)


def test_two_cells_average_by_confidence() -> None:
    hm = heatmap()
    hm[30, 30, 0] = BIG  # conf 1
    hm[30, 33, 0] = logit(0.5)  # conf 0.5; the rest ≈ 0
    out = refine_from_heatmap(np.array([[31.5 / 64, 30.5 / 64]], np.float32), hm)
    np.testing.assert_allclose(out[0, 0], (30 * 1 + 33 * 0.5) / 1.5 / 64, atol=1e-6)
    np.testing.assert_allclose(out[0, 1], 30 / 64, atol=1e-6)


def test_kernel_is_nine_cells_wide() -> None:
    hm = heatmap()
    hm[32, 36, 0] = BIG  # 4 columns right of the centre cell: inside a 9-wide window
    out = refine_from_heatmap(np.array([[32.2 / 64, 32.2 / 64]], np.float32), hm)
    np.testing.assert_allclose(out, [[36 / 64, 32 / 64]], atol=1e-6)
    hm = heatmap()
    hm[32, 37, 0] = BIG  # 5 columns right: outside
    xy = np.array([[32.2 / 64, 32.2 / 64]], np.float32)
    np.testing.assert_array_equal(refine_from_heatmap(xy, hm), xy)
    # With kernel 7 (the graph's nominal value) 4 columns away is outside too.
    hm[32, 36, 0] = BIG
    np.testing.assert_array_equal(refine_from_heatmap(xy, hm, kernel_size=7), xy)


def test_low_confidence_leaves_the_point() -> None:
    hm = heatmap(fill=logit(0.4))  # every cell 0.4 < 0.5
    xy = np.array([[0.3, 0.6]], np.float32)
    np.testing.assert_array_equal(refine_from_heatmap(xy, hm), xy)
    hm[38, 19, 0] = logit(0.5)  # max exactly 0.5 is enough (≥)
    out = refine_from_heatmap(xy, hm)
    assert not np.array_equal(out, xy), "a window whose max is 0.5 should refine"


def test_window_clipped_at_the_edge() -> None:
    hm = heatmap(fill=logit(0.5))  # uniform: the answer is the mean index of the clipped window
    out = refine_from_heatmap(np.array([[0.5 / 64, 63.5 / 64]], np.float32), hm)
    # columns 0..4, rows 59..63
    np.testing.assert_allclose(out, [[2 / 64, 61 / 64]], atol=1e-6)


def test_outside_points_follow_mediapipes_bounds_check() -> None:
    hm = heatmap(fill=logit(0.5))
    xy = np.array(
        [
            [-0.1, 0.5],  # column < 0: skipped
            [1.0, 0.5],  # column 64: skipped
            [0.5, -0.1],  # row < 0: skipped
            [-0.01, 0.5],  # column truncates toward zero to 0: refined
            [0.5, 65.5 / 64],  # row 65 is not checked: rows 61..63 remain, refined
            [0.5, 70 / 64],  # row 70: empty window, sum 0, left alone
            [np.nan, 0.5],  # not finite: left alone
        ],
        np.float32,
    )
    hm = np.repeat(hm, len(xy), axis=2)
    out = refine_from_heatmap(xy, hm)
    for i in (0, 1, 2, 5):
        np.testing.assert_array_equal(out[i], xy[i])
    np.testing.assert_allclose(out[3], [2 / 64, 32 / 64], atol=1e-6)
    np.testing.assert_allclose(out[4], [32 / 64, 62 / 64], atol=1e-6)
    assert np.isnan(out[6, 0])


def test_each_landmark_reads_its_own_channel() -> None:
    hm = heatmap(n=2)
    hm[10, 10, 0] = BIG
    hm[50, 50, 1] = BIG
    hm[12, 12, 1] = BIG  # near landmark 0 but in the other channel: ignored
    out = refine_from_heatmap(np.array([[11 / 64, 11 / 64], [49 / 64, 49 / 64]], np.float32), hm)
    np.testing.assert_allclose(out, [[10 / 64, 10 / 64], [50 / 64, 50 / 64]], atol=1e-6)


def test_refinement_checks_the_shapes() -> None:
    with pytest.raises(InputError, match="points"):
        refine_from_heatmap(np.zeros((3, 2), np.float32), heatmap(n=2))


# ---- projection -----------------------------------------------------------------------------------


def test_projection_without_rotation() -> None:
    roi = Roi(100.0, 200.0, 256.0, 256.0)
    xyz = np.array([[0.5, 0.5, 0.1], [0.0, 0.0, 0.0], [1.0, 0.25, -0.5]], np.float32)
    out = project_landmarks(xyz, roi, (0.0, 0.0, 0.0, 0.0))
    np.testing.assert_allclose(
        out, [[100.0, 200.0, 25.6], [-28.0, 72.0, 0.0], [228.0, 136.0, -128.0]], atol=1e-4
    )


def test_projection_with_rotation_and_letterbox() -> None:
    # A 100×200 ROI letterboxed into a square tensor: padding 0.25 left and right.
    roi = Roi(50.0, 60.0, 100.0, 200.0, math.pi / 2)
    xyz = np.array([[0.75, 0.5, 0.1], [0.5, 0.0, 0.0]], np.float32)
    out = project_landmarks(xyz, roi, (0.25, 0.0, 0.25, 0.0))
    # Tensor x 0.75 → ROI x 1.0 (right edge, +50 px along the ROI's x axis, which points down
    # after a quarter turn clockwise); y 0 → −100 px along the ROI's y axis (it points left): right.
    np.testing.assert_allclose(out[0, :2], [50, 110], atol=1e-4)
    np.testing.assert_allclose(out[1, :2], [150, 60], atol=1e-4)
    # z: 0.1 / (1 − 0.5) × 100 px = 20 px, i.e. raw_z × padded width / 256.
    np.testing.assert_allclose(out[0, 2], 20.0, atol=1e-4)


def test_world_rotation() -> None:
    w = np.array([[1.0, 0.0, 0.3], [0.0, 2.0, -1.0]], np.float32)
    out = rotate_world(w, math.pi / 2)
    np.testing.assert_allclose(out, [[0.0, 1.0, 0.3], [-2.0, 0.0, -1.0]], atol=1e-6)


def test_mask_goes_back_into_the_frame() -> None:
    logits = np.full((1, 256, 256, 1), -BIG, np.float32)
    logits[0, :, 128:, 0] = BIG  # right half of the ROI is person
    roi = Roi(100.0, 50.0, 128.0, 128.0)  # tensor px = 2 × ROI px
    mask = mask_to_frame(logits, roi, 300, 120)
    assert mask.shape == (120, 300)
    assert mask.dtype == np.float32
    assert mask[50, 120] == 1.0  # right half
    assert mask[50, 80] < 1e-6  # left half
    assert mask[50, 250] == 0.0  # outside the ROI: zero
    assert float(mask.min()) >= 0.0
    assert float(mask.max()) <= 1.0


# ---- ROIs -----------------------------------------------------------------------------------------


def test_detection_roi_from_alignment_points() -> None:
    det = Detection((0, 0, 1, 1), np.array([[100, 300], [100, 200], [0, 0], [0, 0]], np.float32), 0.9)
    roi = detection_to_roi(det)  # hip centre (100, 300), body point 100 px straight up
    assert (roi.cx, roi.cy) == (100, 300)
    assert roi.width == pytest.approx(250)  # 2 × 100 × 1.25
    assert roi.height == pytest.approx(250)
    assert roi.rotation == pytest.approx(0.0)
    det = Detection((0, 0, 1, 1), np.array([[0, 0], [50, 0], [0, 0], [0, 0]], np.float32), 0.9)
    assert detection_to_roi(det).rotation == pytest.approx(math.pi / 2)  # body lying to the right


def test_aux_object_scale_is_the_unscaled_alignment_side() -> None:
    assert aux_object_scale(np.array([[0, 0], [30, 40]], np.float32)) == pytest.approx(100.0)
