"""The perception pipeline: faces, poses, hands and person segmentation for each frame.

``Perception(config).process(frame, timestamp)`` returns a :class:`~tryon.results.FrameResult`
in pixel coordinates with per-stage timings. In video mode (default) each stage tracks from the
previous frame and re-detects on loss; with ``static_image_mode`` every frame is detected afresh.
A stage that fails on a frame is logged and counted, and its results are empty for that frame;
the other stages still run.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

from tryon.detect.ssd import FACE_FULL_RANGE, FACE_SHORT_RANGE, PALM, POSE, DetectorSpec, SsdDetector
from tryon.errors import InputError
from tryon.frame import validate_frame
from tryon.landmarks.face import FaceLandmarkModel
from tryon.landmarks.hand import HandLandmarkModel
from tryon.landmarks.iris import IrisModel
from tryon.landmarks.pose import WITHOUT_MASK, PoseLandmarkModel
from tryon.results import FrameResult
from tryon.runtime.session import ModelLoader, RuntimeConfig
from tryon.segment.selfie import MODELS as SEGMENTATION_MODELS
from tryon.segment.selfie import SelfieSegmenter
from tryon.timing import timed
from tryon.track.faces import FaceTracker, FaceTrackerConfig
from tryon.track.hands import HandTracker, HandTrackerConfig
from tryon.track.poses import PoseTracker, PoseTrackerConfig

logger = logging.getLogger(__name__)

DEFAULT_FPS = 30.0
STAGES = ("faces", "poses", "hands", "segmentation")


@dataclass(frozen=True)
class PerceptionConfig:
    faces: bool = True
    max_faces: int = 1
    face_detector: Literal["short", "full"] = "short"
    """``short``: faces within ~2 m (MediaPipe's face mesh); ``full``: small and distant faces."""
    iris: bool = False
    """Refine the eyes and add 10 iris points (478 landmarks)."""
    poses: bool = False
    max_poses: int = 1
    pose_segmentation: bool = False
    hands: bool = False
    max_hands: int = 2
    segmentation: bool = False
    segmentation_model: Literal["general", "landscape"] = "general"
    segmentation_smoothing: float = 0.8
    static_image_mode: bool = False
    smooth: bool = True
    min_detection_confidence: float | None = None
    """Detector score threshold; ``None``: each detector's own (0.5; 0.6 for full-range faces)."""
    min_tracking_confidence: float = 0.5
    detect_interval: int = 1
    """While fewer than the maximum number of faces/poses/hands are tracked, detect every N frames."""
    runtime: RuntimeConfig = field(default_factory=RuntimeConfig)


class Perception:
    """Runs the configured stages on each frame; holds the trackers (``reset()`` clears them)."""

    def __init__(self, config: PerceptionConfig | None = None, loader: ModelLoader | None = None) -> None:
        self.config = c = config or PerceptionConfig()
        self._loader = loader or ModelLoader(config=c.runtime)
        self.failures: Counter[str] = Counter()
        self.frames = 0
        self.face_tracker: FaceTracker | None = None
        self.pose_tracker: PoseTracker | None = None
        self.hand_tracker: HandTracker | None = None
        self.segmenter: SelfieSegmenter | None = None
        self._active: set[str] = set()
        self.set_stages(faces=c.faces, poses=c.poses, hands=c.hands, segmentation=c.segmentation)

    @property
    def stages(self) -> frozenset[str]:
        """The stages that run on each frame: ``faces``, ``poses``, ``hands``, ``segmentation``."""
        return frozenset(self._active)

    def set_stages(
        self,
        *,
        faces: bool | None = None,
        poses: bool | None = None,
        hands: bool | None = None,
        segmentation: bool | None = None,
    ) -> None:
        """Switch stages on or off (``None``: unchanged). A stage's models are loaded the first time
        it is switched on; a stage switched off forgets its tracks, so it starts afresh when back."""
        wanted = {"faces": faces, "poses": poses, "hands": hands, "segmentation": segmentation}
        for stage, on in wanted.items():
            if on is None or on == (stage in self._active):
                continue
            if on:
                self._build(stage)
                self._active.add(stage)
            else:
                self._active.discard(stage)
                holder = self._stage(stage)
                if holder is not None:
                    holder.reset()

    def prepare(self, *stages: str) -> None:
        """Load the models of these stages now (without switching them on), so that switching
        them on later does not stall a frame."""
        for stage in stages:
            if stage not in STAGES:
                raise InputError(f"perception stage: expected one of {', '.join(STAGES)}, got {stage!r}")
            self._build(stage)

    def _stage(self, name: str) -> FaceTracker | PoseTracker | HandTracker | SelfieSegmenter | None:
        return {
            "faces": self.face_tracker,
            "poses": self.pose_tracker,
            "hands": self.hand_tracker,
            "segmentation": self.segmenter,
        }[name]

    def _build(self, stage: str) -> None:
        c, loader = self.config, self._loader
        if stage == "faces" and self.face_tracker is None:
            spec = FACE_FULL_RANGE if c.face_detector == "full" else FACE_SHORT_RANGE
            self.face_tracker = FaceTracker(
                SsdDetector(loader.load(spec.model), spec),
                FaceLandmarkModel(loader.load("face_landmark")),
                FaceTrackerConfig(
                    max_faces=c.max_faces,
                    min_detection_confidence=self._min_score(spec),
                    min_tracking_confidence=c.min_tracking_confidence,
                    static_image_mode=c.static_image_mode,
                    smooth=c.smooth,
                    detect_interval=c.detect_interval,
                ),
                iris=IrisModel(loader.load("iris_landmark")) if c.iris else None,
            )
        elif stage == "poses" and self.pose_tracker is None:
            self.pose_tracker = PoseTracker(
                SsdDetector(loader.load(POSE.model), POSE, exact_sampling=True),
                PoseLandmarkModel(
                    loader.load("pose_landmark_full", outputs=None if c.pose_segmentation else WITHOUT_MASK)
                ),
                PoseTrackerConfig(
                    max_poses=c.max_poses,
                    min_detection_confidence=self._min_score(POSE),
                    min_tracking_confidence=c.min_tracking_confidence,
                    static_image_mode=c.static_image_mode,
                    smooth=c.smooth,
                    segmentation=c.pose_segmentation,
                    detect_interval=c.detect_interval,
                    # not on the frames the face and palm detectors run on
                    detect_phase=c.detect_interval // 2,
                ),
            )
        elif stage == "hands" and self.hand_tracker is None:
            self.hand_tracker = HandTracker(
                SsdDetector(loader.load(PALM.model), PALM),
                HandLandmarkModel(loader.load("hand_landmark_full")),
                HandTrackerConfig(
                    max_hands=c.max_hands,
                    min_detection_confidence=self._min_score(PALM),
                    min_tracking_confidence=c.min_tracking_confidence,
                    static_image_mode=c.static_image_mode,
                    smooth=c.smooth,
                    detect_interval=c.detect_interval,
                ),
            )
        elif stage == "segmentation" and self.segmenter is None:
            smoothing = 0.0 if c.static_image_mode else c.segmentation_smoothing
            self.segmenter = SelfieSegmenter(
                loader.load(SEGMENTATION_MODELS[c.segmentation_model]), smoothing
            )

    def _min_score(self, spec: DetectorSpec) -> float:
        c = self.config.min_detection_confidence
        return spec.min_score if c is None else c

    def reset(self) -> None:
        """Forget all tracks and smoothing state: the next frame is detected afresh."""
        for stage in (self.face_tracker, self.pose_tracker, self.hand_tracker, self.segmenter):
            if stage is not None:
                stage.reset()

    @property
    def detector_runs(self) -> dict[str, int]:
        runs = {}
        for name, tracker in (
            ("face", self.face_tracker),
            ("pose", self.pose_tracker),
            ("hands", self.hand_tracker),
        ):
            if tracker is not None:
                runs[name] = tracker.detector_runs
        return runs

    def process(self, frame: object, timestamp: float | None = None) -> FrameResult:
        """Perceive one RGB ``uint8`` frame ``(H, W, 3)``; ``timestamp`` in seconds (video mode)."""
        t0 = time.perf_counter()
        image = validate_frame(frame)
        ts = self.frames / DEFAULT_FPS if timestamp is None else float(timestamp)
        self.frames += 1
        h, w = image.shape[:2]
        result = FrameResult(width=w, height=h)
        timings = result.timings
        active = self._active
        if self.face_tracker is not None and "faces" in active:
            try:
                result.faces = self.face_tracker.update(image, ts, timings)
            except Exception:
                self._fail("face", result)
        if self.pose_tracker is not None and "poses" in active:
            try:
                result.poses = self.pose_tracker.update(image, ts, timings)
            except Exception:
                self._fail("pose", result)
        if self.hand_tracker is not None and "hands" in active:
            try:
                result.hands = self.hand_tracker.update(image, ts, timings)
            except Exception:
                self._fail("hands", result)
        if self.segmenter is not None and "segmentation" in active:
            try:
                with timed(timings, "segmentation"):
                    result.segmentation = self.segmenter.run(image)
            except Exception:
                self._fail("segmentation", result)
        timings["total"] = (time.perf_counter() - t0) * 1e3
        return result

    def _fail(self, stage: str, result: FrameResult) -> None:
        self.failures[stage] += 1
        result.errors.append(stage)
        if self.failures[stage] == 1 or self.failures[stage] % 100 == 0:
            logger.exception(
                "%s stage failed on frame %d (%d failures so far)", stage, self.frames, self.failures[stage]
            )
        tracker = {"face": self.face_tracker, "pose": self.pose_tracker, "hands": self.hand_tracker}.get(
            stage
        )
        if tracker is not None:
            tracker.reset()
