"""Pose stage (detector → landmarks → tracking) against mediapipe 0.10.14's ``mp.solutions.pose``
(model_complexity=1, which runs the same TFLite models), on skimage's astronaut and transforms of it.

Error measure: mean image distance over the landmarks MediaPipe calls visible (≥ 0.5), divided by
the shoulder-to-hip distance, or by the shoulder width when the hips are not in the picture.
Bound: 2 %. Person masks: IoU at 0.5 ≥ 0.97.

Preprocessing: both crops sample bit for bit like MediaPipe (``tryon.geometry.crop_exact``, the
production default for pose). With today's cv2 ``warpAffine`` instead, the detector's input differs by
1–3 levels and, because this landmark model moves by a median 3 % of the shoulder width when its
input shifts by half a pixel (MediaPipe against itself), one transform below would exceed 2 %.

Video mode is a closed loop (each ROI comes from the previous landmarks), which amplifies any
difference: MediaPipe against itself, after ±1 LSB on 1 % of the first frame's pixels, drifts by up
to ~3 % on these sequences. The closed-loop test therefore uses a slow drift and the 2 % bound;
the smoothing and ROI arithmetic are checked tightly with the loop opened (MediaPipe's ROI fed in).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import pytest
from numpy.typing import NDArray

from tryon.detect.ssd import POSE, SsdDetector
from tryon.errors import InputError
from tryon.geometry import Roi
from tryon.landmarks.pose import WITHOUT_MASK, PoseLandmarkModel
from tryon.results import Pose
from tryon.runtime.session import ModelLoader, RuntimeConfig
from tryon.runtime.store import ModelStore
from tryon.track.poses import PoseTracker, PoseTrackerConfig

GREY = (128, 128, 128)
PARITY = 0.02
MASK_IOU = 0.97
EXACT_MASK_IOU = 0.995
FACE_AND_SHOULDERS = list(range(13))


@dataclass(frozen=True)
class Transform:
    name: str
    angle: float = 0.0
    """Degrees, counter-clockwise on screen (cv2.getRotationMatrix2D)."""
    scale: float = 1.0
    shift: tuple[float, float] = (0.0, 0.0)
    gain: float = 1.0

    def matrix(self, w: int, h: int) -> NDArray[np.float64]:
        m = np.asarray(cv2.getRotationMatrix2D((w / 2, h / 2), self.angle, self.scale), dtype=np.float64)
        m[:, 2] += np.asarray(self.shift, dtype=np.float64)
        return m

    def apply(self, img: NDArray[np.uint8]) -> NDArray[np.uint8]:
        h, w = img.shape[:2]
        out = cv2.warpAffine(img, self.matrix(w, h), (w, h), borderMode=cv2.BORDER_CONSTANT, borderValue=GREY)
        if self.gain != 1.0:
            out = np.clip(out.astype(np.float32) * self.gain, 0, 255)
        return np.ascontiguousarray(out, dtype=np.uint8)


TRANSFORMS = [
    Transform("original"),
    Transform("rot+45", angle=45),
    Transform("rot-45", angle=-45),
    Transform("rot+30", angle=30),
    Transform("scale0.5", scale=0.5),
    Transform("scale0.5-rot-20-shift", angle=-20, scale=0.5, shift=(-60, 40)),
    Transform("scale1.5", scale=1.5),
    Transform("scale1.5-shift", scale=1.5, shift=(0, 60)),
    Transform("shift", shift=(70, -50)),
    Transform("rot-15-scale0.8-shift", angle=-15, scale=0.8, shift=(-50, 20)),
    Transform("dark", gain=0.5),
    Transform("bright-rot+10", angle=10, gain=1.4),
]


def drift_sequence(n: int = 20) -> list[Transform]:
    """A slow webcam-like drift: turn 0° → 28°, zoom 1.0 → 1.19, move right and down."""
    return [
        Transform(f"drift{i}", angle=1.5 * i, scale=1.0 + 0.01 * i, shift=(2.0 * i, 1.0 * i))
        for i in range(n)
    ]


def sweep_sequence(n: int = 20) -> list[Transform]:
    """A larger move: turn −10° → +25°, zoom 0.9 → 1.2, drift, dim to 80 %."""
    out = []
    for i in range(n):
        t = i / (n - 1)
        out.append(
            Transform(
                f"sweep{i}",
                angle=-10 + 35 * t,
                scale=0.9 + 0.3 * t,
                shift=(-30 + 60 * t, 20 - 30 * t),
                gain=1.0 - 0.2 * t,
            )
        )
    return out


# ---- helpers --------------------------------------------------------------------------------------


def mp_landmarks(result: Any, w: int, h: int) -> NDArray[np.float64] | None:
    """MediaPipe's pose as ``(33, 4)``: x, y, z in pixels and visibility."""
    if result.pose_landmarks is None:
        return None
    return np.array([[p.x * w, p.y * h, p.z * w, p.visibility] for p in result.pose_landmarks.landmark])


def reference_length(want: NDArray[np.float64], transform: Transform, w: int, h: int) -> float:
    """Shoulder-to-hip distance if both hips are visible and well inside the source picture (by 10 %
    of its size), else the shoulder width. The astronaut's hips never are: the photo ends at the
    waist, and MediaPipe's guesses for them land on its bottom edge."""
    back = cv2.invertAffineTransform(transform.matrix(w, h))
    hips = want[[23, 24], :2] @ back[:, :2].T + back[:, 2]
    margin = 0.1 * min(w, h)
    inside = bool(np.all((hips >= margin) & (hips < np.array([w, h]) - margin)))
    if inside and bool(np.all(want[[23, 24], 3] >= 0.5)):
        mid_shoulder = want[[11, 12], :2].mean(axis=0)
        mid_hip = want[[23, 24], :2].mean(axis=0)
        return float(np.linalg.norm(mid_shoulder - mid_hip))
    return float(np.linalg.norm(want[11, :2] - want[12, :2]))


def pose_error(got: NDArray[np.floating], want: NDArray[np.float64], ref: float) -> float:
    visible = want[:, 3] >= 0.5
    dist = np.linalg.norm(got[:, :2] - want[:, :2], axis=1)
    return float(dist[visible].mean() / ref)


def mask_iou(a: NDArray[np.floating], b: NDArray[np.floating]) -> float:
    x, y = a > 0.5, b > 0.5
    return float(np.logical_and(x, y).sum() / max(1, np.logical_or(x, y).sum()))


def compare(pose: Pose, result: Any, transform: Transform, w: int, h: int) -> tuple[float, float]:
    """``(landmark error / reference length, mask IoU)`` of our pose against MediaPipe's."""
    want = mp_landmarks(result, w, h)
    assert want is not None, f"{transform.name}: mediapipe found no pose"
    assert pose.mask is not None, f"{transform.name}: no mask"
    return pose_error(pose.landmarks, want, reference_length(want, transform, w, h)), mask_iou(
        pose.mask, result.segmentation_mask
    )


# ---- fixtures -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def loader(store: ModelStore) -> ModelLoader:
    return ModelLoader(store, RuntimeConfig(providers=("cpu",)))


@pytest.fixture(scope="module")
def detector(loader: ModelLoader) -> SsdDetector:
    return SsdDetector(loader.load("pose_detection"), POSE, exact_sampling=True)


@pytest.fixture(scope="module")
def landmarker(loader: ModelLoader) -> PoseLandmarkModel:
    return PoseLandmarkModel(loader.load("pose_landmark_full"))


@pytest.fixture(scope="module")
def mp_image_results(astronaut: NDArray[np.uint8]) -> dict[str, Any]:
    """MediaPipe in image mode on every transform (computed once)."""
    import mediapipe as mp

    with mp.solutions.pose.Pose(static_image_mode=True, model_complexity=1, enable_segmentation=True) as pose:
        return {t.name: pose.process(t.apply(astronaut)) for t in TRANSFORMS}


@pytest.fixture(scope="module")
def mp_video_results(astronaut: NDArray[np.uint8]) -> list[Any]:
    """MediaPipe in video mode (frames stamped every 33 333 µs) on the sequence."""
    import mediapipe as mp

    with mp.solutions.pose.Pose(
        static_image_mode=False, model_complexity=1, enable_segmentation=True
    ) as pose:
        return [pose.process(t.apply(astronaut)) for t in drift_sequence()]


def tracker(
    detector: SsdDetector, landmarker: PoseLandmarkModel, **config: Any
) -> Callable[[NDArray[np.uint8], float], list[Pose]]:
    tr = PoseTracker(detector, landmarker, PoseTrackerConfig(**config))
    return lambda frame, ts: tr.update(frame, ts, {})


# ---- parity ---------------------------------------------------------------------------------------


def _params() -> Iterator[Any]:
    for t in TRANSFORMS:
        yield pytest.param(t, id=t.name)


@pytest.mark.parametrize("transform", list(_params()))
def test_image_mode_matches_mediapipe(
    transform: Transform,
    astronaut: NDArray[np.uint8],
    detector: SsdDetector,
    landmarker: PoseLandmarkModel,
    mp_image_results: dict[str, Any],
) -> None:
    frame = transform.apply(astronaut)
    h, w = frame.shape[:2]
    run = tracker(detector, landmarker, static_image_mode=True, segmentation=True)
    poses = run(frame, 0.0)
    assert len(poses) == 1, f"{transform.name}: expected one pose, got {len(poses)}"
    err, iou = compare(poses[0], mp_image_results[transform.name], transform, w, h)
    assert err <= PARITY, f"{transform.name}: landmark error {err:.4f} of the reference"
    assert iou >= MASK_IOU, f"{transform.name}: mask IoU {iou:.4f}"


def test_video_mode_matches_mediapipe(
    astronaut: NDArray[np.uint8],
    detector: SsdDetector,
    landmarker: PoseLandmarkModel,
    mp_video_results: list[Any],
) -> None:
    tr = PoseTracker(detector, landmarker, PoseTrackerConfig(segmentation=True))
    errors, ious = [], []
    for i, (transform, result) in enumerate(zip(drift_sequence(), mp_video_results, strict=True)):
        frame = transform.apply(astronaut)
        h, w = frame.shape[:2]
        poses = tr.update(frame, i / 30, {})
        assert len(poses) == 1, f"frame {i}: expected one pose, got {len(poses)}"
        err, iou = compare(poses[0], result, transform, w, h)
        errors.append(err)
        ious.append(iou)
    worst = int(np.argmax(errors))
    assert errors[worst] <= PARITY, (
        f"video: frame {worst} landmark error {errors[worst]:.4f} of the reference "
        f"(mean over frames {np.mean(errors):.4f})"
    )
    assert min(ious) >= MASK_IOU, f"video: worst mask IoU {min(ious):.4f}"
    assert tr.detector_runs == 1, f"video: the detector ran {tr.detector_runs} times, expected once"


def _mp_roi(rect: Any, w: int, h: int) -> Roi:
    return Roi(rect.x_center * w, rect.y_center * h, rect.width * w, rect.height * h, rect.rotation)


def test_video_mode_open_loop_matches_mediapipe(
    astronaut: NDArray[np.uint8],
    detector: SsdDetector,
    landmarker: PoseLandmarkModel,
) -> None:
    """The tracking loop amplifies any difference (MediaPipe against itself, after ±1 LSB on 1 % of
    the first frame's pixels, drifts by up to 3 % on these sequences), so the closed-loop test above
    cannot check the smoothing closely. Here each frame runs on MediaPipe's own ROI (exact crop):
    then our smoothed landmarks, visibility, world points and next ROI must match its outputs."""
    from mediapipe.python.solution_base import SolutionBase

    graph = SolutionBase(
        binary_graph_path="mediapipe/modules/pose_landmark/pose_landmark_cpu.binarypb",
        side_inputs={
            "model_complexity": 1,
            "smooth_landmarks": True,
            "enable_segmentation": True,
            "smooth_segmentation": True,
            "use_prev_landmarks": True,
        },
        outputs=["pose_landmarks", "pose_world_landmarks", "pose_rect_from_landmarks", "segmentation_mask"],
    )
    tr = PoseTracker(detector, landmarker, PoseTrackerConfig(segmentation=True))
    try:
        for i, transform in enumerate(sweep_sequence()):
            frame = transform.apply(astronaut)
            h, w = frame.shape[:2]
            result = graph.process({"image": frame})
            poses = tr.update(frame, i / 30, {})
            want = mp_landmarks(result, w, h)
            assert want is not None, f"frame {i}: mediapipe found no pose"
            assert len(poses) == 1, f"frame {i}: expected one pose, got {len(poses)}"
            assert poses[0].mask is not None, f"frame {i}: no mask"
            got = poses[0].landmarks
            world = np.array([[p.x, p.y, p.z] for p in result.pose_world_landmarks.landmark])
            mp_next = _mp_roi(result.pose_rect_from_landmarks, w, h)
            (ours_next,) = (t.roi for t in tr._tracks)  # private: the ROI the tracker will use next
            errors = {
                "xy px": float(np.abs(got[:, :2] - want[:, :2]).max()),
                "z px": float(np.abs(got[:, 2] - want[:, 2]).max()),
                "visibility": float(np.abs(got[:, 3] - want[:, 3]).max()),
                "world m": float(np.abs(poses[0].world - world).max()),
                "next roi px": max(
                    abs(ours_next.cx - mp_next.cx),
                    abs(ours_next.cy - mp_next.cy),
                    abs(ours_next.width - mp_next.width),
                ),
                "next roi rad": abs(ours_next.rotation - mp_next.rotation),
                "mask 1 - IoU": 1.0 - mask_iou(poses[0].mask, result.segmentation_mask),
            }
            bounds = {
                "xy px": 0.5,
                "z px": 3.0,
                "visibility": 1e-3,
                "world m": 2e-3,
                "next roi px": 0.05,
                "next roi rad": 1e-4,
                "mask 1 - IoU": 1.0 - EXACT_MASK_IOU,
            }
            over = {k: round(v, 6) for k, v in errors.items() if v > bounds[k]}
            assert not over, f"frame {i}: over the bounds {bounds}: {over}"
            tr._tracks[0].roi = mp_next  # open the loop: next frame runs on MediaPipe's ROI
    finally:
        graph.close()


# ---- tracking -------------------------------------------------------------------------------------


def test_tracking_follows_the_move_and_detects_once(
    astronaut: NDArray[np.uint8], detector: SsdDetector, landmarker: PoseLandmarkModel
) -> None:
    """The portrait on a grey canvas (so the crop's replicated border stays grey and the content
    moves rigidly) holds still for 8 frames while the track settles (the first ROI comes from the
    detector, the later ones from landmarks: that alone moves the landmarks by ~1.7 % of the shoulder
    width, MediaPipe's by ~1 %), then turns 0.6°/frame and moves (2, 1) px/frame for 15 frames.

    Bound: the mean error over the face and shoulder landmarks and over the moving frames ≤ 2 % of
    the shoulder width, and ≤ 3 % on every frame: this model is not exactly equivariant to where
    its ROI sits, and MediaPipe itself departs by up to 2.5 % per frame on this move (1.5 % mean).
    """
    canvas = np.full((800, 800, 3), GREY[0], np.uint8)
    canvas[144:656, 144:656] = astronaut
    h, w = canvas.shape[:2]
    hold = 8
    moves = [Transform("hold")] * hold + [
        Transform(f"move{i}", angle=0.6 * i, shift=(2.0 * i, 1.0 * i)) for i in range(1, 16)
    ]
    tr = PoseTracker(detector, landmarker, PoseTrackerConfig())
    track_id: int | None = None
    ref = np.zeros((len(FACE_AND_SHOULDERS), 2))
    shoulder_width = 1.0
    errors: list[float] = []
    for i, move in enumerate(moves):
        timings: dict[str, float] = {}
        poses = tr.update(move.apply(canvas), i / 30, timings)
        assert len(poses) == 1, f"{move.name} (frame {i}): expected one pose, got {len(poses)}"
        track_id = poses[0].id if track_id is None else track_id
        assert poses[0].id == track_id, f"frame {i}: track id changed from {track_id} to {poses[0].id}"
        stages = (
            {"poses.detect", "poses.landmarks", "poses.smooth"}
            if i == 0
            else {"poses.landmarks", "poses.smooth"}
        )
        assert set(timings) == stages, f"frame {i}: timings {sorted(timings)}, expected {sorted(stages)}"
        got = poses[0].landmarks[FACE_AND_SHOULDERS, :2].astype(np.float64)
        if i == hold - 1:
            ref = got
            shoulder_width = float(np.linalg.norm(ref[11] - ref[12]))
        elif i >= hold:
            m = move.matrix(w, h)
            expected = ref @ m[:, :2].T + m[:, 2]
            err = float(np.linalg.norm(got - expected, axis=1).mean()) / shoulder_width
            assert err <= 1.5 * PARITY, f"{move.name}: face/shoulder error {err:.4f} of the shoulder width"
            errors.append(err)
    mean = float(np.mean(errors))
    assert mean <= PARITY, f"face/shoulder error {mean:.4f} of the shoulder width on average over the move"
    assert tr.detector_runs == 1, f"the detector ran {tr.detector_runs} times over the move, expected once"

    tr.reset()
    for i in range(3):
        poses = tr.update(moves[-1].apply(canvas), (len(moves) + i) / 30, {})
        assert len(poses) == 1, f"after reset, frame {i}: expected one pose, got {len(poses)}"
        assert poses[0].id != track_id, "after reset the pose kept its old track id"
    assert tr.detector_runs == 2, (
        f"after reset the detector ran {tr.detector_runs - 1} more times, expected 1"
    )


def test_two_people_get_two_stable_tracks(
    astronaut: NDArray[np.uint8], detector: SsdDetector, landmarker: PoseLandmarkModel
) -> None:
    gap = np.full((astronaut.shape[0], 200, 3), GREY[0], np.uint8)
    frame = np.ascontiguousarray(np.concatenate([astronaut, gap, astronaut[:, ::-1]], axis=1))
    middle = frame.shape[1] / 2
    tr = PoseTracker(detector, landmarker, PoseTrackerConfig(max_poses=2))
    ids: set[int] | None = None
    for i in range(4):
        poses = tr.update(frame, i / 30, {})
        assert len(poses) == 2, f"frame {i}: expected two poses, got {len(poses)}"
        now = {p.id for p in poses}
        assert ids is None or now == ids, f"frame {i}: track ids changed from {ids} to {now}"
        ids = now
        noses = sorted(float(p.landmarks[0, 0]) for p in poses)
        assert noses[0] < middle <= noses[1], f"frame {i}: both poses on one person (nose x {noses})"
    assert len(ids or ()) == 2, f"expected two distinct ids, got {ids}"
    assert tr.detector_runs == 1, f"two tracked people: the detector ran {tr.detector_runs} times"


def test_more_people_are_looked_for_every_detect_interval_frames(
    astronaut: NDArray[np.uint8], detector: SsdDetector, landmarker: PoseLandmarkModel
) -> None:
    """One person tracked out of two allowed: the detector looks for a second one every n-th
    frame (not every frame), and finds them within n frames of their appearing."""
    gap = np.full((astronaut.shape[0], 200, 3), GREY[0], np.uint8)
    empty = np.full_like(astronaut, GREY[0])
    alone = np.ascontiguousarray(np.concatenate([astronaut, gap, empty], axis=1))
    both = np.ascontiguousarray(np.concatenate([astronaut, gap, astronaut[:, ::-1]], axis=1))
    tr = PoseTracker(detector, landmarker, PoseTrackerConfig(max_poses=2, detect_interval=4))
    for i in range(8):
        assert len(tr.update(alone, i / 30, {})) == 1, f"frame {i}: expected the one person"
    assert tr.detector_runs == 2, f"8 frames, interval 4: expected 2 detector runs, got {tr.detector_runs}"
    found_at = None
    for i in range(8, 14):
        if len(tr.update(both, i / 30, {})) == 2:
            found_at = i
            break
    assert found_at is not None, "the second person was not found within 6 frames"
    assert found_at - 8 < 4, f"second person found at frame {found_at}, appeared at 8"


def test_model_without_its_mask_head_gives_the_same_landmarks(
    astronaut: NDArray[np.uint8], loader: ModelLoader, detector: SsdDetector, landmarker: PoseLandmarkModel
) -> None:
    """Pruned of the mask decoder (what the pipeline loads when no pose mask is wanted), the
    model's landmarks, flag and world points are those of the full model, bit for bit."""
    light = PoseLandmarkModel(loader.load("pose_landmark_full", outputs=WITHOUT_MASK))
    assert not light.has_mask
    assert landmarker.has_mask
    assert len(light.model.output_names) == 4, f"expected 4 outputs, got {light.model.output_names}"
    tr = PoseTracker(detector, landmarker, PoseTrackerConfig(static_image_mode=True))
    (pose,) = tr.update(astronaut, 0.0, {})
    a = landmarker.run(astronaut, pose.roi)
    b = light.run(astronaut, pose.roi)
    np.testing.assert_array_equal(a.landmarks, b.landmarks)
    np.testing.assert_array_equal(a.world, b.world)
    assert a.score == b.score
    with pytest.raises(InputError, match="without its mask"):
        light.run(astronaut, pose.roi, mask=True)


# ---- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["grey", "noise", "tiny"])
def test_no_person_gives_no_pose(kind: str, detector: SsdDetector, landmarker: PoseLandmarkModel) -> None:
    rng = np.random.default_rng(0)
    frame = {
        "grey": np.full((480, 640, 3), 128, np.uint8),
        "noise": rng.integers(0, 256, (480, 640, 3), dtype=np.uint8),
        "tiny": np.full((16, 16, 3), 200, np.uint8),
    }[kind]
    tr = PoseTracker(detector, landmarker, PoseTrackerConfig(segmentation=True))
    timings: dict[str, float] = {}
    for i in range(2):
        assert tr.update(frame, i / 30, timings) == [], f"{kind}: found a pose"
    assert tr.detector_runs == 2, f"{kind}: with nobody tracked the detector should run every frame"
    assert "poses.detect" in timings, f"{kind}: no detector timing in {sorted(timings)}"


def test_bad_frame_is_rejected(detector: SsdDetector, landmarker: PoseLandmarkModel) -> None:
    tr = PoseTracker(detector, landmarker)
    with pytest.raises(InputError, match="uint8"):
        tr.update(np.zeros((64, 64, 3), np.float32), 0.0, {})
    with pytest.raises(InputError, match="max_poses"):
        PoseTrackerConfig(max_poses=0)
