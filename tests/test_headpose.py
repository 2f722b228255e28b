"""Head pose: the canonical face, recovery of known rotations, following image transforms, and
smoothing."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from numpy.typing import NDArray

from tryon.errors import InputError
from tryon.headpose import (
    HeadPoseSmoother,
    estimate_head_pose,
    euler_from_matrix,
    load_canonical,
    matrix_from_euler,
)
from tryon.perception import Perception, PerceptionConfig
from tryon.testing import Transform

TOLERANCE_DEG = 3.0


def synthetic_face(
    yaw: float, pitch: float, roll: float, iod: float = 80.0, noise: float = 0.0, seed: int = 0
):
    """The canonical face rotated, scaled to ``iod`` pixels, placed at (320, 240), with noise."""
    rng = np.random.default_rng(seed)
    pts = iod * load_canonical().shape @ matrix_from_euler(yaw, pitch, roll).T + [320.0, 240.0, 0.0]
    return pts + rng.normal(0, noise, pts.shape)


def test_canonical_face_is_symmetric_with_known_partners() -> None:
    c = load_canonical()
    assert c.shape.shape == (468, 3)
    np.testing.assert_array_equal(c.mirror[c.mirror], np.arange(468))
    for a, b in [(33, 263), (61, 291), (133, 362), (234, 454)]:  # eye, mouth corners; cheeks
        assert (c.mirror[a], c.mirror[b]) == (b, a)
    for midline in (1, 4, 10, 152, 168, 0, 17):  # nose, forehead, chin, lips' centre
        assert c.mirror[midline] == midline
    np.testing.assert_allclose(c.shape * [-1, 1, 1], c.shape[c.mirror], atol=1e-5)
    assert np.linalg.norm(c.shape[263] - c.shape[33]) == pytest.approx(1.0, abs=1e-5)
    # Frame: x to the subject's left eye, y down to the chin, the nose tip towards the camera.
    assert c.shape[263, 0] > c.shape[33, 0]
    assert c.shape[152, 1] > c.shape[10, 1]
    assert c.shape[1, 2] < c.shape[33, 2]


def test_euler_round_trip() -> None:
    for angles in itertools.product((-50, -10, 0, 25), (-30, 0, 20), (-40, 0, 35)):
        np.testing.assert_allclose(euler_from_matrix(matrix_from_euler(*angles)), angles, atol=1e-9)


@pytest.mark.parametrize("noise", [0.0, 0.8])
def test_known_rotations_are_recovered_within_3_degrees(noise: float) -> None:
    worst = 0.0
    for i, (yaw, pitch, roll) in enumerate(
        itertools.product((-45, -20, 0, 20, 45), (-25, 0, 25), (-30, 0, 30))
    ):
        pose = estimate_head_pose(synthetic_face(yaw, pitch, roll, noise=noise, seed=i))
        worst = max(worst, *np.abs(np.subtract(pose.euler, (yaw, pitch, roll))))
        assert pose.scale == pytest.approx(80.0, rel=0.02)
        np.testing.assert_allclose(pose.translation[:2], [320, 240], atol=1.0)
    assert worst < (0.01 if noise == 0 else TOLERANCE_DEG), worst


def test_signs_of_the_angles_in_the_image() -> None:
    shape = load_canonical().shape
    nose, left_eye = 1, 263
    turned = estimate_head_pose(synthetic_face(30, 0, 0))
    nose_x = turned.project(shape[[nose]])[0, 0]
    assert nose_x < 320 - 10, "yaw > 0: the nose moves to the image's left"
    down = estimate_head_pose(synthetic_face(0, 20, 0))
    assert down.project(shape[[nose]])[0, 1] > 240 + shape[nose, 1] * 80, "pitch > 0: looking down"
    tilted = estimate_head_pose(synthetic_face(0, 0, 20))
    assert tilted.project(shape[[left_eye]])[0, 1] > 240 + shape[left_eye, 1] * 80, "roll > 0: clockwise"


def test_bad_input_says_what_was_expected() -> None:
    with pytest.raises(InputError, match=r"expected \(468, 3\), got \(10, 2\)"):
        estimate_head_pose(np.zeros((10, 2)))
    bad = synthetic_face(0, 0, 0)
    bad[5, 0] = np.nan
    with pytest.raises(InputError, match="finite"):
        estimate_head_pose(bad)


@pytest.fixture(scope="module")
def perception() -> Perception:
    return Perception(PerceptionConfig(static_image_mode=True, face_detector="full"))


def pose_of(perception: Perception, image: NDArray[np.uint8]):
    faces = perception.process(image).faces
    assert len(faces) == 1
    return estimate_head_pose(faces[0].landmarks)


def test_roll_follows_image_rotation_and_yaw_flips_with_the_mirror_image(
    perception: Perception, astronaut: NDArray[np.uint8]
) -> None:
    base = pose_of(perception, astronaut)
    for angle in (-30, -15, 15, 30):  # OpenCV: counter-clockwise on screen, i.e. roll -angle
        rotated = pose_of(perception, Transform(angle=angle).apply(astronaut))
        assert rotated.roll - base.roll == pytest.approx(-angle, abs=TOLERANCE_DEG)
        assert rotated.yaw == pytest.approx(base.yaw, abs=TOLERANCE_DEG)
        assert rotated.pitch == pytest.approx(base.pitch, abs=TOLERANCE_DEG)
    # The mirror image of a tilted head is tilted the other way (and turned the other way).
    tilted = Transform(angle=20).apply(astronaut)
    a, b = pose_of(perception, tilted), pose_of(perception, np.ascontiguousarray(tilted[:, ::-1]))
    assert abs(a.roll) > 15
    assert b.roll == pytest.approx(-a.roll, abs=TOLERANCE_DEG)
    assert b.yaw == pytest.approx(-a.yaw, abs=TOLERANCE_DEG)
    scaled = pose_of(perception, Transform(scale=0.6).apply(astronaut))
    assert scaled.scale / base.scale == pytest.approx(0.6, rel=0.05)


def test_smoother_steadies_jitter_follows_a_turn_and_resets() -> None:
    truth = estimate_head_pose(synthetic_face(10, 5, -5))
    smoother = HeadPoseSmoother()
    raw, smooth = [], []
    for i in range(60):
        pose = estimate_head_pose(synthetic_face(10, 5, -5, noise=1.5, seed=i))
        raw.append(pose.euler)
        smooth.append(smoother.update(pose, i / 30).euler)
    jitter_raw = np.std(np.asarray(raw)[20:], axis=0)
    jitter_smooth = np.std(np.asarray(smooth)[20:], axis=0)
    assert (jitter_smooth < 0.35 * jitter_raw).all(), (jitter_raw, jitter_smooth)
    np.testing.assert_allclose(np.mean(np.asarray(smooth)[20:], axis=0), truth.euler, atol=0.5)
    # A head turn at 60°/s: followed within 1.5° (the filter speeds up with the motion).
    for k in range(20):
        yaw = 10 + 2 * (k + 1)
        pose = estimate_head_pose(synthetic_face(yaw, 5, -5, noise=1.5, seed=100 + k))
        assert smoother.update(pose, (60 + k) / 30).yaw == pytest.approx(yaw, abs=1.5)
    smoother.reset()
    first = smoother.update(estimate_head_pose(synthetic_face(-30, 0, 0)), 10.0)
    assert first.yaw == pytest.approx(-30, abs=0.01)


def test_tracked_faces_carry_a_smoothed_head_pose_that_follows_the_motion(
    portrait: NDArray[np.uint8],
) -> None:
    from tryon.testing import moving

    perception = Perception(PerceptionConfig())
    transforms = moving(30)
    base = estimate_head_pose(
        Perception(PerceptionConfig(static_image_mode=True)).process(portrait).faces[0].landmarks
    )
    errors = []
    for i, t in enumerate(transforms):
        faces = perception.process(t.apply(portrait), i / 30).faces
        assert len(faces) == 1
        pose = faces[0].head_pose
        assert pose is not None
        errors.append(abs((pose.roll - base.roll) - (-t.angle)))
    # The smoother lags a little on the ±15° sway; within 3° once it has settled.
    assert max(errors[3:]) < TOLERANCE_DEG, np.round(errors, 2)
    perception.reset()
    assert perception.process(portrait, 10.0).faces[0].head_pose is not None
