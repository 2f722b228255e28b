"""Face tracking: detect, then track from the previous landmarks; re-detect on loss.

Per frame: when fewer faces are tracked than ``max_faces`` (or in image mode) the detector runs
and its ROIs join the tracked ones (a tracked ROI replaces a detection it overlaps, so a track
keeps its id). Every ROI goes through the face mesh; a face whose presence score is not above
``min_tracking_confidence`` is dropped, and its track ends. The next ROI comes from the raw
landmarks; the landmarks returned are One Euro smoothed (video mode, ``smooth``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from tryon.detect.ssd import Detection, SsdDetector
from tryon.detect.tiles import detect_tiled
from tryon.frame import Frame
from tryon.geometry import Roi, roi_iou
from tryon.headpose import HeadPoseSmoother, estimate_head_pose
from tryon.landmarks.face import FaceLandmarkModel, roi_from_detection, roi_from_landmarks
from tryon.landmarks.iris import IrisModel
from tryon.results import Face
from tryon.smooth.one_euro import FACE_LANDMARKS, LandmarkSmoother, OneEuroParams, object_scale
from tryon.timing import timed

logger = logging.getLogger(__name__)

ASSOCIATION_IOU = 0.5


@dataclass(frozen=True)
class FaceTrackerConfig:
    max_faces: int = 1
    min_detection_confidence: float = 0.5
    min_tracking_confidence: float = 0.5
    static_image_mode: bool = False
    smooth: bool = True
    smoothing: OneEuroParams = FACE_LANDMARKS
    detect_interval: int = 1
    """While fewer than ``max_faces`` are tracked, run the detector every this many frames."""
    motion_refinements: int = 2
    """Extra mesh runs allowed in one frame when the face moved off its ROI's centre (0: none)."""
    head_pose: bool = True
    """Estimate each face's head pose (smoothed per track in video mode)."""
    tiled: bool = False
    """Photos: look for faces in the whole image and in overlapping tiles
    (:func:`tryon.detect.tiles.detect_tiled`), so small faces in large photos are found."""


@dataclass
class _Track:
    id: int
    roi: Roi
    tracked: bool = False
    """The ROI comes from the previous frame's landmarks (not from a detection)."""
    smoother: LandmarkSmoother = field(repr=False, default_factory=lambda: LandmarkSmoother(FACE_LANDMARKS))
    pose_smoother: HeadPoseSmoother = field(repr=False, default_factory=HeadPoseSmoother)


@dataclass
class _Observation:
    track: _Track
    landmarks: NDArray[np.float32]
    score: float
    next_roi: Roi


def unconfirmed_boxes(
    detections: list[Detection], faces: list[Face]
) -> list[tuple[float, float, float, float]]:
    """Boxes of the faces the detector found and the mesh did not confirm (a profile, a wide-open
    mouth), that overlap no confirmed face: a renderer still keeps them clear."""
    out = []
    for d in detections:
        x0, y0, x1, y1 = d.box
        if x1 <= x0 or y1 <= y0:
            continue
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        covered = False
        for f in faces:
            lo, hi = f.landmarks[:, :2].min(0), f.landmarks[:, :2].max(0)
            if lo[0] <= cx <= hi[0] and lo[1] <= cy <= hi[1]:
                covered = True
                break
        if not covered:
            out.append((float(x0), float(y0), float(x1), float(y1)))
    return out


def drop_duplicates(seen: list[_Observation]) -> list[_Observation]:
    """Two tracks that converged on one face (next ROIs overlap): keep the older track."""
    out: list[_Observation] = []
    for obs in sorted(seen, key=lambda o: o.track.id):
        if all(roi_iou(obs.next_roi, o.next_roi) <= ASSOCIATION_IOU for o in out):
            out.append(obs)
    return out


MOTION_SHIFT = 0.06
"""Re-run threshold: centre moved by this share of the ROI side, or the side changed by 2×this."""


def moved(roi: Roi, next_roi: Roi) -> bool:
    shift = float(np.hypot(next_roi.cx - roi.cx, next_roi.cy - roi.cy))
    return shift > MOTION_SHIFT * roi.width or abs(next_roi.width / roi.width - 1.0) > 2 * MOTION_SHIFT


def merge_rois(detected: list[Roi], tracked: list[_Track], next_id: int) -> tuple[list[_Track], int]:
    """Detections first; each tracked ROI removes the detections it overlaps (IoU > 0.5) and stays."""
    fresh = list(detected)
    for track in tracked:
        fresh = [r for r in fresh if roi_iou(r, track.roi) <= ASSOCIATION_IOU]
    out = list(tracked)
    for roi in fresh:
        out.append(_Track(next_id, roi))
        next_id += 1
    return out, next_id


class FaceTracker:
    def __init__(
        self,
        detector: SsdDetector,
        landmarker: FaceLandmarkModel,
        config: FaceTrackerConfig | None = None,
        iris: IrisModel | None = None,
    ) -> None:
        self.detector = detector
        self.landmarker = landmarker
        self.iris = iris
        self.config = config or FaceTrackerConfig()
        if self.config.max_faces < 1:
            raise ValueError(f"max_faces: expected at least 1, got {self.config.max_faces}")
        self.detector_runs = 0
        self._tracks: list[_Track] = []
        self._next_id = 0
        self._frames_since_detect = 0
        self.unconfirmed: list[tuple[float, float, float, float]] = []
        """The last frame's faces found by the detector but not by the mesh (boxes)."""

    def reset(self) -> None:
        """Forget every track (the next frame re-detects); ids keep increasing."""
        self._tracks = []
        self._frames_since_detect = 0

    def _should_detect(self) -> bool:
        c = self.config
        if c.static_image_mode or not self._tracks:
            return True
        if len(self._tracks) >= c.max_faces:
            return False
        # The frame after a detection is the 1st since: with an interval of N, every Nth frame.
        return self._frames_since_detect + 1 >= c.detect_interval

    def _observe(self, frame: Frame, track: _Track) -> _Observation | None:
        """Face mesh on the track's ROI; ``None`` when no face is present there.

        The mesh pulls its landmarks towards the ROI's centre when the face is off-centre (fast
        motion), so while the landmark ROI moved noticeably, look again with it (at most
        ``motion_refinements`` extra runs; none for a still or slow face).
        """
        c = self.config
        roi = track.roi
        if not roi.valid:
            return None
        refinements = c.motion_refinements if track.tracked else 0
        out = self.landmarker.run(frame, roi)
        if not (out.score > c.min_tracking_confidence and np.all(np.isfinite(out.landmarks))):
            return None
        next_roi = roi_from_landmarks(out.landmarks)
        for _ in range(refinements):
            if not moved(roi, next_roi) or not next_roi.valid:
                break
            again = self.landmarker.run(frame, next_roi)
            if not (again.score > c.min_tracking_confidence and np.all(np.isfinite(again.landmarks))):
                break
            out, roi, next_roi = again, next_roi, roi_from_landmarks(again.landmarks)
        return _Observation(track, out.landmarks, out.score, next_roi)

    def update(self, frame: Frame, timestamp: float, timings: dict[str, float]) -> list[Face]:
        c = self.config
        tracks = [] if c.static_image_mode else self._tracks
        detected: list[Roi] = []
        detections: list[Detection] = []
        if self._should_detect():
            with timed(timings, "faces.detect"):
                if c.tiled:
                    detections = detect_tiled(self.detector, frame, c.min_detection_confidence)
                else:
                    detections = self.detector.detect(frame, c.min_detection_confidence)
            self.detector_runs += 1
            self._frames_since_detect = 0
            detected = [roi_from_detection(d) for d in detections[: c.max_faces] if d.width > 0]
        else:
            self._frames_since_detect += 1
        candidates, self._next_id = merge_rois(detected, tracks, self._next_id)

        seen: list[_Observation] = []
        with timed(timings, "faces.landmarks"):
            for track in candidates:
                obs = self._observe(frame, track)
                if obs is not None:
                    seen.append(obs)
        kept = drop_duplicates(seen)[: c.max_faces]

        faces = []
        for obs in kept:
            track, landmarks, score = obs.track, obs.landmarks, obs.score
            track.roi, track.tracked = obs.next_roi, True
            if self.iris is not None:
                with timed(timings, "faces.iris"):
                    landmarks = self.iris.refine(frame, landmarks)
            head_pose = None
            if c.head_pose:
                with timed(timings, "faces.head_pose"):
                    # From the raw landmarks: the pose has its own smoother, tuned for it.
                    head_pose = estimate_head_pose(landmarks)
                    if c.smooth and not c.static_image_mode:
                        head_pose = track.pose_smoother.update(head_pose, timestamp)
            if c.smooth and not c.static_image_mode:
                with timed(timings, "faces.smooth"):
                    if track.smoother.params != c.smoothing:
                        track.smoother = LandmarkSmoother(c.smoothing)
                    landmarks = track.smoother.update(
                        landmarks, timestamp, object_scale(track.roi.width, track.roi.height)
                    )
            faces.append(Face(track.id, score, landmarks, track.roi, head_pose))
        if not c.static_image_mode:
            self._tracks = [o.track for o in kept]
        self.unconfirmed = unconfirmed_boxes(detections, faces)
        return faces
