"""Finding every body (``tryon.track.bodies``) and gating them (``tryon.track.gate``).

Real people: ``zidane.jpg`` (1280×720: two men in suits, upper bodies; the right one faces the
camera, the left one leans towards it) and ``bus.jpg`` (810×1080: a street; the two men in the
middle face the camera, a person cut by each side does not show a torso and a face). Both come
from the ``ultralytics`` 8.4.190 wheel on PyPI (``ultralytics/assets``), whose metadata says
``License: AGPL-3.0`` (AGPLv3+); they are fetched into a cache by ``tests/photos.py`` and never
committed. The people's face boxes below were read off the photos by hand.

Synthetic people: ``skimage.data.astronaut()`` (public domain), composed twice, shrunk, moved
(``tryon.testing``); the gate's rules on ``synthetic_pose`` bodies of known geometry.
"""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest
from numpy.typing import NDArray

from tryon.detect.ssd import FACE_FULL_RANGE, SsdDetector
from tryon.detect.tiles import TileConfig, detect_tiled, tiles
from tryon.errors import InputError
from tryon.perception import BodyStage, Perception, PerceptionConfig
from tryon.results import Face, FrameResult, Pose
from tryon.runtime.session import ModelLoader, RuntimeConfig
from tryon.runtime.store import ModelStore
from tryon.testing import moving, synthetic_pose
from tryon.track.bodies import BodyTracker
from tryon.track.gate import FaceBox, GateConfig, check, on_person, one_per_person

Box = tuple[float, float, float, float]

PEOPLE: dict[str, list[Box]] = {
    # The face of each person whose torso faces the camera (xmin, ymin, xmax, ymax), by hand.
    "zidane.jpg": [(520, 280, 690, 450), (910, 115, 1075, 280)],
    "bus.jpg": [(105, 420, 170, 485), (255, 400, 330, 475)],
}


@pytest.fixture(scope="module")
def loader(store: ModelStore) -> ModelLoader:
    return ModelLoader(store, RuntimeConfig(providers=("cpu",), threads=2))


@pytest.fixture(scope="module")
def photo_mode(loader: ModelLoader) -> Perception:
    config = PerceptionConfig(
        static_image_mode=True, face_detector="full", max_faces=4, poses=True, max_poses=4, segmentation=True
    )
    return Perception(config, loader)


def inside(xy: NDArray[np.floating], box: Box, grow: float = 0.0) -> bool:
    m = grow * (box[2] - box[0])
    return bool(box[0] - m <= xy[0] <= box[2] + m and box[1] - m <= xy[1] <= box[3] + m)


def shoulders_on_person(pose: Pose, mask: NDArray[np.float32]) -> bool:
    """Each shoulder joint on the person mask: the mask is ≥ 0.5 within an eighth of the
    shoulder width of it (a joint lies near the silhouette's edge, and dark clothes leave holes in
    the mask), and ≥ 0.3 on average over a quarter-width square around it."""
    width = float(np.linalg.norm(pose.xy[11] - pose.xy[12]))
    r = max(round(width / 8), 1)
    for i in (11, 12):
        x, y = (round(float(v)) for v in pose.xy[i])
        near = mask[max(y - r, 0) : y + r + 1, max(x - r, 0) : x + r + 1]
        if not (near.size and near.max() >= 0.5 and on_person(mask, pose.xy[i], width / 4) >= 0.3):
            return False
    return True


def two_astronauts(astronaut: NDArray[np.uint8], side: int, size: tuple[int, int]) -> NDArray[np.uint8]:
    """Two copies of the astronaut, ``side`` px each, at the bottom corners of a grey frame."""
    w, h = size
    small = cv2.resize(astronaut, (side, side), interpolation=cv2.INTER_AREA)
    frame = np.full((h, w, 3), 90, np.uint8)
    frame[h - side :, :side] = small
    frame[h - side :, w - side :] = small
    return frame


# -- real photos ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PEOPLE))
def test_every_person_facing_the_camera_gets_one_plausible_pose(
    photo_mode: Perception, real_photos: dict[str, NDArray[np.uint8]], name: str
) -> None:
    image = real_photos[name]
    h, w = image.shape[:2]
    result = photo_mode.process(image)
    assert result.segmentation is not None
    mask = result.segmentation.mask
    for pose in result.poses:
        shoulders = pose.xy[[11, 12]]
        assert np.all((shoulders >= 0) & (shoulders < (w, h))), pose.id
        assert np.all(pose.visibility[[11, 12]] >= 0.5), pose.id
        assert shoulders_on_person(pose, mask), pose.id
    for face in PEOPLE[name]:
        mine = [p for p in result.poses if inside(p.xy[0], face, grow=0.25)]
        assert len(mine) == 1, (face, [p.xy[0] for p in result.poses])
        # The shoulders are below the face, about a face or two apart.
        pose = mine[0]
        assert pose.xy[[11, 12], 1].min() > face[1] + 0.5 * (face[3] - face[1])
        assert 0.8 < np.linalg.norm(pose.xy[11] - pose.xy[12]) / (face[2] - face[0]) < 3.0
    assert len(result.poses) >= len(PEOPLE[name])
    assert len({p.id for p in result.poses}) == len(result.poses)


# -- synthetic people, photo mode -------------------------------------------------------------------


def test_two_people_side_by_side(photo_mode: Perception, astronaut: NDArray[np.uint8]) -> None:
    frame = two_astronauts(astronaut, 400, (960, 520))
    result = photo_mode.process(frame)
    assert result.segmentation is not None
    assert len(result.poses) == 2
    left, right = sorted(result.poses, key=lambda p: float(p.xy[0, 0]))
    assert left.xy[[0, 11, 12], 0].max() < 400 < 560 < right.xy[[0, 11, 12], 0].min()
    assert left.id != right.id
    for pose in result.poses:
        assert shoulders_on_person(pose, result.segmentation.mask)


def test_a_small_person_is_found_in_a_large_photo(
    loader: ModelLoader, photo_mode: Perception, astronaut: NDArray[np.uint8]
) -> None:
    """A face of 40 px in a 1440×1080 photo: found on the 512-px tiles, not in the whole image;
    the body under it reaches the result."""
    scale = 40 / 104  # the astronaut's face box is 104 px wide
    small = cv2.resize(astronaut, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    frame = np.full((1080, 1440, 3), 110, np.uint8)
    x0, y0 = 700, 1080 - small.shape[0]
    frame[y0:, x0 : x0 + small.shape[1]] = small
    face = (x0 + 173 * scale, y0 + 67 * scale, x0 + 277 * scale, y0 + 171 * scale)
    detector = SsdDetector(loader.load(FACE_FULL_RANGE.model), FACE_FULL_RANGE)
    assert not any(inside(np.array(d.keypoints[2]), face) for d in detector.detect(frame))
    found = detect_tiled(detector, frame)
    assert any(inside(np.array(d.keypoints[2]), face) for d in found)
    result = photo_mode.process(frame)
    assert len(result.poses) == 1
    assert inside(result.poses[0].xy[0], face, grow=0.25)


def test_a_face_seeded_pose_takes_the_face_id(loader: ModelLoader, astronaut: NDArray[np.uint8]) -> None:
    """With the pose detector off, bodies come from faces alone (photo mode), with their ids."""
    perception = Perception(
        PerceptionConfig(static_image_mode=True, face_detector="full", max_faces=2, poses=True, max_poses=2),
        loader,
    )
    stage = perception.stage("poses")
    assert isinstance(stage, BodyStage)
    stage.tracker.config = replace(stage.tracker.config, min_detection_confidence=1.01)
    result = perception.process(two_astronauts(astronaut, 400, (960, 520)))
    assert stage.tracker.seeds == 2
    assert len(result.faces) == len(result.poses) == 2
    for face in result.faces:
        mine = pose_of(result.poses, face)
        assert mine is not None
        assert mine.id == face.id


def pose_of(poses: list[Pose], face: Face) -> Pose | None:
    """The pose whose nose is the face's (within an eye span)."""
    return next(
        (p for p in poses if np.linalg.norm(p.xy[0] - face.landmarks[1, :2]) < face.interocular), None
    )


def test_tiles_are_bounded() -> None:
    assert tiles(640, 480) == [(0, 0, 640)]  # a webcam frame: the whole image only
    assert len(tiles(1280, 720)) == len(tiles(810, 1080)) == 7
    assert len(tiles(1920, 1080)) == 16
    big = tiles(6000, 4000)
    assert big[0] == (0, 0, 6000)
    assert len(big) <= 1 + TileConfig().max_tiles
    for x, y, side in big[1:]:  # inside the image
        assert x >= 0
        assert y >= 0
        assert (x + side, y + side) <= (6000, 4000)
    with pytest.raises(InputError):
        TileConfig(tile=4)


# -- video ------------------------------------------------------------------------------------------


def video(loader: ModelLoader, **kw: object) -> Perception:
    config = PerceptionConfig(faces=True, face_detector="full", max_faces=2, poses=True, max_poses=2)
    return Perception(replace(config, **kw), loader)  # type: ignore[arg-type]


def test_ids_stay_with_their_people_while_they_move(
    loader: ModelLoader, astronaut: NDArray[np.uint8]
) -> None:
    scene = two_astronauts(astronaut, 320, (640, 480))
    perception = video(loader, detect_interval=5, segmentation=True)
    sides: dict[int, set[str]] = {}
    for i, t in enumerate(moving(16)):
        result = perception.process(t.apply(scene, border=cv2.BORDER_CONSTANT), i / 30)
        if i >= 3:  # the second person is looked for on frame 2 (the detectors take turns)
            assert len(result.poses) == 2, (i, result.rejected)
        for pose in result.poses:
            sides.setdefault(pose.id, set()).add("left" if pose.xy[0, 0] < 320 else "right")
    assert len(sides) == 2  # two ids in all
    assert sorted(len(s) for s in sides.values()) == [1, 1]
    assert {s.pop() for s in sides.values()} == {"left", "right"}


def test_a_new_person_is_dressed_after_three_frames(
    loader: ModelLoader, astronaut: NDArray[np.uint8]
) -> None:
    both = two_astronauts(astronaut, 320, (640, 480))
    alone = both.copy()
    alone[:, 320:] = 90
    perception = video(loader)
    counts, waiting = [], []
    for i in range(9):
        result = perception.process(alone if i < 3 else both, i / 30)
        counts.append(len(result.poses))
        waiting.append(result.rejected.get("unconfirmed", 0))
    assert counts[:3] == [1, 1, 1]  # the first frame of a stream is dressed like a photo
    # The newcomer waits from the first frame its pose is plausible (with its face found) until
    # it has been seen for confirm_frames frames, then stays dressed.
    wait = next(i for i, n in enumerate(waiting) if n)
    first = counts.index(2)
    assert 3 <= wait <= 5
    assert first - wait == GateConfig().confirm_frames - 1
    assert waiting[wait:first] == [1] * (first - wait)
    assert counts[:first] == [1] * first
    assert counts[first:] == [2] * (9 - first)
    assert sum(waiting[first:]) == 0


def test_live_mode_seeds_a_body_from_a_face_on_the_detector_frames(
    loader: ModelLoader, astronaut: NDArray[np.uint8]
) -> None:
    """The pose detector off: each person's body comes from their face, on the detector's frames
    only (every 3rd, phase 1), once: then it is tracked; its id is the face's."""
    scene = two_astronauts(astronaut, 320, (640, 480))
    perception = video(loader, detect_interval=3)
    stage = perception.stage("poses")
    assert isinstance(stage, BodyStage)
    tracker: BodyTracker = stage.tracker
    tracker.config = replace(tracker.config, min_detection_confidence=1.01)
    seeds = []
    for i in range(8):
        result = perception.process(scene, i / 30)
        seeds.append(tracker.seeds)
    assert seeds == [0, 2, 2, 2, 2, 2, 2, 2]  # frame 1: both faces (seen since frame 0)
    assert len(result.poses) == 2
    for face in result.faces:
        mine = pose_of(result.poses, face)
        assert mine is not None
        assert mine.id == face.id


# -- the gate ---------------------------------------------------------------------------------------

SIZE = (640, 480)
FRONTAL = {
    0: (320.0, 150.0),
    2: (333.0, 138.0),
    5: (307.0, 138.0),
    7: (345.0, 145.0),
    8: (295.0, 145.0),
    9: (330.0, 168.0),
    10: (310.0, 168.0),
    11: (380.0, 235.0),
    12: (260.0, 235.0),
    23: (355.0, 405.0),
    24: (285.0, 405.0),
}
"""A frontal body: head 72 px (2.4 × eyes-to-mouth), shoulders 120 px apart, torso 170 px."""
FACE = FaceBox((285.0, 105.0, 355.0, 185.0), np.array([320.0, 145.0]), np.array([0.0, -1.0]), 72.0, id=7)


def body(**moved: tuple[float, float]) -> dict[int, tuple[float, float]]:
    names = {"l_shoulder": 11, "r_shoulder": 12, "l_hip": 23, "r_hip": 24}
    return {**FRONTAL, **{names[k]: v for k, v in moved.items()}}


def test_the_gate_passes_a_frontal_body_vouched_for_by_its_face() -> None:
    verdict = check(synthetic_pose(FRONTAL), SIZE, [FACE], None, True, GateConfig())
    assert verdict.reason is None
    assert verdict.face is FACE
    # No face looked for, no mask: nothing to check the head against, the shape is human.
    assert check(synthetic_pose(FRONTAL), SIZE, [], None, False, GateConfig()).reason is None


def test_the_gate_refuses_hidden_or_outside_shoulders() -> None:
    pose = synthetic_pose(FRONTAL)
    hidden = pose.landmarks.copy()
    hidden[12, 3] = 0.2
    assert (
        check(replace(pose, landmarks=hidden), SIZE, [FACE], None, True, GateConfig()).reason == "shoulders"
    )
    outside = synthetic_pose(body(l_shoulder=(660.0, 235.0)))
    assert check(outside, SIZE, [FACE], None, True, GateConfig()).reason == "shoulders"


def test_the_gate_refuses_hidden_hips_only_when_they_are_required() -> None:
    pose = synthetic_pose(FRONTAL)
    hidden = pose.landmarks.copy()
    hidden[[23, 24], 3] = 0.1
    pose = replace(pose, landmarks=hidden)
    assert check(pose, SIZE, [FACE], None, True, GateConfig()).reason is None
    assert check(pose, SIZE, [FACE], None, True, GateConfig(require_hips=True)).reason == "hips"


def test_the_gate_refuses_a_head_far_from_every_face() -> None:
    elsewhere = FaceBox(
        (500.0, 40.0, 570.0, 120.0), np.array([535.0, 80.0]), np.array([0.0, -1.0]), 72.0, id=3
    )
    pose = synthetic_pose(FRONTAL)
    assert check(pose, SIZE, [elsewhere], None, True, GateConfig()).reason == "no_face"
    assert check(pose, SIZE, [], None, True, GateConfig()).reason == "no_face"  # faces looked for, none
    # With a person mask, the mask vouches for a head no face was found on ...
    mask = np.zeros((480, 640), np.float32)
    cv2.rectangle(mask, (240, 100), (400, 479), 1.0, -1)
    assert check(pose, SIZE, [elsewhere], mask, True, GateConfig()).reason is None
    # ... and a body off the person is refused.
    assert check(pose, SIZE, [elsewhere], np.zeros_like(mask), True, GateConfig()).reason == "off_person"
    shifted = np.zeros_like(mask)
    cv2.rectangle(shifted, (240, 100), (400, 200), 1.0, -1)  # the head on the person, the chest not
    assert check(pose, SIZE, [FACE], shifted, True, GateConfig()).reason == "off_person"


def test_the_gate_refuses_inhuman_proportions() -> None:
    wide = synthetic_pose(body(l_shoulder=(560.0, 235.0), r_shoulder=(80.0, 235.0)))  # 480 px: 6.7 faces
    assert check(wide, SIZE, [FACE], None, True, GateConfig()).reason == "proportions"
    narrow = synthetic_pose(body(l_shoulder=(335.0, 235.0), r_shoulder=(305.0, 235.0)))  # 0.4 faces
    assert check(narrow, SIZE, [FACE], None, True, GateConfig()).reason == "proportions"
    long = synthetic_pose(body(l_hip=(355.0, 470.0), r_hip=(285.0, 470.0)))  # torso 1.95 shoulders: fine
    assert check(long, SIZE, [FACE], None, True, GateConfig()).reason is None
    squashed = synthetic_pose(body(l_hip=(355.0, 255.0), r_hip=(285.0, 255.0)))  # torso 0.17 shoulders
    assert check(squashed, SIZE, [FACE], None, True, GateConfig()).reason == "proportions"
    # Without a face, the head size comes from the pose's own eyes, mouth and ears.
    assert check(wide, SIZE, [], None, False, GateConfig()).reason == "proportions"


def test_duplicates_merge_into_the_first_by_priority() -> None:
    pose = synthetic_pose(FRONTAL).xy
    rng = np.random.default_rng(0)
    jittered = pose + rng.normal(0, 6, pose.shape).astype(np.float32)  # 5 % of the shoulder width
    turned = pose.copy()
    turned[[11, 12]] += (25, 18)  # the shoulders read otherwise, the head the same: one person
    neighbour = pose + np.array([150, 0], np.float32)
    kept = one_per_person([pose, jittered, neighbour, turned], GateConfig().duplicate_distance)
    assert kept == [0, 2]
    assert one_per_person([neighbour, pose], 0.25) == [0, 1]


def test_refusals_are_counted_by_reason_in_the_result() -> None:
    result = FrameResult(width=640, height=480)
    assert "rejected" not in result.to_json()
    result.reject("shoulders")
    result.reject("shoulders")
    result.reject("unconfirmed", 3)
    assert result.rejected == {"shoulders": 2, "unconfirmed": 3}
    assert result.to_json()["rejected"] == {"shoulders": 2, "unconfirmed": 3}
    with pytest.raises(InputError, match="expected a reason in shoulders, hips"):
        result.reject("ugly")
    with pytest.raises(InputError, match="expected a count"):
        result.reject("hips", -1)
    with pytest.raises(InputError, match="got 'bogus'"):
        FrameResult(width=1, height=1, rejected={"bogus": 1})


def test_the_pose_stage_runs_after_segmentation_and_never_drops_a_face(
    loader: ModelLoader, astronaut: NDArray[np.uint8]
) -> None:
    from tryon.perception import BUILDERS

    order = list(BUILDERS)
    assert order.index("faces") < order.index("segmentation") < order.index("poses")
    image = np.ascontiguousarray(astronaut[:200])  # her face, not her shoulders
    config = PerceptionConfig(static_image_mode=True, face_detector="full", segmentation=True)
    alone = Perception(config, loader).process(image)
    result = Perception(replace(config, poses=True), loader).process(image)
    assert result.poses == []
    assert len(result.faces) == len(alone.faces) == 1
    assert np.array_equal(result.faces[0].landmarks, alone.faces[0].landmarks)


def test_a_pose_too_narrow_for_its_face_gets_a_second_look(
    photo_mode: Perception, real_photos: dict[str, NDArray[np.uint8]]
) -> None:
    """zidane.jpg at 60%: the pose detector's look at the right man gives shoulders as far apart as
    his face is tall (95 px for a ~150 px chest); a look seeded from his face sees him whole. Also
    in a dim copy, where the first look put both shoulders on his head."""
    import cv2

    from tryon.track.gate import FaceBox

    image = cv2.resize(real_photos["zidane.jpg"], (768, 432), interpolation=cv2.INTER_AREA)
    for frame in (image, np.clip(image.astype(np.float32) * 0.55, 0, 255).astype(np.uint8)):
        result = photo_mode.process(frame)
        face = max(result.faces, key=lambda f: float(f.landmarks[:, 0].mean()))  # the right man
        box = FaceBox.from_face(face)
        pose = min(result.poses, key=lambda p: float(np.linalg.norm(p.xy[0] - box.center)))
        width = float(np.linalg.norm(pose.xy[11] - pose.xy[12]))
        assert width >= 1.3 * box.size, (width, box.size)
        assert pose.xy[[11, 12], 1].min() > box.center[1], "shoulders below the face"
