"""What frame tracing costs: the pipeline with tracing off against the same pipeline with every
frame traced (``Tracer.frame``: the spans and the sub-stage points recorded, then collected), in
alternating rounds on the moving synthetic sequence; and, for tracing off, the cost of the
instrumentation points themselves (a ``span``/``step`` call without a recorder, times the points a
frame passes).

    python benchmarks/trace_overhead.py [--frames 40] [--rounds 6] [--threads 2]
"""

from __future__ import annotations

import argparse
import time
import timeit
from pathlib import Path

import numpy as np
from report import write_results
from rich.console import Console
from rich.table import Table

from tryon.catalog import Catalog
from tryon.pipeline import PipelineConfig, TryOnPipeline
from tryon.profiling import synthetic_frames
from tryon.runtime.session import RuntimeConfig
from tryon.timing import recording, span, step, timed
from tryon.trace import Tracer

LOOKS = {"lipstick": ["velvet-matte-lipstick:ruby-red"], "garment (top)": ["everyday-crew-tee"]}


def noop_cost_ns() -> dict[str, float]:
    """Nanoseconds per call of each instrumentation point with no recorder installed."""
    n = 200_000
    timings: dict[str, float] = {}

    def with_span() -> None:
        with span("x"):
            pass

    def with_step() -> None:
        with step("x"):
            pass

    def with_timed() -> None:
        with timed(timings, "x"):
            pass

    def bare() -> None:
        pass

    base = min(timeit.repeat(bare, number=n, repeat=5)) / n
    return {
        name: (min(timeit.repeat(fn, number=n, repeat=5)) / n - base) * 1e9
        for name, fn in (("span", with_span), ("step", with_step), ("timed", with_timed))
    }


def points_per_frame(pipeline: TryOnPipeline, frame: np.ndarray) -> int:
    """Spans a traced frame records: an upper bound on the span/step points an untraced frame
    passes (each records at most one span)."""
    with recording() as rec:
        pipeline.process(frame, 0.0)
    return len(rec.take())


def recording_cost_us(points: int, n: int = 2000) -> float:
    """Microseconds a traced frame with ``points`` spans costs beyond the work itself: the
    recorder installed, the spans recorded, the frame collected into a tracer."""
    tracer = Tracer()

    def frame() -> None:
        with tracer.frame(frame=0):
            for _ in range(points // 2):
                with span("stage"), step("model"):
                    pass

    def bare() -> None:
        for _ in range(points // 2):
            pass

    per = min(timeit.repeat(frame, number=n, repeat=5)) / n
    base = min(timeit.repeat(bare, number=n, repeat=5)) / n
    return (per - base) * 1e6


def measure(
    look: list[str], frames: list[np.ndarray], rounds: int, catalog: Catalog, threads: int
) -> dict[str, float]:
    config = PipelineConfig(runtime=RuntimeConfig(threads=threads))
    pipeline = TryOnPipeline(look, catalog=catalog, config=config)
    for i, f in enumerate(frames[:10]):
        pipeline.process(f, i / 30)
    ms: dict[str, list[float]] = {"off": [], "on": []}
    diffs: list[float] = []
    tracer = Tracer()
    t = 10
    for r in range(rounds):
        medians: dict[str, float] = {}
        for mode in ("off", "on") if r % 2 == 0 else ("on", "off"):
            start = len(ms[mode])
            for f in frames:
                t0 = time.perf_counter()
                if mode == "on":
                    with tracer.frame(frame=t):
                        pipeline.process(f, t / 30)
                else:
                    pipeline.process(f, t / 30)
                ms[mode].append((time.perf_counter() - t0) * 1e3)
                t += 1
            medians[mode] = float(np.median(ms[mode][start:]))
        diffs.append(medians["on"] - medians["off"])
    off, on = np.median(ms["off"]), np.median(ms["on"])
    points = points_per_frame(pipeline, frames[0])
    return {
        "off_median_ms": float(off),
        "on_median_ms": float(on),
        "off_mean_ms": float(np.mean(ms["off"])),
        "on_mean_ms": float(np.mean(ms["on"])),
        "overhead_pct": float((on - off) / off * 100),
        "paired_overhead_pct": float(np.median(diffs) / off * 100),
        "points_per_frame": points,
        "recording_us": recording_cost_us(points),
        "events": len(tracer.events()),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=40)
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/trace_overhead.json"))
    args = ap.parse_args()
    catalog = Catalog.load()
    frames = synthetic_frames(args.frames)
    noop = noop_cost_ns()
    rows = {name: measure(look, frames, args.rounds, catalog, args.threads) for name, look in LOOKS.items()}
    table = Table(title=f"tracing overhead ({args.rounds} alternating rounds of {args.frames} frames)")
    cols = ("look", "off ms", "on ms", "on vs off", "paired", "points", "on: recording", "off: points")
    for col in cols:
        table.add_column(col, justify="left" if col == "look" else "right")
    for name, r in rows.items():
        off_cost_us = r["points_per_frame"] * max(noop.values()) / 1e3
        r["off_points_cost_pct"] = off_cost_us / (r["off_median_ms"] * 1e3) * 100
        table.add_row(
            name,
            f"{r['off_median_ms']:.2f}",
            f"{r['on_median_ms']:.2f}",
            f"{r['overhead_pct']:+.2f}%",
            f"{r['paired_overhead_pct']:+.2f}%",
            str(r["points_per_frame"]),
            f"{r['recording_us']:.0f} µs ({r['recording_us'] / (r['off_median_ms'] * 10):.2f}%)",
            f"{off_cost_us:.1f} µs ({r['off_points_cost_pct']:.3f}%)",
        )
    console = Console()
    console.print(table)
    console.print("no-recorder cost per call (ns): " + ", ".join(f"{k} {v:.0f}" for k, v in noop.items()))
    write_results(args.out, {"noop_ns": noop, "looks": rows, "frames": args.frames, "rounds": args.rounds})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
