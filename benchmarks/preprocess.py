"""The fused crop graph (``RuntimeConfig.gpu_preprocess``) against OpenCV's crop, per landmark model.

Each round: OpenCV's crop + normalise + the model, then the fused model fed the whole 640×480
frame and the affine map, alternating so that machine load hits both alike. Built for GPUs (one
host→device copy of the frame, the crop where the model runs); on CPU the fused graph converts
and transposes the whole frame and is expected to be slower. Also runs on CUDA/TensorRT.

    python benchmarks/preprocess.py [--provider cpu] [--threads 2] [--iterations 200] [--rois 1]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray
from report import write_results
from rich.console import Console
from rich.table import Table

from tryon.geometry import Roi, crop, letterbox, to_tensor
from tryon.runtime.preprocess_graph import crop_feeds
from tryon.runtime.session import ModelLoader, RuntimeConfig
from tryon.runtime.specs import SPECS_BY_NAME

MODELS = ("face_landmark", "hand_landmark_full", "pose_landmark_full", "iris_landmark")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--provider", default="cpu")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--iterations", type=int, default=200)
    ap.add_argument("--rois", type=int, default=1, help="ROIs per call (faces or hands in one frame)")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/preprocess.json"))
    args = ap.parse_args()
    from skimage.data import astronaut

    image = np.asarray(astronaut(), dtype=np.uint8)  # type: ignore[no-untyped-call]
    frame: NDArray[np.uint8] = np.ascontiguousarray(cv2.resize(image, (640, 480)), dtype=np.uint8)
    chain = (args.provider, "cuda", "cpu") if args.provider == "tensorrt" else (args.provider, "cpu")
    config = RuntimeConfig(providers=chain, threads=args.threads)
    loader = ModelLoader(config=config)
    rows = []
    for name in MODELS:
        plain, fused = loader.load(name), loader.load_cropping(name)
        (input_name, (shape, _)), *_ = plain.inputs.items()
        size = shape[1]
        rois = [
            letterbox(Roi(300.0 + 5 * k, 180.0, 180.0, 180.0, 0.3), size, size)[0] for k in range(args.rois)
        ]
        value_range = SPECS_BY_NAME[name].input_range

        def run_plain() -> None:
            x = np.concatenate([to_tensor(crop(frame, r, size, size), value_range) for r in rois])  # noqa: B023
            plain.run({input_name: x})  # noqa: B023

        def run_fused() -> None:
            fused.run(crop_feeds(frame, rois, size, size))  # noqa: B023

        times: dict[str, list[float]] = {"opencv": [], "fused": []}
        for _ in range(5):
            run_plain()
            run_fused()
        for _ in range(args.iterations):
            for key, fn in (("opencv", run_plain), ("fused", run_fused)):
                t = time.perf_counter()
                fn()
                times[key].append((time.perf_counter() - t) * 1e3)
        rows.append(
            {
                "model": name,
                "provider": plain.provider,
                "rois": args.rois,
                "opencv_crop_ms": float(np.median(times["opencv"])),
                "fused_ms": float(np.median(times["fused"])),
            }
        )
    table = Table(title=f"crop + model, 640×480 frame, {args.rois} ROI(s), {args.threads} thread(s), median")
    for col in ("model", "provider", "OpenCV crop + model ms", "fused graph ms", "fused / OpenCV"):
        table.add_column(col, justify="left" if col in ("model", "provider") else "right")
    for r in rows:
        ratio = r["fused_ms"] / r["opencv_crop_ms"]
        table.add_row(
            r["model"], r["provider"], f"{r['opencv_crop_ms']:.2f}", f"{r['fused_ms']:.2f}", f"{ratio:.2f}×"
        )
    Console().print(table)
    write_results(args.out, {"threads": args.threads, "iterations": args.iterations, "rows": rows})


if __name__ == "__main__":
    main()
