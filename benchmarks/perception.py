"""Perception pipelines at 640×480 in video mode: ours (ONNX Runtime, CPU) against the mediapipe
0.10.14 solutions (TFLite + XNNPACK) on the same frames, in the same run.

Pipelines: face tracking (FaceMesh), pose + segmentation (Pose with its mask), hands, and
selfie segmentation. Prints two tables (pipelines with ratios; our per-stage times) and writes JSON.

    python benchmarks/perception.py [--frames 150] [--threads 2] [--out benchmarks/results/perception.json]
"""

from __future__ import annotations

import argparse
import os
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray
from report import write_results
from rich.console import Console
from rich.table import Table

from tryon.perception import Perception, PerceptionConfig
from tryon.runtime.session import RuntimeConfig
from tryon.testing import moving


def frames_640x480(n: int) -> list[NDArray[np.uint8]]:
    """The astronaut (public domain) as a 640×480 webcam-like frame, moving smoothly."""
    from skimage.data import astronaut

    img = cv2.resize(np.asarray(astronaut()), (480, 480), interpolation=cv2.INTER_AREA)  # type: ignore[no-untyped-call]
    base = np.asarray(cv2.copyMakeBorder(img, 0, 0, 80, 80, cv2.BORDER_REFLECT), dtype=np.uint8)
    return [t.apply(base) for t in moving(n)]


def stats(ms: list[float]) -> dict[str, float]:
    a = np.asarray(ms[5:] if len(ms) > 10 else ms)  # first frames: warm-up and detection
    return {"median_ms": float(np.median(a)), "p95_ms": float(np.percentile(a, 95))}


def time_loop(
    frames: list[NDArray[np.uint8]], step: Callable[[int, NDArray[np.uint8]], object]
) -> list[float]:
    out = []
    for i, f in enumerate(frames):
        t0 = time.perf_counter()
        step(i, f)
        out.append((time.perf_counter() - t0) * 1e3)
    return out


def run_ours(
    config: PerceptionConfig, frames: list[NDArray[np.uint8]]
) -> tuple[list[float], dict[str, list[float]], dict[str, int]]:
    p = Perception(config)
    p.process(frames[0])  # warm-up, then a clean start
    p.reset()
    stages: dict[str, list[float]] = defaultdict(list)

    def step(i: int, f: NDArray[np.uint8]) -> object:
        r = p.process(f, i / 30)
        for k, v in r.timings.items():
            stages[k].append(v)
        return r

    total = time_loop(frames, step)
    return total, stages, p.detector_runs


def run_mediapipe(kind: str, frames: list[NDArray[np.uint8]]) -> list[float]:
    import mediapipe as mp

    solutions: dict[str, Callable[[], Any]] = {
        "face": lambda: mp.solutions.face_mesh.FaceMesh(static_image_mode=False, max_num_faces=1),
        "pose+seg": lambda: mp.solutions.pose.Pose(model_complexity=1, enable_segmentation=True),
        "hands": lambda: mp.solutions.hands.Hands(max_num_hands=2, model_complexity=1),
        "selfie": lambda: mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=0),
    }
    with solutions[kind]() as warm:
        warm.process(frames[0])
    with solutions[kind]() as sol:
        return time_loop(frames, lambda i, f: sol.process(f))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--frames", type=int, default=150)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/perception.json"))
    args = parser.parse_args()
    frames = frames_640x480(args.frames)
    rt = RuntimeConfig(providers=("cpu",), threads=args.threads)
    pipelines = {
        "face": PerceptionConfig(faces=True, runtime=rt),
        "pose+seg": PerceptionConfig(faces=False, poses=True, pose_segmentation=True, runtime=rt),
        "hands": PerceptionConfig(faces=False, hands=True, max_hands=2, runtime=rt),
        "selfie": PerceptionConfig(faces=False, segmentation=True, runtime=rt),
    }
    results: dict[str, Any] = {}
    stage_rows: dict[str, dict[str, float]] = {}
    for name, config in pipelines.items():
        ours, stages, runs = run_ours(config, frames)
        theirs = run_mediapipe(name, frames)
        results[name] = {
            "ours": stats(ours),
            "mediapipe": stats(theirs),
            "ratio": stats(ours)["median_ms"] / stats(theirs)["median_ms"],
            "detector_runs": runs,
            "stages": {k: stats(v) for k, v in stages.items()},
        }
        for k, v in stages.items():
            stage_rows[f"{name}: {k}"] = stats(v)

    table = Table(title=f"perception at 640x480, video mode, {args.frames} frames, {args.threads} threads")
    for col in ("pipeline", "ours median", "ours p95", "MediaPipe median", "MediaPipe p95", "ratio"):
        table.add_column(col, justify="left" if col == "pipeline" else "right")
    for name, r in results.items():
        table.add_row(
            name,
            f"{r['ours']['median_ms']:.2f}",
            f"{r['ours']['p95_ms']:.2f}",
            f"{r['mediapipe']['median_ms']:.2f}",
            f"{r['mediapipe']['p95_ms']:.2f}",
            f"{r['ratio']:.2f}",
        )
    console = Console()
    console.print(table)
    st = Table(title="our stages (ms)")
    for col in ("stage", "median", "p95"):
        st.add_column(col, justify="left" if col == "stage" else "right")
    for stage, row in stage_rows.items():
        st.add_row(stage, f"{row['median_ms']:.2f}", f"{row['p95_ms']:.2f}")
    console.print(st)
    write_results(
        args.out,
        {
            "frames": args.frames,
            "threads": args.threads,
            "results": results,
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
