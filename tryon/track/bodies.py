"""Bodies: every person's pose, from the pose detector and from faces, tracked and gated.

BlazePose's detector finds one, the most prominent, person per image, and misses people whose
face is small or turned. Its keypoints are the hips' midpoint and a point above the head whose
distance to it is the radius of the circle around the whole body; the landmark model's ROI is
that circle's square ×1.25 (``docs/mediapipe-params.md`` §7). The same ROI follows from a face
(:func:`body_roi`): on the test photos the hips' midpoint lies 3.8–4.2 face heights (forehead to
chin) below the face's centre and the scale point 1.1–1.35 above it, along the face's own up.

Per frame, :class:`BodyTracker`:

1. runs the detector: in video as MediaPipe does (while nobody is tracked, then every
   ``detect_interval`` frames while fewer than ``max_poses`` are), in photos on the whole image
   and on tiles (:mod:`tryon.detect.tiles`);
2. runs the landmark model on each tracked ROI and each new detection's;
3. seeds a body from each face no pose's head is on (the faces stage's meshes; in photos also the
   full-range face detector's finds on tiles): in video only on the detector's frames and while
   fewer than ``max_poses`` are tracked, one landmark run per such face; in photos a seeded ROI
   is refined once with the ROI of its own landmarks;
4. merges duplicates (heads, or both shoulders, within a quarter of the shoulder width: one
   person): confirmed tracks first, oldest first, then the other tracked poses, then new ones,
   each group best scored first;
5. gates each pose (:mod:`tryon.track.gate`): refused poses are counted in ``result.rejected``.
   Faces were looked for when the faces stage ran on the frame (its ``faces.landmarks`` timing
   is there and it did not fail) or, in photos, by this stage's own face search.

Ids: a pose keeps its id while tracked; a new pose takes the id of the face it was seeded from
(or whose head it has), unless that id was given before, else the next free one.

Cost: video, per frame, one landmark run per tracked person (as MediaPipe's pose tracker), the
detector on its frames, one landmark run per face without a body on those frames, and the gate
(< 1 ms). Photos: the detector on the whole image and its tiles (7 runs at 1280×720), the face
detector on the same tiles, at most ``max_candidates`` detections (one landmark run each) and
``max_candidates`` faces (``1 + refine`` runs each).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray

from tryon.detect.ssd import SsdDetector
from tryon.detect.tiles import TileConfig, detect_tiled
from tryon.errors import InputError
from tryon.frame import Frame, validate_frame
from tryon.geometry import Roi, box_iou, roi_iou
from tryon.landmarks.pose import (
    BODY_LANDMARKS,
    PoseLandmarkModel,
    PoseLandmarkOutput,
    alignment_roi,
    aux_object_scale,
    detection_to_roi,
)
from tryon.results import FrameResult, Pose
from tryon.smooth.one_euro import (
    POSE_AUXILIARY,
    POSE_LANDMARKS,
    POSE_WORLD,
    LandmarkSmoother,
    VisibilitySmoother,
)
from tryon.timing import timed
from tryon.track.gate import HEAD, SHOULDERS, FaceBox, GateConfig, Verdict, check, one_per_person

logger = logging.getLogger(__name__)

HIP_BELOW_FACE = 3.9
"""Face heights from the face's centre down to the hips' midpoint (MediaPipe's ROI centre)."""
SCALE_ABOVE_FACE = 1.2
"""Face heights from the face's centre up to MediaPipe's scale point (a body circle of ~5.1)."""
OVERLAP_IOU = 0.5
"""A new ROI overlapping a tracked one by more than this is the tracked person (MediaPipe's)."""
VISIBILITY_ALPHA = 0.1
EVIDENCE = ("no_face", "off_person")
"""The gate's reasons about whether a person is there at all (not about the pose's shape)."""


def body_roi(face: FaceBox) -> Roi:
    """The pose landmark model's ROI for the body under ``face`` (upright along the face)."""
    hips = face.center - HIP_BELOW_FACE * face.size * face.up
    top = face.center + SCALE_ABOVE_FACE * face.size * face.up
    return alignment_roi(hips, top)


@dataclass(frozen=True)
class BodyConfig:
    max_poses: int = 1
    min_detection_confidence: float = 0.5
    min_face_confidence: float = 0.6
    """The photo-mode face search's threshold (the full-range detector's own)."""
    min_tracking_confidence: float = 0.5
    static_image_mode: bool = False
    smooth: bool = True
    segmentation: bool = False
    detect_interval: int = 1
    detect_phase: int = 0
    seed_from_faces: bool = True
    refine: int = 1
    """Photo mode: extra landmark runs on a face-seeded ROI, each on the ROI of the last run."""
    max_candidates: int = 8
    """Photo mode: at most this many new ROIs (detections, then faces) get landmarks."""
    max_misses: int = 10
    """Video: a track the gate refuses this many frames in a row ends."""
    tiles: TileConfig = field(default_factory=TileConfig)
    gate: GateConfig = field(default_factory=GateConfig)

    def __post_init__(self) -> None:
        for name in ("max_poses", "detect_interval", "max_candidates", "max_misses"):
            if getattr(self, name) < 1:
                raise InputError(f"BodyConfig.{name}: expected ≥ 1, got {getattr(self, name)}")


@dataclass
class _Track:
    roi: Roi
    id: int | None = None
    """Given when the track is first kept (see :meth:`BodyTracker._give_id`)."""
    face_id: int | None = None
    """The id of the face the track was seeded from."""
    streak: int = 0
    """Frames in a row the gate found the pose plausible."""
    misses: int = 0
    """Frames in a row the gate refused it."""
    confirmed: bool = False
    """Dressed once (video): stays so while tracked, through a refused frame."""
    doubts: int = 0
    """Frames in a row a confirmed track's person evidence (face, mask) failed."""
    aux: LandmarkSmoother = field(default_factory=lambda: LandmarkSmoother(POSE_AUXILIARY))
    landmarks: LandmarkSmoother = field(default_factory=lambda: LandmarkSmoother(POSE_LANDMARKS))
    world: LandmarkSmoother = field(default_factory=lambda: LandmarkSmoother(POSE_WORLD))
    visibility: VisibilitySmoother = field(default_factory=lambda: VisibilitySmoother(VISIBILITY_ALPHA))


@dataclass
class _Seen:
    track: _Track
    out: PoseLandmarkOutput
    new: bool
    wider: bool = False
    """A photo's body seeded from a face whose pose came out too narrow for it (the detector saw
    the person too small): preferred to that pose when they are one person."""

    @property
    def xy(self) -> NDArray[np.float32]:
        return self.out.landmarks[:BODY_LANDMARKS, :2]


class BodyTracker:
    """Finds, tracks and gates up to ``config.max_poses`` people; fills ``result.poses`` and
    ``result.rejected``. ``face_detector``: the full-range face detector for the photo-mode face
    search (``None``: only the faces in ``result.faces`` seed bodies)."""

    def __init__(
        self,
        detector: SsdDetector,
        landmarker: PoseLandmarkModel,
        config: BodyConfig | None = None,
        face_detector: SsdDetector | None = None,
    ) -> None:
        self.detector = detector
        self.landmarker = landmarker
        self.face_detector = face_detector
        self.config = config or BodyConfig()
        self.detector_runs = 0
        """How many times the pose detector has run (a tiled search counts once)."""
        self.seeds = 0
        """How many bodies were seeded from faces."""
        self._tracks: list[_Track] = []
        self._issued: set[int] = set()
        self._next_id = 0
        self._frames = 0
        self._cold = True
        """No frame seen since the start or a reset: nothing to be stable over yet."""
        self._face_frames: dict[int, int] = {}
        """Frames in a row each face track id has been in ``result.faces``."""

    def reset(self) -> None:
        """Forget every track; ids are never given twice."""
        self._tracks = []
        self._cold = True
        self._face_frames = {}

    def _due(self) -> bool:
        c = self.config
        return (self._frames - c.detect_phase) % c.detect_interval == 0

    def update(self, frame: Frame, timestamp: float, result: FrameResult) -> list[Pose]:
        """Find, track and gate the poses of ``frame``; sets ``result.poses`` (by id) and counts
        refusals in ``result.rejected``. Reads ``result.faces`` and ``result.segmentation``."""
        frame = validate_frame(frame)
        c = self.config
        static = c.static_image_mode
        if static:
            self.reset()
        due = static or (self._due() and len(self._tracks) < c.max_poses)
        timings = result.timings
        faces = [FaceBox.from_face(f) for f in result.faces]
        self._face_frames = {f.id: self._face_frames.get(f.id, 0) + 1 for f in result.faces}
        searched = "faces.landmarks" in timings and "faces" not in result.errors
        fresh: list[_Track] = []
        if static or not self._tracks or due:
            with timed(timings, "poses.detect"):
                fresh = self._detect(frame)
        with timed(timings, "poses.landmarks"):
            seen = self._observe(frame, self._tracks, new=False) + self._observe(frame, fresh, new=True)
        if c.seed_from_faces and due:
            if static and self.face_detector is not None:
                with timed(timings, "poses.faces"):
                    faces += self._search_faces(self.face_detector, frame, faces)
                searched = True
            with timed(timings, "poses.landmarks"):
                seen += self._seed(frame, seen, faces)
        self._frames += 1
        with timed(timings, "poses.gate"):
            kept = self._merge(seen, result)
            poses = self._gate(frame, kept, faces, searched, timestamp, result)
        self._cold = False
        result.poses = poses
        return poses

    # -- finding ---------------------------------------------------------------------------------

    def _detect(self, frame: Frame) -> list[_Track]:
        """New tracks from the pose detector (tiled in photos), not overlapping tracked ROIs."""
        c = self.config
        self.detector_runs += 1
        if c.static_image_mode:
            detections = detect_tiled(self.detector, frame, c.min_detection_confidence, c.tiles)
            limit = c.max_candidates
        else:
            detections = self.detector.detect(frame, min_score=c.min_detection_confidence)
            limit = c.max_poses - len(self._tracks)
        fresh: list[_Track] = []
        for det in detections:
            if len(fresh) >= limit:
                break
            roi = detection_to_roi(det)
            if roi.valid and all(roi_iou(roi, t.roi) <= OVERLAP_IOU for t in [*self._tracks, *fresh]):
                fresh.append(_Track(roi))
        return fresh

    def _search_faces(self, detector: SsdDetector, frame: Frame, known: list[FaceBox]) -> list[FaceBox]:
        """Photo mode: faces on tiles that are not already known."""
        found = detect_tiled(detector, frame, self.config.min_face_confidence, self.config.tiles)
        out: list[FaceBox] = []
        for d in found:
            face = FaceBox.from_detection(d)
            if all(box_iou(face.box, k.box) <= 0.3 and not k.contains(face.center, 0.0) for k in known + out):
                out.append(face)
        return out

    def _run(self, frame: Frame, roi: Roi) -> PoseLandmarkOutput | None:
        if not roi.valid:
            return None
        out = self.landmarker.run(frame, roi, mask=self.config.segmentation)
        return out if out.score > self.config.min_tracking_confidence else None

    def _observe(self, frame: Frame, tracks: list[_Track], new: bool) -> list[_Seen]:
        seen = []
        for track in tracks:
            out = self._run(frame, track.roi)
            if out is not None:
                seen.append(_Seen(track, out, new))
            elif not new:
                logger.debug("pose track %s lost", track.id)
        return seen

    def _seed(self, frame: Frame, seen: list[_Seen], faces: list[FaceBox]) -> list[_Seen]:
        """Bodies under the faces no pose's head is on (in photos refined ``refine`` times)."""
        c = self.config
        room = c.max_candidates if c.static_image_mode else c.max_poses - len(self._tracks)
        out: list[_Seen] = []
        for face in faces:
            if len(out) >= room:
                break
            on_face = [s for s in [*seen, *out] if face.contains(s.xy[list(HEAD)], c.gate.face_margin)]
            narrow = c.static_image_mode and bool(on_face) and all(_too_narrow(s, face) for s in on_face)
            if on_face and not narrow:
                continue
            best = self._run(frame, body_roi(face))
            for _ in range(c.refine if c.static_image_mode else 0):
                if best is None:
                    break
                again = self._run(frame, alignment_roi(best.aux[0], best.aux[1]))
                if again is None or again.score < best.score:
                    break
                best = again
            if best is not None and not (
                narrow and _too_narrow_xy(best.landmarks[:BODY_LANDMARKS, :2], face)
            ):
                self.seeds += 1
                out.append(_Seen(_Track(best.roi, face_id=face.id), best, new=True, wider=narrow))
        return out

    # -- keeping ---------------------------------------------------------------------------------

    def _merge(self, seen: list[_Seen], result: FrameResult) -> list[_Seen]:
        """One pose per person: confirmed tracks first (oldest first: ids stay), then the other
        tracked poses, then new ones, each best scored first. A tracked pose that duplicates a
        kept one is counted (``duplicate``) and its track ends; a new one is the search finding a
        person twice, and is dropped silently."""

        def rank(s: _Seen) -> tuple[int, int, float]:
            if s.wider:  # a photo's person seen too small the first time
                return (0, -1, 0.0)
            if s.track.confirmed:
                return (0, s.track.id if s.track.id is not None else 0, 0.0)
            return (1 + s.new, 0, -s.out.score)

        order = sorted(seen, key=rank)
        keep = one_per_person([s.xy for s in order], self.config.gate.duplicate_distance)
        for i, s in enumerate(order):
            if i not in keep and not s.new:
                result.reject("duplicate")
        return [order[i] for i in keep]

    def _give_id(self, track: _Track, verdict: Verdict) -> int:
        """A new track's id: its seeding face's, else the face it stands under's, unless given
        before; else the next free one."""
        for wanted in (track.face_id, verdict.face.id if verdict.face is not None else None):
            if wanted is not None and wanted not in self._issued:
                self._issued.add(wanted)
                return wanted
        while self._next_id in self._issued:
            self._next_id += 1
        self._issued.add(self._next_id)
        return self._next_id

    def _gate(
        self,
        frame: Frame,
        seen: list[_Seen],
        faces: list[FaceBox],
        searched: bool,
        timestamp: float,
        result: FrameResult,
    ) -> list[Pose]:
        c = self.config
        h, w = frame.shape[:2]
        mask = result.segmentation.mask if result.segmentation is not None else None
        accepted: list[Pose] = []
        tracks: list[_Track] = []
        for s in seen:
            track = s.track
            pose, next_roi = self._finish(track, s.out, timestamp)
            verdict = check(pose, (w, h), faces, mask, searched, c.gate)
            if track.id is None:
                track.id = self._give_id(track, verdict)
            reason = self._judge(track, verdict)
            if reason is None:
                accepted.append(replace(pose, id=track.id))
            else:
                result.reject(reason)
            if next_roi.valid and track.misses < c.max_misses:
                track.roi = next_roi
                tracks.append(track)
        accepted = sorted(accepted, key=lambda p: -p.score)[: c.max_poses]
        if not c.static_image_mode:
            self._tracks = sorted(tracks, key=lambda t: -1 if t.id is None else t.id)[: c.max_poses]
        return sorted(accepted, key=lambda p: p.id)

    def _judge(self, track: _Track, verdict: Verdict) -> str | None:
        """The reason to keep this frame's pose of ``track`` back, if any; updates its counters.
        A confirmed track keeps its standing through ``max_misses - 1`` frames in a row of failed
        person evidence (a flickering person mask, a face missed): it is the same person."""
        reason = verdict.reason
        if reason in EVIDENCE and track.confirmed and track.doubts + 1 < self.config.max_misses:
            track.doubts += 1
            reason = None
        elif reason is None:
            track.doubts = 0
        if reason is not None:
            track.streak, track.misses = 0, track.misses + 1
            return reason
        track.streak, track.misses = track.streak + 1, 0
        track.confirmed = track.confirmed or self._stable(track, verdict)
        return None if track.confirmed else "unconfirmed"

    def _stable(self, track: _Track, verdict: Verdict) -> bool:
        """Whether a plausible pose may be dressed: in photos, on the first frame of a stream
        (nothing to be stable over: a single frame is a photo), or once the person has been seen
        for ``confirm_frames`` frames in a row, as this body or as the face that vouches for it."""
        n = self.config.gate.confirm_frames
        face = verdict.face
        face_frames = self._face_frames.get(face.id, 0) if face is not None and face.id is not None else 0
        return self.config.static_image_mode or self._cold or track.streak >= n or face_frames >= n

    def _finish(self, track: _Track, out: PoseLandmarkOutput, timestamp: float) -> tuple[Pose, Roi]:
        """Smooth one track's landmarks (video); its pose (id not yet set) and next ROI."""
        c = self.config
        video = not c.static_image_mode
        aux = out.aux
        scale = aux_object_scale(aux)
        if video:
            aux = track.aux.update(aux, timestamp, scale)
        next_roi = alignment_roi(aux[0], aux[1])
        xyz = out.landmarks[:BODY_LANDMARKS]
        visibility = out.visibility[:BODY_LANDMARKS]
        world = out.world[:BODY_LANDMARKS]
        if video and c.smooth:
            xyz = track.landmarks.update(xyz, timestamp, scale)
            visibility = track.visibility.update(visibility)
            world = track.world.update(world, timestamp, 1.0)
        landmarks = np.concatenate([xyz, visibility[:, None]], axis=1).astype(np.float32)
        pose = Pose(
            id=-1,
            score=out.score,
            landmarks=landmarks,
            presence=np.ascontiguousarray(out.presence[:BODY_LANDMARKS]),
            world=np.ascontiguousarray(world, dtype=np.float32),
            roi=out.roi,
            mask=out.mask,
        )
        return pose, next_roi


__all__ = ["HIP_BELOW_FACE", "SCALE_ABOVE_FACE", "BodyConfig", "BodyTracker", "body_roi"]


NARROW = 1.1
"""A pose whose shoulders are less than this many face heights apart is too narrow for its face
(an adult's are 1.5-2, a child's about 1.2, seen from the front; a little less turned)."""


def _too_narrow_xy(xy: NDArray[np.floating], face: FaceBox) -> bool:
    a, b = np.asarray(xy, np.float64)[SHOULDERS[0], :2], np.asarray(xy, np.float64)[SHOULDERS[1], :2]
    return float(np.linalg.norm(a - b)) < NARROW * face.size


def _too_narrow(seen: _Seen, face: FaceBox) -> bool:
    return _too_narrow_xy(seen.xy, face)
