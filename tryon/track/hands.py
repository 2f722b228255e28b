"""Hand tracking: palm detection when too few hands are tracked, landmarks per ROI, next ROIs.

Follows MediaPipe 0.10.14's hand tracking graph (``docs/mediapipe-params.md`` §6, §10): the palm
detector runs only while fewer than ``max_hands`` hands are tracked; its ROIs come first and each
previous-frame ROI replaces the ROIs it overlaps (IoU > 0.5); every ROI runs the landmark model and
those above the presence threshold give the next frame's ROIs (from the raw landmarks).

Additions over MediaPipe: stable integer track ids, removal of a hand whose landmark ROI overlaps
a higher-scoring one (two ROIs that converged on the same hand), optional One Euro smoothing of
the output landmarks, and ``detect_interval``.

Handedness: MediaPipe assumes a mirrored selfie image. Our frames are not mirrored, so each
:class:`~tryon.results.Hand` reports the person's own hand: our "Left" is MediaPipe's "Right".
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

from tryon.detect.ssd import SsdDetector
from tryon.errors import InputError
from tryon.frame import Frame, validate_frame
from tryon.geometry import Roi, roi_iou
from tryon.landmarks.hand import HandLandmarkModel, HandLandmarkOutput, landmarks_to_roi, palm_to_roi
from tryon.results import Hand
from tryon.smooth.one_euro import HAND_LANDMARKS, LandmarkSmoother, object_scale
from tryon.timing import timed

logger = logging.getLogger(__name__)

ASSOCIATION_IOU = 0.5
"""MediaPipe's AssociationNormRect ``min_similarity_threshold``; also used to drop duplicates."""

T = TypeVar("T")


@dataclass(frozen=True)
class HandTrackerConfig:
    max_hands: int = 2
    min_detection_confidence: float = 0.5
    """Palm score threshold (kept when ≥)."""
    min_tracking_confidence: float = 0.5
    """Hand presence threshold (kept when >)."""
    static_image_mode: bool = False
    """Every frame independent: the detector always runs, nothing is tracked or smoothed."""
    smooth: bool = True
    """One Euro smoothing of the output landmarks (video mode only)."""
    detect_interval: int = 1
    """While fewer than ``max_hands`` are tracked, run the detector on every n-th frame, counted
    from its last run (1: every frame, as MediaPipe)."""

    def __post_init__(self) -> None:
        if self.max_hands < 1:
            raise InputError(f"HandTrackerConfig.max_hands: expected ≥ 1, got {self.max_hands}")
        if self.detect_interval < 1:
            raise InputError(f"HandTrackerConfig.detect_interval: expected ≥ 1, got {self.detect_interval}")
        for name in ("min_detection_confidence", "min_tracking_confidence"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise InputError(f"HandTrackerConfig.{name}: expected a value in [0, 1], got {value}")


@dataclass
class _Track:
    id: int
    roi: Roi
    """ROI for the next frame, from this frame's raw landmarks."""
    smoother: LandmarkSmoother | None = field(default=None, repr=False)


def associate(items: Sequence[tuple[Roi, T]], threshold: float = ASSOCIATION_IOU) -> list[tuple[Roi, T]]:
    """MediaPipe's AssociationNormRect: in order, each ROI removes the already-listed ROIs it overlaps
    (axis-aligned IoU > ``threshold``, rotation ignored) and is appended. Pass detection ROIs first,
    then previous-frame ROIs, so that a tracked ROI replaces an overlapping fresh detection."""
    out: list[tuple[Roi, T]] = []
    for roi, tag in items:
        out = [(r, t) for r, t in out if roi_iou(roi, r) <= threshold]
        out.append((roi, tag))
    return out


def drop_duplicates(
    rois: Sequence[Roi], scores: Sequence[float], threshold: float = ASSOCIATION_IOU
) -> list[int]:
    """Indices (in input order) kept after dropping each ROI that overlaps a higher-scoring kept one."""
    kept: list[int] = []
    for i in sorted(range(len(rois)), key=lambda k: -scores[k]):
        if all(roi_iou(rois[i], rois[j]) <= threshold for j in kept):
            kept.append(i)
    return sorted(kept)


def _finite(out: HandLandmarkOutput) -> bool:
    arrays_ok = bool(np.isfinite(out.landmarks).all() and np.isfinite(out.world).all())
    return arrays_ok and math.isfinite(out.presence) and math.isfinite(out.left_score)


class HandTracker:
    """Palm detector + hand landmarks, tracked across frames (see the module docstring)."""

    def __init__(
        self,
        detector: SsdDetector,
        landmarker: HandLandmarkModel,
        config: HandTrackerConfig | None = None,
    ) -> None:
        self.detector = detector
        self.landmarker = landmarker
        self.config = config or HandTrackerConfig()
        self.detector_runs = 0
        """How many times the palm detector has run (not cleared by :meth:`reset`)."""
        self._tracks: list[_Track] = []
        self._next_id = 0
        self._since_detect = self.config.detect_interval

    def reset(self) -> None:
        """Forget every track (and its smoothing state); the next frame runs the detector."""
        self._tracks = []
        self._since_detect = self.config.detect_interval

    def _should_detect(self, tracked: int) -> bool:
        cfg = self.config
        if cfg.static_image_mode:
            return True
        return tracked < cfg.max_hands and self._since_detect + 1 >= cfg.detect_interval

    def update(self, frame: Frame, timestamp: float, timings: dict[str, float]) -> list[Hand]:
        """Hands in ``frame`` (RGB, not mirrored) at ``timestamp`` seconds; stage ms into ``timings``."""
        frame = validate_frame(frame)
        cfg = self.config
        for key in ("hands.detect", "hands.landmarks", "hands.smooth"):
            timings.setdefault(key, 0.0)
        previous = [] if cfg.static_image_mode else self._tracks

        candidates: list[tuple[Roi, _Track | None]] = []
        if self._should_detect(len(previous)):
            with timed(timings, "hands.detect"):
                detections = self.detector.detect(frame, min_score=cfg.min_detection_confidence)
                candidates = [(palm_to_roi(d), None) for d in detections[: cfg.max_hands]]
            self.detector_runs += 1
            self._since_detect = 0
        else:
            self._since_detect += 1
        candidates.extend((t.roi, t) for t in previous)

        found: list[tuple[HandLandmarkOutput, Roi, _Track | None]] = []
        with timed(timings, "hands.landmarks"):
            for roi, track in associate(candidates):
                if not roi.valid:
                    logger.debug("hand ROI skipped (degenerate): %s", roi)
                    continue
                out = self.landmarker.run(frame, roi)
                if out.presence > cfg.min_tracking_confidence and _finite(out):
                    found.append((out, landmarks_to_roi(out.landmarks[:, :2]), track))
        keep = drop_duplicates([f[1] for f in found], [f[0].presence for f in found])
        found = [found[i] for i in keep]

        hands: list[Hand] = []
        tracks: list[_Track] = []
        with timed(timings, "hands.smooth"):
            for index, (out, next_roi, track) in enumerate(found):
                if cfg.static_image_mode:
                    hands.append(_to_hand(index, out, out.landmarks))
                    continue
                if track is None:
                    track = _Track(self._next_id, next_roi)
                    self._next_id += 1
                    logger.debug("hand track %d started", track.id)
                track.roi = next_roi
                landmarks = out.landmarks
                if cfg.smooth:
                    if track.smoother is None:
                        track.smoother = LandmarkSmoother(HAND_LANDMARKS)
                    scale = object_scale(out.roi.width, out.roi.height)
                    landmarks = track.smoother.update(out.landmarks, timestamp, scale)
                tracks.append(track)
                hands.append(_to_hand(track.id, out, landmarks))
        lost = {t.id for t in previous} - {t.id for t in tracks}
        if lost:
            logger.debug("hand tracks lost: %s", sorted(lost))
        self._tracks = tracks
        return hands


def _to_hand(hand_id: int, out: HandLandmarkOutput, landmarks: NDArray[np.float32]) -> Hand:
    label, score = out.handedness
    return Hand(
        id=hand_id,
        score=out.presence,
        handedness=label,
        handedness_score=score,
        landmarks=np.ascontiguousarray(landmarks, dtype=np.float32),
        world=out.world,
        roi=out.roi,
    )
