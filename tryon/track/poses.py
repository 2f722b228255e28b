"""Pose tracking: detect, follow each person with ROIs from the previous frame's landmarks, smooth.

One :class:`PoseTracker` per video stream. With ``max_poses = 1`` the logic is MediaPipe
0.10.14's ``mp.solutions.pose`` (``docs/mediapipe-params.md`` §7, §8): the detector runs only
while no person is tracked, the next ROI comes from the one-euro-smoothed auxiliary landmarks,
and a track ends when the pose flag is not above ``min_tracking_confidence``. With more people the
association follows MediaPipe's face and hand trackers (§10), except that while some but not all
people are tracked the detector looks for the others every ``detect_interval`` frames, not on
every frame (the pose detector costs half a landmark run).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from tryon.detect.ssd import SsdDetector
from tryon.errors import InputError
from tryon.frame import Frame, validate_frame
from tryon.geometry import Roi, roi_iou
from tryon.landmarks.pose import (
    BODY_LANDMARKS,
    PoseLandmarkModel,
    PoseLandmarkOutput,
    alignment_roi,
    aux_object_scale,
    detection_to_roi,
)
from tryon.results import Pose
from tryon.smooth.one_euro import (
    POSE_AUXILIARY,
    POSE_LANDMARKS,
    POSE_WORLD,
    LandmarkSmoother,
    VisibilitySmoother,
)
from tryon.timing import timed

logger = logging.getLogger(__name__)

OVERLAP_IOU = 0.5
"""ROIs overlapping by more than this IoU (axis-aligned, rotation ignored) are the same person."""
VISIBILITY_ALPHA = 0.1


@dataclass(frozen=True)
class PoseTrackerConfig:
    max_poses: int = 1
    min_detection_confidence: float = 0.5
    min_tracking_confidence: float = 0.5
    static_image_mode: bool = False
    """Every frame is a new image: detect each time, no tracking, no smoothing."""
    smooth: bool = True
    """One-euro smoothing of the output landmarks (video mode only; the ROI is always smoothed)."""
    segmentation: bool = False
    """Also output each person's mask from the pose model."""
    detect_interval: int = 1
    """While at least one but fewer than ``max_poses`` people are tracked, look for more every
    n-th frame (with nobody tracked the detector runs on every frame)."""
    detect_phase: int = 0
    """Which frames of each ``detect_interval`` that is (frame index mod interval), so that the
    pipeline's detectors can take turns instead of all running on the same frame."""

    def __post_init__(self) -> None:
        if self.max_poses < 1:
            raise InputError(f"PoseTrackerConfig.max_poses: expected at least 1, got {self.max_poses}")
        if self.detect_interval < 1:
            raise InputError(f"PoseTrackerConfig.detect_interval: expected ≥ 1, got {self.detect_interval}")


@dataclass
class _Track:
    id: int
    roi: Roi
    aux: LandmarkSmoother = field(default_factory=lambda: LandmarkSmoother(POSE_AUXILIARY))
    landmarks: LandmarkSmoother = field(default_factory=lambda: LandmarkSmoother(POSE_LANDMARKS))
    world: LandmarkSmoother = field(default_factory=lambda: LandmarkSmoother(POSE_WORLD))
    visibility: VisibilitySmoother = field(default_factory=lambda: VisibilitySmoother(VISIBILITY_ALPHA))

    def reset(self) -> None:
        for s in (self.aux, self.landmarks, self.world, self.visibility):
            s.reset()


class PoseTracker:
    """Per-frame pose detection + landmark tracking for up to ``config.max_poses`` people."""

    def __init__(
        self,
        detector: SsdDetector,
        landmarker: PoseLandmarkModel,
        config: PoseTrackerConfig | None = None,
    ) -> None:
        self.detector = detector
        self.landmarker = landmarker
        self.config = config or PoseTrackerConfig()
        self.detector_runs = 0
        """How many times the detector has run (tracking skips it)."""
        self._tracks: list[_Track] = []
        self._next_id = 0
        self._frames = 0
        """Frames seen (``update`` calls)."""

    def reset(self) -> None:
        """Forget every track (the next frame detects again)."""
        for t in self._tracks:
            t.reset()
        self._tracks = []

    def _should_detect(self) -> bool:
        cfg = self.config
        if cfg.static_image_mode or not self._tracks:
            return True
        due = (self._frames - cfg.detect_phase) % cfg.detect_interval == 0
        return len(self._tracks) < cfg.max_poses and due

    def update(self, frame: Frame, timestamp: float, timings: dict[str, float]) -> list[Pose]:
        """Poses in ``frame`` (seen at ``timestamp`` seconds), ordered by track id."""
        frame = validate_frame(frame)
        cfg = self.config
        if cfg.static_image_mode:
            self.reset()
        if self._should_detect():
            with timed(timings, "poses.detect"):
                self._add_detections(frame)
        self._frames += 1

        results: list[tuple[_Track, PoseLandmarkOutput]] = []
        with timed(timings, "poses.landmarks"):
            for track in self._tracks:
                out = self.landmarker.run(frame, track.roi, mask=cfg.segmentation)
                if out.score > cfg.min_tracking_confidence:
                    results.append((track, out))
                else:
                    logger.debug("pose track %d lost (score %.3f)", track.id, out.score)
                    track.reset()

        poses: list[Pose] = []
        kept: list[_Track] = []
        with timed(timings, "poses.smooth"):
            for track, out in sorted(results, key=lambda r: -r[1].score):
                pose, next_roi = self._finish(track, out, timestamp)
                if not next_roi.valid or any(roi_iou(next_roi, k.roi) > OVERLAP_IOU for k in kept):
                    track.reset()  # lost, or the same person as a better track
                    continue
                track.roi = next_roi
                kept.append(track)
                poses.append(pose)
        self._tracks = [] if cfg.static_image_mode else sorted(kept, key=lambda t: t.id)
        return sorted(poses, key=lambda p: p.id)

    def _add_detections(self, frame: Frame) -> None:
        """Run the detector and start a track for each new person, best first."""
        cfg = self.config
        self.detector_runs += 1
        detections = self.detector.detect(frame, min_score=cfg.min_detection_confidence)
        for det in detections:
            if len(self._tracks) >= cfg.max_poses:
                break
            roi = detection_to_roi(det)
            if not roi.valid or any(roi_iou(roi, t.roi) > OVERLAP_IOU for t in self._tracks):
                continue  # a tracked person wins over a fresh detection of the same person
            self._tracks.append(_Track(self._next_id, roi))
            logger.debug("pose track %d started (detection score %.3f)", self._next_id, det.score)
            self._next_id += 1

    def _finish(self, track: _Track, out: PoseLandmarkOutput, timestamp: float) -> tuple[Pose, Roi]:
        """Smooth one track's landmarks; return its pose and its ROI for the next frame."""
        cfg = self.config
        video = not cfg.static_image_mode
        aux = out.aux
        scale = aux_object_scale(aux)  # from the unsmoothed auxiliary points
        if video:
            aux = track.aux.update(aux, timestamp, scale)
        next_roi = alignment_roi(aux[0], aux[1])
        xyz = out.landmarks[:BODY_LANDMARKS]
        visibility = out.visibility[:BODY_LANDMARKS]
        world = out.world[:BODY_LANDMARKS]
        if video and cfg.smooth:
            xyz = track.landmarks.update(xyz, timestamp, scale)
            visibility = track.visibility.update(visibility)
            world = track.world.update(world, timestamp, 1.0)
        landmarks = np.concatenate([xyz, visibility[:, None]], axis=1).astype(np.float32)
        pose = Pose(
            id=track.id,
            score=out.score,
            landmarks=landmarks,
            presence=np.ascontiguousarray(out.presence[:BODY_LANDMARKS]),
            world=np.ascontiguousarray(world, dtype=np.float32),
            roi=out.roi,
            mask=out.mask,
        )
        return pose, next_roi
