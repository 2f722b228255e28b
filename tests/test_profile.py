"""``tryon profile``: the profile's numbers (stages add up to the frame, counts right), the trace
file's structure, the errors, the PNG timeline; and that tracing off records nothing."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from tryon.cli.main import main
from tryon.pipeline import PipelineConfig, TryOnPipeline
from tryon.profiling import SUM_TOLERANCE, SUM_TOLERANCE_MS, UNTIMED, profile, runtime_for, synthetic_source
from tryon.runtime.providers import cuda_device_count
from tryon.runtime.session import RuntimeConfig
from tryon.timing import recorder, span, step
from tryon.trace import FRAME, Tracer, load_events, render_timeline

LIPSTICK = "velvet-matte-lipstick:ruby-red"
FRAMES, WARMUP = 24, 4


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """``tryon profile --synthetic -p LIPSTICK --frames 24 --warmup 4 --json --trace``, run once."""
    out = tmp_path_factory.mktemp("profile")
    args = ["profile", "--synthetic", "-p", LIPSTICK, "--threads", "2"]
    args += ["--frames", str(FRAMES), "--warmup", str(WARMUP)]
    args += ["--json", str(out / "p.json"), "--trace", str(out / "t.json")]
    assert main(args) == 0
    return {"profile": json.loads((out / "p.json").read_text()), "trace": out / "t.json"}


def test_profile_json_counts_and_stages(run: dict[str, Any]) -> None:
    p = run["profile"]
    assert p["frames"] == FRAMES
    assert p["warmup"] == WARMUP
    assert p["input"] == "synthetic"
    assert p["look"] == [LIPSTICK]
    assert p["provider"] == "CPUExecutionProvider"
    assert p["threads"] == 2
    assert p["failed"] == 0
    assert p["dropped"] == 0
    assert p["fps"] > 0
    stages = {s["name"]: s for s in p["stages"]}
    for name in (
        "perception",
        "faces",
        "faces.detect",
        "faces.detect.model",
        "faces.landmarks",
        "faces.landmarks.crop",
        "faces.landmarks.model",
        "faces.landmarks.decode",
        "faces.smooth",
        "render",
        "render.makeup",
        "render.makeup.composite",
        "render.makeup.color",
        UNTIMED,
    ):
        assert name in stages, name
    # The face is tracked: landmarks on every frame; the detector only every detect_interval
    # frames while fewer than max_faces (2) are tracked (5 by default).
    assert stages["faces.landmarks"]["runs"] == FRAMES
    assert stages["faces.detect"]["runs"] == p["detector_runs"]["faces"]
    assert FRAMES // 5 <= p["detector_runs"]["faces"] <= FRAMES // 5 + 1
    for s in p["stages"]:
        assert 0 <= s["median_ms"] <= s["p95_ms"] <= s["max_ms"], s["name"]
        assert 1 <= s["runs"] <= s["calls"]


def test_profile_stages_add_up_to_the_frame(run: dict[str, Any]) -> None:
    p = run["profile"]
    total = p["frame_ms"]["total"]
    top = [s for s in p["stages"] if s["depth"] == 1 and s["name"] != UNTIMED]
    timed = sum(s["total_ms"] for s in top)
    # The top-level stages cover the frame but for untimed glue, within the stated tolerance.
    assert timed <= total
    assert total - timed <= max(SUM_TOLERANCE * total, SUM_TOLERANCE_MS * p["frames"]), (timed, total)
    assert sum(s["share"] for s in p["stages"] if s["depth"] == 1) == pytest.approx(1.0, abs=1e-6)
    # Children never exceed their parent.
    by_name = {s["name"]: s for s in p["stages"]}
    kids: dict[str, float] = defaultdict(float)
    for s in p["stages"]:
        if s["depth"] > 1:
            kids[s["parent"]] += s["total_ms"]
    for parent, ms in kids.items():
        assert ms <= by_name[parent]["total_ms"] * 1.001 + 1e-6, parent


def check_trace(events: list[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    """Trace-event structure: every complete event well formed, per thread ts monotonic, every
    span inside its frame and properly nested; returns the frames per thread."""
    assert events[0] == {**events[0], "ph": "M", "name": "process_name"}
    named = {e["tid"] for e in events if e["ph"] == "M" and e["name"] == "thread_name"}
    xs = [e for e in events if e["ph"] == "X"]
    assert xs
    frames: dict[int, list[dict[str, Any]]] = defaultdict(list)
    by_tid: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for e in xs:
        assert set(e) >= {"name", "ph", "ts", "dur", "pid", "tid"}
        assert isinstance(e["ts"], int | float)
        assert e["dur"] >= 0
        assert e["tid"] in named
        by_tid[e["tid"]].append(e)
    eps = 1e-3
    for tid, spans in by_tid.items():
        assert [e["ts"] for e in spans] == sorted(e["ts"] for e in spans), f"thread {tid}: ts not monotonic"
        open_: list[dict[str, Any]] = []
        for e in spans:
            while open_ and e["ts"] >= open_[-1]["ts"] + open_[-1]["dur"] - eps:
                open_.pop()
            if e["name"] == FRAME:
                assert not open_, f"thread {tid}: a frame inside {open_[-1]['name']}"
                frames[tid].append(e)
            else:
                assert open_, f"thread {tid}: {e['name']} outside any frame"
                parent = open_[-1]
                assert e["ts"] + e["dur"] <= parent["ts"] + parent["dur"] + eps, (e, parent)
            open_.append(e)
    return frames


def test_trace_file_structure(run: dict[str, Any]) -> None:
    events = load_events(run["trace"])
    frames = check_trace(events)
    assert len(frames) == 1
    (spans,) = frames.values()
    assert len(spans) == FRAMES
    assert [f["args"]["frame"] for f in spans] == list(range(FRAMES))
    names = {e["name"] for e in events if e["ph"] == "X"}
    assert {"perception", "faces.landmarks.model", "render.makeup"} <= names


def test_timeline_png_is_drawn(run: dict[str, Any], tmp_path: Path) -> None:
    out = render_timeline(load_events(run["trace"]), tmp_path / "trace.png", frames=2)
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 10_000
    with pytest.raises(ValueError, match="no frame"):
        render_timeline([{"ph": "M", "name": "process_name"}], tmp_path / "none.png")


def test_without_a_recorder_nothing_is_recorded() -> None:
    assert recorder() is None
    tracer = Tracer()
    with span("x"), step("y"):
        pass
    assert tracer.frames == 0
    with tracer.frame(frame=0), span("outer"), step("inner"):
        pass
    names = [e["name"] for e in tracer.events() if e["ph"] == "X"]
    assert names == [FRAME, "outer", "outer.inner"]
    assert recorder() is None


def test_profile_library_on_a_perception_only_pipeline() -> None:
    config = PipelineConfig(runtime=RuntimeConfig(threads=2))
    p = profile(TryOnPipeline([], config=config), synthetic_source(12), frames=5, warmup=0)
    assert p.frames == 5
    assert p.look == []
    assert p.stage("render") is None
    assert p.stage("faces.landmarks") is not None
    assert p.detector_runs["faces"] >= 1


def test_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    if cuda_device_count() == 0:  # no GPU: the GPU providers are refused, with the reason
        assert main(["profile", "--synthetic", "--provider", "cuda", "--frames", "1"]) == 2
        assert "CUDAExecutionProvider cannot run here" in capsys.readouterr().err
    assert main(["profile", str(tmp_path / "none.mp4")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["profile", str(tmp_path)]) == 2
    assert "no images" in capsys.readouterr().err
    with pytest.raises(Exception, match="--threads"):
        runtime_for(None, 0)
