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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from tryon.detect.ssd import FACE_FULL_RANGE, FACE_SHORT_RANGE, PALM, POSE, DetectorSpec, SsdDetector
from tryon.errors import InputError
from tryon.frame import Frame, validate_frame
from tryon.landmarks.face import FaceLandmarkModel
from tryon.landmarks.hand import HandLandmarkModel
from tryon.landmarks.iris import IrisModel
from tryon.landmarks.pose import WITHOUT_MASK, PoseLandmarkModel
from tryon.results import FrameResult
from tryon.runtime.session import ModelLoader, OnnxModel, RuntimeConfig
from tryon.segment.selfie import MODELS as SEGMENTATION_MODELS
from tryon.segment.selfie import SelfieSegmenter
from tryon.timing import span, timed
from tryon.track.bodies import BodyConfig, BodyTracker
from tryon.track.faces import FaceTracker, FaceTrackerConfig
from tryon.track.gate import GateConfig
from tryon.track.hands import HandTracker, HandTrackerConfig

logger = logging.getLogger(__name__)

DEFAULT_FPS = 30.0
STAGES = ("faces", "poses", "hands", "segmentation")
"""The stages, by the one name each has everywhere (the :class:`FrameResult` field too)."""


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
    pose_gate: GateConfig = field(default_factory=GateConfig)
    """Which poses reach the result (:mod:`tryon.track.gate`); the others are counted in
    ``FrameResult.rejected``."""
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


class Stage(Protocol):
    """One perception stage: built from the configuration (:data:`BUILDERS`), then, per frame,
    ``process`` fills its field of the result (and its timings, ``<name>.<step>``); ``reset``
    forgets its tracks. ``name`` is the one name of the stage everywhere: the result's field,
    the timings' prefix, the failure counters, the Prometheus labels."""

    name: str

    def process(self, image: Frame, timestamp: float, result: FrameResult) -> None: ...

    def reset(self) -> None: ...

    @property
    def detector_runs(self) -> int | None: ...


class Tracked(Protocol):
    detector_runs: int

    def update(self, image: Frame, timestamp: float, timings: dict[str, float]) -> list[Any]: ...

    def reset(self) -> None: ...


@dataclass
class TrackerStage:
    """A detect-then-track stage (faces, poses, hands): its tracker's list goes to
    ``result.<name>``."""

    name: str
    tracker: Tracked

    def process(self, image: Frame, timestamp: float, result: FrameResult) -> None:
        setattr(result, self.name, self.tracker.update(image, timestamp, result.timings))

    def reset(self) -> None:
        self.tracker.reset()

    @property
    def detector_runs(self) -> int | None:
        return self.tracker.detector_runs


@dataclass
class BodyStage:
    """Poses: every person's, found from the pose detector and from ``result.faces``, gated with
    ``result.segmentation`` when it ran (:mod:`tryon.track.bodies`)."""

    tracker: BodyTracker
    name: str = "poses"

    def process(self, image: Frame, timestamp: float, result: FrameResult) -> None:
        self.tracker.update(image, timestamp, result)

    def reset(self) -> None:
        self.tracker.reset()

    @property
    def detector_runs(self) -> int | None:
        return self.tracker.detector_runs


@dataclass
class FaceStage(TrackerStage):
    """The faces, and the boxes of faces detected but not confirmed by the mesh."""

    def process(self, image: Frame, timestamp: float, result: FrameResult) -> None:
        super().process(image, timestamp, result)
        result.face_boxes = list(getattr(self.tracker, "unconfirmed", []))


@dataclass
class SegmentationStage:
    """The person mask (selfie segmentation), smoothed over time in video mode."""

    segmenter: SelfieSegmenter
    name: str = "segmentation"

    def process(self, image: Frame, timestamp: float, result: FrameResult) -> None:
        with timed(result.timings, self.name):
            result.segmentation = self.segmenter.run(image)

    def reset(self) -> None:
        self.segmenter.reset()

    @property
    def detector_runs(self) -> int | None:
        return None


def _min_score(c: PerceptionConfig, spec: DetectorSpec) -> float:
    return spec.min_score if c.min_detection_confidence is None else c.min_detection_confidence


def _landmarks(loader: ModelLoader, name: str) -> OnnxModel:
    """Landmark model ``name``, with the crop fused in front under ``gpu_preprocess``."""
    return loader.load_cropping(name) if loader.config.gpu_preprocess else loader.load(name)


def build_faces(c: PerceptionConfig, loader: ModelLoader) -> Stage:
    spec = FACE_FULL_RANGE if c.face_detector == "full" else FACE_SHORT_RANGE
    tracker = FaceTracker(
        SsdDetector(loader.load(spec.model), spec),
        FaceLandmarkModel(_landmarks(loader, "face_landmark")),
        FaceTrackerConfig(
            max_faces=c.max_faces,
            min_detection_confidence=_min_score(c, spec),
            min_tracking_confidence=c.min_tracking_confidence,
            static_image_mode=c.static_image_mode,
            smooth=c.smooth,
            detect_interval=c.detect_interval,
            tiled=c.static_image_mode and c.face_detector == "full",
        ),
        iris=IrisModel(loader.load("iris_landmark")) if c.iris else None,
    )
    return FaceStage("faces", tracker)


def build_poses(c: PerceptionConfig, loader: ModelLoader) -> Stage:
    # Photos: the pose stage looks for faces itself (full range, on tiles) to seed bodies from.
    face_detector = (
        SsdDetector(loader.load(FACE_FULL_RANGE.model), FACE_FULL_RANGE) if c.static_image_mode else None
    )
    tracker = BodyTracker(
        SsdDetector(loader.load(POSE.model), POSE, exact_sampling=True),
        PoseLandmarkModel(
            loader.load("pose_landmark_full", outputs=None if c.pose_segmentation else WITHOUT_MASK)
        ),
        BodyConfig(
            max_poses=c.max_poses,
            min_detection_confidence=_min_score(c, POSE),
            min_face_confidence=_min_score(c, FACE_FULL_RANGE),
            min_tracking_confidence=c.min_tracking_confidence,
            static_image_mode=c.static_image_mode,
            smooth=c.smooth,
            segmentation=c.pose_segmentation,
            detect_interval=c.detect_interval,
            # not on the frames the face and palm detectors run on
            detect_phase=c.detect_interval // 2,
            gate=c.pose_gate,
        ),
        face_detector=face_detector,
    )
    return BodyStage(tracker)


def build_hands(c: PerceptionConfig, loader: ModelLoader) -> Stage:
    tracker = HandTracker(
        SsdDetector(loader.load(PALM.model), PALM),
        HandLandmarkModel(_landmarks(loader, "hand_landmark_full")),
        HandTrackerConfig(
            max_hands=c.max_hands,
            min_detection_confidence=_min_score(c, PALM),
            min_tracking_confidence=c.min_tracking_confidence,
            static_image_mode=c.static_image_mode,
            smooth=c.smooth,
            detect_interval=c.detect_interval,
        ),
    )
    return TrackerStage("hands", tracker)


def build_segmentation(c: PerceptionConfig, loader: ModelLoader) -> Stage:
    smoothing = 0.0 if c.static_image_mode else c.segmentation_smoothing
    return SegmentationStage(
        SelfieSegmenter(loader.load(SEGMENTATION_MODELS[c.segmentation_model]), smoothing)
    )


BUILDERS: dict[str, Callable[[PerceptionConfig, ModelLoader], Stage]] = {
    "faces": build_faces,
    "segmentation": build_segmentation,
    "poses": build_poses,
    "hands": build_hands,
}
"""How each stage is built, in the order stages run on a frame: the pose stage reads the faces
(to find bodies) and the person mask (to gate them)."""


class Perception:
    """Runs the configured stages on each frame; holds their trackers (``reset()`` clears them)."""

    def __init__(self, config: PerceptionConfig | None = None, loader: ModelLoader | None = None) -> None:
        self.config = c = config or PerceptionConfig()
        self._loader = loader or ModelLoader(config=c.runtime)
        self.failures: Counter[str] = Counter()
        """Frames on which a stage failed, by stage name."""
        self.frames = 0
        self._built: dict[str, Stage] = {}
        self._active: set[str] = set()
        self.set_stages(faces=c.faces, poses=c.poses, hands=c.hands, segmentation=c.segmentation)

    @property
    def stages(self) -> frozenset[str]:
        """The stages that run on each frame: ``faces``, ``poses``, ``hands``, ``segmentation``."""
        return frozenset(self._active)

    def stage(self, name: str) -> Stage | None:
        """The stage ``name`` once built (its models loaded), else ``None``."""
        _check(name)
        return self._built.get(name)

    def set_stages(self, **on: bool | None) -> None:
        """Switch stages on or off by name (``None``: unchanged). A stage's models are loaded the
        first time it is switched on; a stage switched off forgets its tracks, so it starts afresh
        when back."""
        for name, wanted in on.items():
            _check(name)
            if wanted is None or wanted == (name in self._active):
                continue
            if wanted:
                self._build(name)
                self._active.add(name)
            else:
                self._active.discard(name)
                built = self._built.get(name)
                if built is not None:
                    built.reset()

    def prepare(self, *stages: str) -> None:
        """Load the models of these stages now (without switching them on), so that switching
        them on later does not stall a frame."""
        for name in stages:
            _check(name)
            self._build(name)

    def _build(self, name: str) -> Stage:
        if name not in self._built:
            self._built[name] = BUILDERS[name](self.config, self._loader)
        return self._built[name]

    def reset(self) -> None:
        """Forget all tracks and smoothing state: the next frame is detected afresh."""
        for built in self._built.values():
            built.reset()

    @property
    def detector_runs(self) -> dict[str, int]:
        """Detector runs so far, by stage (the stages that have a detector and are built)."""
        runs = {name: built.detector_runs for name, built in self._built.items()}
        return {name: n for name, n in runs.items() if n is not None}

    def process(self, frame: object, timestamp: float | None = None) -> FrameResult:
        """Perceive one RGB ``uint8`` frame ``(H, W, 3)``; ``timestamp`` in seconds (video mode)."""
        t0 = time.perf_counter()
        image = validate_frame(frame)
        ts = self.frames / DEFAULT_FPS if timestamp is None else float(timestamp)
        self.frames += 1
        h, w = image.shape[:2]
        result = FrameResult(width=w, height=h)
        with span("perception"):
            for name in BUILDERS:
                built = self._built.get(name)
                if built is None or name not in self._active:
                    continue
                try:
                    with span(name):
                        built.process(image, ts, result)
                except Exception:
                    self._fail(built, result)
        result.timings["total"] = (time.perf_counter() - t0) * 1e3
        return result

    def _fail(self, stage: Stage, result: FrameResult) -> None:
        name = stage.name
        self.failures[name] += 1
        result.errors.append(name)
        if self.failures[name] == 1 or self.failures[name] % 100 == 0:
            logger.exception(
                "%s stage failed on frame %d (%d failures so far)", name, self.frames, self.failures[name]
            )
        stage.reset()


def _check(name: str) -> None:
    if name not in BUILDERS:
        raise InputError(f"perception stage: expected one of {', '.join(BUILDERS)}, got {name!r}")
