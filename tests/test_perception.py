"""The Perception pipeline and ``tryon landmarks``: results, timings, failures, CLI output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from numpy.typing import NDArray

from tryon.perception import Perception, PerceptionConfig, TrackerStage
from tryon.runtime.session import ModelLoader, RuntimeConfig
from tryon.runtime.store import ModelStore
from tryon.testing import moving

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def loader(store: ModelStore) -> ModelLoader:
    return ModelLoader(store, RuntimeConfig(providers=("cpu",), threads=2))


def test_all_stages_with_timings(loader: ModelLoader, astronaut: NDArray[np.uint8]) -> None:
    config = PerceptionConfig(faces=True, poses=True, hands=True, segmentation=True, iris=True)
    p = Perception(config, loader)
    result = p.process(astronaut)
    assert (result.width, result.height) == (512, 512)
    assert len(result.faces) == 1
    assert result.faces[0].landmarks.shape == (478, 3)
    assert len(result.poses) == 1
    assert result.segmentation is not None
    assert result.segmentation.mask.shape == (512, 512)
    for stage in (
        "faces.detect",
        "faces.landmarks",
        "faces.iris",
        "poses.detect",
        "poses.landmarks",
        "hands.detect",
        "segmentation",
        "total",
    ):
        assert result.timings[stage] > 0, stage
    assert result.errors == []
    # The face is inside the person mask, the top-left sky is not.
    x, y = result.faces[0].landmarks[1, :2].astype(int)
    assert result.segmentation.mask[y, x] > 0.9
    assert result.segmentation.mask[5, 5] < 0.1


def test_failing_stage_is_counted_and_the_rest_still_runs(
    loader: ModelLoader, portrait: NDArray[np.uint8], monkeypatch: pytest.MonkeyPatch
) -> None:
    p = Perception(PerceptionConfig(faces=True, segmentation=True), loader)
    faces = p.stage("faces")
    assert isinstance(faces, TrackerStage)

    def boom(*_: Any, **__: Any) -> Any:
        raise RuntimeError("simulated model failure")

    monkeypatch.setattr(faces.tracker, "update", boom)
    result = p.process(portrait)
    assert result.errors == ["faces"]
    assert result.faces == []
    assert result.segmentation is not None
    assert p.failures["faces"] == 1
    monkeypatch.undo()
    assert len(p.process(portrait).faces) == 1  # recovers on the next frame


def test_video_mode_tracks_and_reset_redetects(loader: ModelLoader, portrait: NDArray[np.uint8]) -> None:
    p = Perception(PerceptionConfig(faces=True, poses=True), loader)
    for i, t in enumerate(moving(8)):
        r = p.process(t.apply(portrait), i / 30)
        assert len(r.faces) == 1
        assert r.faces[0].id == 0
    assert p.detector_runs["faces"] == 1
    p.reset()
    p.process(portrait)
    assert p.detector_runs["faces"] == 2


def test_frame_result_json_layout(loader: ModelLoader, portrait: NDArray[np.uint8]) -> None:
    r = Perception(PerceptionConfig(faces=True, poses=True, hands=True, static_image_mode=True), loader)
    doc = r.process(portrait).to_json()
    assert set(doc) == {"width", "height", "faces", "poses", "hands"}
    face = doc["faces"][0]
    assert set(face) == {"id", "score", "head_pose", "landmarks"}
    assert set(face["head_pose"]) == {"yaw", "pitch", "roll", "scale"}
    assert abs(face["head_pose"]["yaw"]) < 15  # the astronaut faces the camera
    assert len(face["landmarks"]) == 468
    assert all(len(p) == 3 for p in face["landmarks"])
    assert all(len(p) == 4 for p in doc["poses"][0]["landmarks"])


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tryon", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "COLUMNS": "120"},
        timeout=600,
    )


def test_cli_landmarks_image(tmp_path: Path, astronaut: NDArray[np.uint8]) -> None:
    path = tmp_path / "astronaut.png"
    cv2.imwrite(str(path), astronaut[:, :, ::-1])
    proc = run_cli("landmarks", str(path), "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert (doc["width"], doc["height"]) == (512, 512)
    assert len(doc["faces"]) == 1
    assert len(doc["faces"][0]["landmarks"]) == 468
    assert len(doc["poses"]) == 1
    assert len(doc["poses"][0]["landmarks"]) == 33
    nose = doc["faces"][0]["landmarks"][1]
    assert 150 < nose[0] < 300
    assert 100 < nose[1] < 200


def test_cli_landmarks_video(tmp_path: Path, portrait: NDArray[np.uint8]) -> None:
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30, (360, 360))
    for t in moving(6):
        writer.write(np.ascontiguousarray(t.apply(portrait)[:, :, ::-1]))
    writer.release()
    proc = run_cli("landmarks", str(path), "--jsonl", "--no-hands")
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(lines) == 6
    assert all(len(d["faces"]) == 1 and d["faces"][0]["id"] == 0 for d in lines)
    assert "landmarks" in proc.stderr  # the progress bar


@pytest.mark.parametrize("content", [b"", b"this is not an image or a video"])
def test_cli_unreadable_file_exits_2(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "broken.jpg"
    path.write_bytes(content)
    proc = run_cli("landmarks", str(path))
    assert proc.returncode == 2
    assert "broken.jpg" in proc.stderr
    assert proc.stdout == ""


def test_cli_missing_file_exits_2(tmp_path: Path) -> None:
    proc = run_cli("landmarks", str(tmp_path / "nope.png"))
    assert proc.returncode == 2
    assert "no such file" in proc.stderr
