"""Hands stage (palm detection → 21 hand landmarks, tracked) against mediapipe 0.10.14's
``mp.solutions.hands``, which runs the same models through TFLite.

There are no licensed hand photos in the repo, so the subjects are (1) cartoon hands drawn here
(the palm detector scores them ~0.94 and the landmark model ~0.93 presence, so default thresholds
apply), and (2) skimage images where the detector fires weakly with thresholds lowered to 0.1/0.0
(docs/mediapipe-params.md §6). On those the landmark model sees no hand (presence ~1e-3) and is
very sensitive to its input, so they are a hard test of the pre/post-processing.

Handedness: MediaPipe assumes a mirrored selfie; ours is the person's own hand, so our "Left" is
MediaPipe's "Right".

Two sampling set-ups are compared. "stock": the pipeline as shipped; the palm detector's input is
sampled by ``tryon.geometry.crop`` (modern OpenCV, 1–3 LSB off MediaPipe's OpenCV 3.4 warp).
"exact": both crops are sampled bit for bit like MediaPipe (``exact_sampling``), which shows
that everything else matches to hundredths of a pixel.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import pytest
from numpy.typing import NDArray

from tryon.detect.ssd import PALM, Detection, SsdDetector
from tryon.errors import InputError
from tryon.geometry import Roi, crop, crop_exact, normalize_angle
from tryon.landmarks.hand import (
    ROI_SUBSET,
    HandLandmarkModel,
    HandLandmarkOutput,
    decode_landmarks,
    decode_world,
    landmarks_rotation,
    landmarks_to_rect,
    landmarks_to_roi,
    palm_to_roi,
)
from tryon.runtime.session import ModelLoader, RuntimeConfig
from tryon.runtime.store import ModelStore
from tryon.testing import ONE_HAND_ROTATED, TWO_HANDS, hands_image
from tryon.track.hands import HandTracker, HandTrackerConfig, associate, drop_duplicates

Image = NDArray[np.uint8]


def skimage_rgb(name: str) -> Image:
    from skimage import data

    img = np.asarray(getattr(data, name)())
    if img.ndim == 2:
        img = np.stack([img] * 3, axis=-1)
    return np.ascontiguousarray(img[..., :3].astype(np.uint8))


def affine(img: Image, angle: float, scale: float, dx: float, dy: float) -> Image:
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, scale)
    m[:, 2] += np.array([dx, dy])
    return np.ascontiguousarray(cv2.warpAffine(img, m, (w, h), borderMode=cv2.BORDER_REFLECT))


# --- models and the MediaPipe reference -------------------------------------------------------


@pytest.fixture(scope="module")
def loader(store: ModelStore) -> ModelLoader:
    return ModelLoader(store, RuntimeConfig(providers=("cpu",)))


@pytest.fixture(scope="module")
def detector(loader: ModelLoader) -> SsdDetector:
    return SsdDetector(loader.load("palm_detection_full"), PALM)


@pytest.fixture(scope="module")
def landmarker(loader: ModelLoader) -> HandLandmarkModel:
    return HandLandmarkModel(loader.load("hand_landmark_full"))


@dataclass(frozen=True)
class MpHand:
    landmarks: NDArray[np.float64]
    world: NDArray[np.float64]
    label: str
    score: float


def mp_run(
    frames: Sequence[Image], static: bool, max_hands: int, det: float, trk: float
) -> list[list[MpHand]]:
    import mediapipe as mp

    out = []
    with mp.solutions.hands.Hands(
        static_image_mode=static,
        max_num_hands=max_hands,
        min_detection_confidence=det,
        min_tracking_confidence=trk,
    ) as hands:
        for frame in frames:
            h, w = frame.shape[:2]
            r = hands.process(frame)
            found = []
            for lm, wl, hd in zip(
                r.multi_hand_landmarks or [],
                r.multi_hand_world_landmarks or [],
                r.multi_handedness or [],
                strict=True,
            ):
                found.append(
                    MpHand(
                        np.array([[p.x * w, p.y * h, p.z * w] for p in lm.landmark]),
                        np.array([[p.x, p.y, p.z] for p in wl.landmark]),
                        hd.classification[0].label,
                        hd.classification[0].score,
                    )
                )
            out.append(found)
    return out


MIRROR = {"Left": "Right", "Right": "Left"}


def compare(ours: Sequence[Any], ref: Sequence[MpHand], exact: bool, label: str) -> list[float]:
    """Count, mapped handedness, landmarks and world landmarks; returns mean xy errors in px."""
    assert len(ours) == len(ref), f"{label}: {len(ours)} hands, MediaPipe {len(ref)}"
    errors = []
    for i, (hand, want) in enumerate(zip(ours, ref, strict=True)):
        size = hand.roi.width
        xy = float(np.linalg.norm(hand.landmarks[:, :2] - want.landmarks[:, :2], axis=1).mean())
        z = float(np.abs(hand.landmarks[:, 2] - want.landmarks[:, 2]).mean())
        world = float(np.abs(hand.world - want.world).max())
        errors.append(xy)
        where = f"{label} hand {i}: xy {xy:.4f} px ({100 * xy / size:.3f}% of ROI {size:.0f}), z {z:.4f}"
        if exact:
            assert xy <= 0.05, where
            assert z <= 0.1, where
            assert world <= 1e-3, f"{where}, world {world:.2e} m"
        else:
            assert xy <= 0.01 * size, where
            assert z <= 0.01 * size, where
            assert world <= 1e-2, f"{where}, world {world:.2e} m"
        if exact or want.score >= 0.6:  # near 0.5 the stock detector may tip the label
            assert hand.handedness == MIRROR[want.label], where
            if exact:
                assert hand.handedness_score == pytest.approx(want.score, abs=5e-3), where
    return errors


# --- (a) image mode, (b) video mode against MediaPipe -----------------------------------------

IMAGE_CASES: dict[str, tuple[Callable[[], Image], float, float, int]] = {
    # name: (image, min_detection_confidence, min_tracking_confidence, hands MediaPipe finds)
    "two-cartoon-hands": (lambda: hands_image(TWO_HANDS), 0.5, 0.5, 2),
    "cartoon-hand-rotated": (lambda: hands_image(ONE_HAND_ROTATED), 0.5, 0.5, 1),
    "coffee": (lambda: skimage_rgb("coffee"), 0.1, 0.0, 2),
    "camera": (lambda: skimage_rgb("camera"), 0.1, 0.0, 2),
    "astronaut": (lambda: skimage_rgb("astronaut"), 0.1, 0.0, 1),
    "coins": (lambda: skimage_rgb("coins"), 0.1, 0.0, 2),
    "retina": (lambda: skimage_rgb("retina"), 0.1, 0.0, 1),
}
# As shipped, astronaut, coins and retina are 0.8%, 0.96% and 2.2% of the ROI off (see docstring).
# With the stock (modern OpenCV) sampling, only images the models read as hands are stable enough
# to compare at 1% of the ROI; the exact-sampling cases cover the low-confidence skimage images.
STOCK_CASES = ["two-cartoon-hands", "cartoon-hand-rotated", "coffee"]


@pytest.mark.parametrize(
    ("name", "exact"),
    [(n, False) for n in STOCK_CASES] + [(n, True) for n in IMAGE_CASES],
)
def test_image_mode_matches_mediapipe(
    name: str,
    exact: bool,
    detector: SsdDetector,
    landmarker: HandLandmarkModel,
    request: pytest.FixtureRequest,
) -> None:
    if exact:
        detector = SsdDetector(detector.model, detector.spec, exact_sampling=True)
        landmarker = HandLandmarkModel(landmarker.model, exact_sampling=True)
    make, det, trk, count = IMAGE_CASES[name]
    img = make()
    (ref,) = mp_run([img], static=True, max_hands=4, det=det, trk=trk)
    assert len(ref) == count
    config = HandTrackerConfig(
        max_hands=4, min_detection_confidence=det, min_tracking_confidence=trk, static_image_mode=True
    )
    hands = HandTracker(detector, landmarker, config).update(img, 0.0, {})
    compare(hands, ref, exact, name)
    assert [h.id for h in hands] == list(range(len(hands)))


def test_video_mode_matches_mediapipe(detector: SsdDetector, landmarker: HandLandmarkModel) -> None:
    base = hands_image(TWO_HANDS)
    frames = [affine(base, angle=4.0 * i, scale=1.0 - 0.02 * i, dx=5 * i, dy=-3 * i) for i in range(8)]
    ref = mp_run(frames, static=False, max_hands=2, det=0.5, trk=0.5)
    tracker = HandTracker(detector, landmarker, HandTrackerConfig(max_hands=2, smooth=False))
    for i, frame in enumerate(frames):
        hands = tracker.update(frame, i / 30, {})
        compare(hands, ref[i], exact=False, label=f"frame {i}")
        assert [h.id for h in hands] == [0, 1]
    assert tracker.detector_runs == 1


# --- (c) pure functions: ROI conversions with hand-made geometry ------------------------------

# An upright right hand (fingers towards −y), wrist at the origin; the palm centre
# ((lm5 + lm13)/2 + lm9)/2 lies straight above the wrist, so its rotation is 0.
UPRIGHT = np.array(
    [
        *[(0, 0), (30, -15), (50, -35), (62, -55), (70, -72)],  # wrist, thumb
        *[(25, -80), (28, -110), (30, -130), (31, -148)],  # index
        *[(0, -85), (0, -120), (0, -142), (0, -160)],  # middle
        *[(-25, -80), (-27, -112), (-28, -132), (-29, -150)],  # ring
        *[(-45, -70), (-50, -95), (-53, -110), (-55, -125)],  # pinky
    ],
    dtype=np.float64,
)


def rotate(xy: NDArray[np.float64], angle: float, offset: tuple[float, float]) -> NDArray[np.float64]:
    """Rotate by ``angle`` in the ROI convention (clockwise on screen), then translate."""
    c, s = math.cos(angle), math.sin(angle)
    return np.asarray(xy @ np.array([[c, s], [-s, c]]) + offset, dtype=np.float64)


@pytest.mark.parametrize("degrees", [-150, -60, 0, 30, 90, 179])
def test_landmarks_to_roi_follows_a_rotated_hand(degrees: float) -> None:
    angle = math.radians(degrees)
    subset = UPRIGHT[list(ROI_SUBSET)]
    lo, hi = subset.min(axis=0), subset.max(axis=0)
    bw, bh = hi - lo
    centre = rotate(((lo + hi) / 2)[None], angle, (300, 200))[0]
    hand = rotate(UPRIGHT, angle, (300, 200))

    assert landmarks_rotation(hand) == pytest.approx(normalize_angle(angle), abs=1e-9)
    rect = landmarks_to_rect(hand)
    assert (rect.width, rect.height) == pytest.approx((bw, bh), abs=1e-6)
    assert (rect.cx, rect.cy) == pytest.approx(tuple(centre), abs=1e-6)

    roi = landmarks_to_roi(hand)
    side = 2.0 * max(bw, bh)
    shifted = centre + rotate(np.array([[0.0, -0.1 * bh]]), angle, (0, 0))[0]
    assert (roi.width, roi.height) == pytest.approx((side, side), abs=1e-6)
    assert (roi.cx, roi.cy) == pytest.approx(tuple(shifted), abs=1e-6)
    assert roi.rotation == pytest.approx(normalize_angle(angle), abs=1e-9)


def test_palm_detection_to_roi() -> None:
    kp = np.zeros((7, 2), np.float32)
    kp[0], kp[2] = (130, 140), (130, 100)  # wrist below the middle-finger base: upright
    roi = palm_to_roi(Detection((100, 100, 160, 140), kp, 0.9))
    assert (roi.cx, roi.cy, roi.width, roi.height, roi.rotation) == pytest.approx((130, 100, 156, 156, 0))
    kp[0], kp[2] = (110, 120), (150, 120)  # fingers to the right: rotated by 90°, shift turns to +x
    roi = palm_to_roi(Detection((100, 100, 160, 140), kp, 0.9))
    assert (roi.cx, roi.cy, roi.width, roi.rotation) == pytest.approx((150, 120, 156, math.pi / 2))


def test_decoding_maps_tensor_pixels_to_the_image() -> None:
    raw = np.zeros((21, 3), np.float32)
    raw[0] = (112, 112, 0.4 * 224)
    raw[1] = (0, 0, 0)
    raw[2] = (224, 112, 0)
    pts = decode_landmarks(raw.reshape(-1), Roi(100, 50, 448, 448, 0.0))
    assert pts[0] == pytest.approx((100, 50, 448))
    assert pts[1] == pytest.approx((100 - 224, 50 - 224, 0))
    turned = decode_landmarks(raw.reshape(-1), Roi(100, 50, 448, 448, math.pi / 2))
    assert turned[2, :2] == pytest.approx((100, 50 + 224), abs=1e-3)  # ROI's +x points down
    world = decode_world(np.tile(np.array([1, 0, 0.5], np.float32), 21), math.pi / 2)
    assert world[0] == pytest.approx((0, 1, 0.5), abs=1e-6)


def test_handedness_is_the_persons_own_hand() -> None:
    def out(p: float) -> HandLandmarkOutput:
        zeros = np.zeros((21, 3), np.float32)
        return HandLandmarkOutput(zeros, zeros, 0.9, p, Roi(0, 0, 1, 1))

    assert out(0.8).handedness == ("Right", 0.8)  # MediaPipe "Left" (mirrored) = the right hand
    label, score = out(0.3).handedness
    assert label == "Left"
    assert score == pytest.approx(0.7)


def test_association_and_duplicates() -> None:
    a, b = Roi(100, 100, 80, 80), Roi(300, 100, 80, 80)
    a_moved = Roi(105, 102, 80, 80, rotation=1.0)  # rotation is ignored
    assert associate([(a, "det-a"), (b, "det-b"), (a_moved, "track")]) == [(b, "det-b"), (a_moved, "track")]
    assert associate([(a, "det-1"), (a_moved, "det-2")]) == [(a_moved, "det-2")]
    assert drop_duplicates([a, b, a_moved], [0.6, 0.5, 0.9]) == [1, 2]


def test_fixed_point_sampling_is_the_documented_integer_warp() -> None:
    img = skimage_rgb("coffee")
    roi = Roi(580.3, 390.7, 300.0, 300.0, 1.1)  # partly outside: exercises the replicated border
    got = crop_exact(img, roi, 224, 224)
    # Doc §2: 1/32-pixel source positions, weights summing to 32768, (Σ + 16384) >> 15, clamped.
    box = ((roi.cx, roi.cy), (roi.width, roi.height), math.degrees(roi.rotation))
    corners = np.asarray(cv2.boxPoints(box), np.float32)
    dst = np.array([[0, 224], [0, 0], [224, 0], [224, 224]], np.float32)
    inv = cv2.invert(cv2.getPerspectiveTransform(corners, dst))[1]
    ys, xs = np.mgrid[0:224, 0:224].astype(np.float64)
    s = 32.0 / (inv[2, 0] * xs + inv[2, 1] * ys + inv[2, 2])
    X = np.rint((inv[0, 0] * xs + inv[0, 1] * ys + inv[0, 2]) * s).astype(np.int64)
    Y = np.rint((inv[1, 0] * xs + inv[1, 1] * ys + inv[1, 2]) * s).astype(np.int64)
    fx, fy = X & 31, Y & 31
    acc = np.zeros((224, 224, 3), np.int64)
    for dx, dy, wgt in (
        (0, 0, (32 - fx) * (32 - fy)),
        (1, 0, fx * (32 - fy)),
        (0, 1, (32 - fx) * fy),
        (1, 1, fx * fy),
    ):
        px = np.clip((X >> 5) + dx, 0, img.shape[1] - 1)
        py = np.clip((Y >> 5) + dy, 0, img.shape[0] - 1)
        acc += (32 * wgt)[..., None] * img[py, px]
    np.testing.assert_array_equal(got, ((acc + 16384) >> 15).astype(np.uint8))
    modern = crop(img, roi, 224, 224)
    assert np.abs(modern.astype(int) - got).max() <= 3


# --- (d) tracking, (e) bad input -------------------------------------------------------------


def test_detector_runs_once_while_all_hands_are_tracked(
    detector: SsdDetector, landmarker: HandLandmarkModel
) -> None:
    base = hands_image(TWO_HANDS)
    frames = [affine(base, angle=-2.0 * i, scale=1.0, dx=-4 * i, dy=2 * i) for i in range(5)]
    tracker = HandTracker(detector, landmarker, HandTrackerConfig(max_hands=2))
    timings: dict[str, float] = {}
    for i, frame in enumerate(frames):
        hands = tracker.update(frame, i / 30, timings)
        assert [h.id for h in hands] == [0, 1]
    assert tracker.detector_runs == 1
    assert set(timings) == {"hands.detect", "hands.landmarks", "hands.smooth"}
    assert all(v >= 0 for v in timings.values())
    tracker.reset()
    hands = tracker.update(frames[-1], 5 / 30, {})
    assert tracker.detector_runs == 2
    assert [h.id for h in hands] == [2, 3]
    # max_hands=1 tracks one hand and never re-detects while it is tracked.
    single = HandTracker(detector, landmarker, HandTrackerConfig(max_hands=1))
    for i, frame in enumerate(frames[:3]):
        assert len(single.update(frame, i / 30, {})) == 1
    assert single.detector_runs == 1


def test_detect_interval_and_smoothing(detector: SsdDetector, landmarker: HandLandmarkModel) -> None:
    base = hands_image(ONE_HAND_ROTATED)
    frames = [affine(base, angle=0.0, scale=1.0, dx=1.5 * i, dy=0.0) for i in range(7)]
    every_third = HandTracker(detector, landmarker, HandTrackerConfig(max_hands=2, detect_interval=3))
    raw = HandTracker(detector, landmarker, HandTrackerConfig(max_hands=2, smooth=False))
    for i, frame in enumerate(frames):
        smoothed = every_third.update(frame, i / 30, {})
        unsmoothed = raw.update(frame, i / 30, {})
        assert len(smoothed) == len(unsmoothed) == 1
        assert smoothed[0].id == unsmoothed[0].id == 0  # the track replaces each fresh detection
        diff = np.abs(smoothed[0].landmarks - unsmoothed[0].landmarks).max()
        if i == 0:
            assert diff == 0  # the first sample passes through the filter
        else:
            assert 0 < diff < 0.05 * smoothed[0].roi.width
    assert every_third.detector_runs == 3  # frames 0, 3 and 6: one hand < max_hands
    assert raw.detector_runs == len(frames)


def test_blank_frame_gives_no_hands(detector: SsdDetector, landmarker: HandLandmarkModel) -> None:
    for config in (HandTrackerConfig(), HandTrackerConfig(static_image_mode=True)):
        tracker = HandTracker(detector, landmarker, config)
        assert tracker.update(np.zeros((240, 320, 3), np.uint8), 0.0, {}) == []
        assert tracker.update(np.full((240, 320, 3), 255, np.uint8), 1 / 30, {}) == []
        assert tracker.detector_runs == 2


def test_bad_input_raises_clear_errors(detector: SsdDetector, landmarker: HandLandmarkModel) -> None:
    tracker = HandTracker(detector, landmarker)
    with pytest.raises(InputError, match="uint8"):
        tracker.update(np.zeros((64, 64, 3), np.float32), 0.0, {})
    with pytest.raises(InputError, match="hand ROI"):
        landmarker.run(np.zeros((64, 64, 3), np.uint8), Roi(10, 10, 0, 0))
    with pytest.raises(InputError, match="detect_interval"):
        HandTrackerConfig(detect_interval=0)
