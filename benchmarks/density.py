"""Streams per machine: N try-on sessions at once in one process, 640×480 at a 30 fps target.

Each session is what the server runs for a shopper: its own ``TryOnPipeline`` on its own worker
thread, fed by a camera clock at 30 fps (the clocks of the sessions out of phase, as real
shoppers are). A session always takes the newest frame that has arrived (older ones are
dropped, as the server's track does) and sleeps when it is ahead. Measured per session: frames
processed per second, and the latency from a frame's arrival to its rendered result (p50, p95).

Configurations, all in the same run: the look (a three-product makeup look; a garment), the
provider, batching off (each session runs its own models at batch 1) and on (one shared session
per landmark/segmentation model, ``tryon.runtime.batcher``), and 1, 2, 4, 8 sessions. The
"added p95" column is the p95 latency with batching minus the p95 without, same look, provider
and session count. The load average of the machine is recorded for each cell (other work on a
shared machine shows there).

    python benchmarks/density.py [--sessions 1,2,4,8] [--seconds 8] [--providers auto]
                                 [--looks makeup,garment] [--out benchmarks/results/density.json]

On a GPU machine the same command runs the models on TensorRT or CUDA (``--providers auto``
picks them; ``--providers cuda,tensorrt`` measures both).
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from perception import frames_640x480
from report import write_results
from rich.console import Console
from rich.table import Table

from tryon.catalog import Catalog
from tryon.pipeline import PipelineConfig, TryOnPipeline
from tryon.runtime.batcher import BatchConfig, batchers, close_batchers
from tryon.runtime.providers import choose_providers
from tryon.runtime.session import RuntimeConfig

LOOKS = {
    "makeup": ["velvet-matte-lipstick:ruby-red", "soft-focus-matte-blush", "precision-liquid-eyeliner"],
    "garment": ["everyday-crew-tee"],
}
FPS = 30.0
console = Console()


@dataclass
class SessionLog:
    processed: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    failures: int = 0


def run_session(
    pipeline: TryOnPipeline,
    frames: list[NDArray[np.uint8]],
    phase: float,
    start: float,
    warmup: float,
    stop: float,
    log: SessionLog,
) -> None:
    """Process the newest arrived frame until ``stop``; log what finishes after the warm-up."""
    period = 1.0 / FPS
    last = -1
    while True:
        now = time.perf_counter()
        if now >= stop:
            return
        k = int((now - start - phase) // period)
        if k <= last:  # ahead of the camera: wait for the next frame
            time.sleep(max(0.0, start + phase + (last + 1) * period - now))
            continue
        last = k
        arrived = start + phase + k * period
        try:
            pipeline.process(frames[k % len(frames)], k * period)
        except Exception:
            log.failures += 1
            continue
        done = time.perf_counter()
        if arrived >= start + warmup and done <= stop:
            log.processed += 1
            log.latencies_ms.append((done - arrived) * 1e3)


def measure(
    look: str,
    runtime: RuntimeConfig,
    sessions: int,
    frames: list[NDArray[np.uint8]],
    catalog: Catalog,
    seconds: float,
    warmup: float,
) -> dict[str, Any]:
    pipelines = [
        TryOnPipeline(LOOKS[look], catalog=catalog, config=PipelineConfig(runtime=runtime))
        for _ in range(sessions)
    ]
    for p in pipelines:  # models loaded, first detections done, off the clock
        for i in range(3):
            p.process(frames[i], i / FPS)
    logs = [SessionLog() for _ in pipelines]
    load_before = os.getloadavg()[0]
    start = time.perf_counter() + 0.05
    stop = start + warmup + seconds
    threads = [
        threading.Thread(
            target=run_session,
            args=(p, frames, i / (FPS * sessions), start, warmup, stop, log),
            name=f"session-{i}",
        )
        for i, (p, log) in enumerate(zip(pipelines, logs, strict=True))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    load_after = os.getloadavg()[0]
    fps = [log.processed / seconds for log in logs]
    latencies = np.asarray([ms for log in logs for ms in log.latencies_ms] or [np.nan], dtype=np.float64)
    batch_means = {b.model.name: round(b.stats.mean_batch, 2) for b in batchers() if b.stats.batches}
    out = {
        "look": look,
        "providers": list(choose_providers(runtime.providers)),
        "batching": runtime.batching is not None,
        "sessions": sessions,
        "fps_per_session": [round(f, 2) for f in fps],
        "fps_mean": float(np.mean(fps)),
        "fps_min": float(np.min(fps)),
        "sessions_at_25fps": int(sum(f >= 25.0 for f in fps)),
        "latency_p50_ms": float(np.nanpercentile(latencies, 50)),
        "latency_p95_ms": float(np.nanpercentile(latencies, 95)),
        "failures": sum(log.failures for log in logs),
        "mean_batch": batch_means,
        "load_avg_1m": [round(load_before, 2), round(load_after, 2)],
    }
    del pipelines
    close_batchers()
    return out


def runtime_for(provider: str, batching: bool, deadline_ms: float) -> RuntimeConfig:
    providers = None if provider == "auto" else (provider, "cpu")
    return RuntimeConfig(
        providers=providers,
        allow_spinning=False,  # the server's setting (webrtc.config.ServerConfig.runtime)
        batching=BatchConfig(deadline_ms=deadline_ms) if batching else None,
        trt_cache_dir=Path(".cache/trt") if provider in ("auto", "tensorrt") else None,
    )


def table(rows: list[dict[str, Any]]) -> Table:
    t = Table(title=f"density: sessions at 640×480, {FPS:g} fps target, one process ({os.cpu_count()} CPUs)")
    for col in (
        "look",
        "provider",
        "batching",
        "sessions",
        "fps/session mean",
        "min",
        "≥25 fps",
        "p50 ms",
        "p95 ms",
        "added p95 ms",
        "mean batch",
        "load 1m",
    ):
        t.add_column(
            col, justify="left" if col in ("look", "provider", "batching", "mean batch") else "right"
        )
    for r in rows:
        t.add_row(
            r["look"],
            r["providers"][0].replace("ExecutionProvider", ""),
            "on" if r["batching"] else "off",
            str(r["sessions"]),
            f"{r['fps_mean']:.1f}",
            f"{r['fps_min']:.1f}",
            f"{r['sessions_at_25fps']}/{r['sessions']}",
            f"{r['latency_p50_ms']:.0f}",
            f"{r['latency_p95_ms']:.0f}",
            "" if r.get("added_p95_ms") is None else f"{r['added_p95_ms']:+.0f}",
            " ".join(f"{k.split('_')[0]} {v:g}" for k, v in sorted(r["mean_batch"].items())),
            f"{r['load_avg_1m'][0]:.1f}→{r['load_avg_1m'][1]:.1f}",
        )
    return t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sessions", default="1,2,4,8", help="session counts (comma-separated)")
    ap.add_argument("--seconds", type=float, default=8.0, help="measured seconds per cell")
    ap.add_argument("--warmup", type=float, default=1.5, help="seconds per cell before measuring")
    ap.add_argument("--providers", default="auto", help="auto, or a list: cpu,cuda,tensorrt")
    ap.add_argument("--looks", default="makeup,garment", help=f"of {', '.join(LOOKS)}")
    ap.add_argument("--deadline-ms", type=float, default=BatchConfig().deadline_ms)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/density.json"))
    args = ap.parse_args()
    counts = [int(s) for s in args.sessions.split(",")]
    looks = [s.strip() for s in args.looks.split(",")]
    providers = [s.strip() for s in args.providers.split(",")]
    catalog = Catalog.load()
    frames = frames_640x480(90)
    rows: list[dict[str, Any]] = []
    for look in looks:
        for provider in providers:
            for n in counts:
                off: dict[str, Any] | None = None
                for batching in (False, True):
                    runtime = runtime_for(provider, batching, args.deadline_ms)
                    r = measure(look, runtime, n, frames, catalog, args.seconds, args.warmup)
                    r["provider_asked"] = provider
                    if batching and off is not None:
                        r["added_p95_ms"] = r["latency_p95_ms"] - off["latency_p95_ms"]
                    off = r if not batching else off
                    rows.append(r)
                    console.print(
                        f"{look} {provider} batching={'on' if batching else 'off'} sessions={n}: "
                        f"{r['fps_mean']:.1f} fps/session, p95 {r['latency_p95_ms']:.0f} ms, "
                        f"load {r['load_avg_1m']}"
                    )
    console.print(table(rows))
    write_results(
        args.out,
        {"fps_target": FPS, "size": [640, 480], "deadline_ms": args.deadline_ms, "rows": rows},
    )


if __name__ == "__main__":
    main()
