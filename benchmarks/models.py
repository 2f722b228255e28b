"""Per-model latency: ONNX Runtime (CPU) on our converted models against LiteRT (XNNPACK).

Both run in the same process, on the same input, with the same thread count, in alternating
rounds so that drift in machine load hits both alike. Prints a table and writes JSON.

    python benchmarks/models.py [--threads 2] [--iterations 200] [--out benchmarks/results/models.json]
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import onnxruntime as ort
from numpy.typing import NDArray
from report import write_results
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from tryon.runtime.session import RuntimeConfig, session_options
from tryon.runtime.specs import MODEL_SPECS, ModelSpec
from tryon.runtime.store import ModelStore, mediapipe_root


def _input_for(spec: ModelSpec, shape: tuple[int, ...]) -> NDArray[np.float32]:
    """A real image crop (skimage's astronaut) scaled to the model's input range."""
    try:
        from skimage.data import astronaut

        img = np.asarray(astronaut())[20:420, 60:460]  # type: ignore[no-untyped-call]
    except ImportError:  # pragma: no cover - test extra missing
        img = np.random.default_rng(0).integers(0, 255, (400, 400, 3), dtype=np.uint8)
    _, h, w, _ = shape
    x = cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
    lo, hi = spec.input_range
    out: NDArray[np.float32] = (x * (hi - lo) + lo)[None].astype(np.float32)
    return out


def _time(fn: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1e3)
    return out


def bench_model(
    spec: ModelSpec,
    store: ModelStore,
    threads: int,
    iterations: int,
    rounds: int,
    opt: ort.GraphOptimizationLevel,
) -> dict[str, Any]:
    from ai_edge_litert.interpreter import Interpreter

    onnx_path = store.path(spec.name)
    cfg = RuntimeConfig(providers=("cpu",), threads=threads, optimization=opt, allow_spinning=True)
    sess = ort.InferenceSession(str(onnx_path), session_options(cfg), providers=["CPUExecutionProvider"])
    inp = sess.get_inputs()[0]
    x = _input_for(spec, tuple(d if isinstance(d, int) else 1 for d in inp.shape))  # batch 1
    lite = Interpreter(model_path=str(mediapipe_root() / spec.source), num_threads=threads)
    lite.allocate_tensors()
    lite_in = lite.get_input_details()[0]["index"]

    def run_ort() -> object:
        return sess.run(None, {inp.name: x})

    def run_lite() -> object:
        lite.set_tensor(lite_in, x)
        lite.invoke()
        return None

    for _ in range(10):  # warm-up: allocation, XNNPACK packing, ORT arena
        run_ort()
        run_lite()
    t_ort: list[float] = []
    t_lite: list[float] = []
    per_round = max(1, iterations // rounds)
    for _ in range(rounds):
        t_ort += _time(run_ort, per_round)
        t_lite += _time(run_lite, per_round)
    o, lt = np.asarray(t_ort), np.asarray(t_lite)
    return {
        "model": spec.name,
        "input": list(inp.shape),
        "onnx_median_ms": float(np.median(o)),
        "onnx_p95_ms": float(np.percentile(o, 95)),
        "litert_median_ms": float(np.median(lt)),
        "litert_p95_ms": float(np.percentile(lt, 95)),
        "ratio": float(np.median(o) / np.median(lt)),
        "transposes": store.entry(spec.name).transposes,
        "samples": len(o),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--models", nargs="*", default=None)
    parser.add_argument(
        "--opt",
        choices=["all", "extended", "basic", "none"],
        default="all",
        help="ORT graph optimization level",
    )
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/models.json"))
    args = parser.parse_args()
    opt = {
        "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
        "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
        "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
        "none": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
    }[args.opt]
    specs = [s for s in MODEL_SPECS if not args.models or s.name in args.models]
    store = ModelStore()
    results = []
    with Progress(console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("benchmarking", total=len(specs))
        for spec in specs:
            progress.update(task, description=spec.name)
            results.append(bench_model(spec, store, args.threads, args.iterations, args.rounds, opt))
            progress.advance(task)

    table = Table(title=f"ONNX Runtime {ort.__version__} (CPU) vs LiteRT (XNNPACK), {args.threads} threads")
    for col in (
        "model",
        "input",
        "ORT median ms",
        "ORT p95 ms",
        "LiteRT median ms",
        "LiteRT p95 ms",
        "ratio",
    ):
        table.add_column(col, justify="right" if col != "model" else "left")
    for r in results:
        ratio = f"{r['ratio']:.2f}"
        table.add_row(
            r["model"],
            "x".join(str(s) for s in r["input"][1:3]),
            f"{r['onnx_median_ms']:.2f}",
            f"{r['onnx_p95_ms']:.2f}",
            f"{r['litert_median_ms']:.2f}",
            f"{r['litert_p95_ms']:.2f}",
            f"[green]{ratio}[/green]" if r["ratio"] <= 1.0 else f"[red]{ratio}[/red]",
        )
    Console().print(table)
    write_results(
        args.out,
        {
            "onnxruntime": ort.__version__,
            "threads": args.threads,
            "optimization": args.opt,
            "results": results,
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
