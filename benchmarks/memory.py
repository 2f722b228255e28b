"""Memory: the resident set (RSS) of a process that loads the models and then tries on every
product of the catalog, per asset-cache budget; and of a live server over many sessions opened
and closed one after another.

Each measurement runs in a fresh process (this script with ``--phase``), so none inherits
another's heap:

- ``cycle`` (once with the default budget, once with a budget no catalog reaches): RSS at start,
  after loading and warming every model, after trying on every product once and twice (each
  product and each colourway with its own image, ``--frames`` frames each at 640×480), and the
  asset cache's bytes and evictions;
- ``sessions``: ``create_app`` on loopback with a probe peer per session (``webrtc.probe``), one
  session at a time, each with one product (in catalog order) for about 10 frames; RSS every
  10 sessions. The peers run in the same process, so their codecs count too.

    python benchmarks/memory.py [--sessions 100] [--frames 2] [--out benchmarks/results/memory.json]
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import gc
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from perception import frames_640x480
from report import write_results
from rich.console import Console
from rich.table import Table

from tryon.catalog import Catalog
from tryon.render.asset_cache import DEFAULT_BUDGET_MB

console = Console()
progress = Console(stderr=True)
UNBOUNDED_MB = 1 << 20
"""A budget (MiB) the whole catalog does not reach: the cache before it was bounded."""
LEVEL_MB = 60.0
"""RSS is said to level off when a second pass (or the last sessions) adds less than this."""


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def trimmed_rss_mb() -> float:
    """RSS once the collector has run and glibc has handed its free heap back (``malloc_trim``):
    the memory still in use, without what the allocator keeps for reuse. NaN without glibc."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        return float("nan")
    return rss_mb()


def looks(catalog: Catalog) -> list[str]:
    """Every product the pipeline renders, once, plus each colourway that has its own image."""
    from tryon.pipeline import RENDERED_KINDS

    specs = []
    for product in sorted(catalog.products.values(), key=lambda p: p.id):
        if product.kind not in RENDERED_KINDS:
            continue
        specs.append(f"{product.id}:{product.variants[0].id}")
        specs += [f"{product.id}:{v.id}" for v in product.variants[1:] if v.asset is not None]
    return specs


def frame() -> NDArray[np.uint8]:
    return frames_640x480(1)[0]


# -- phases (each in its own process) ------------------------------------------------------------


def phase_cycle(budget_mb: float, frames: int) -> dict[str, Any]:
    start = rss_mb()
    from tryon.pipeline import TryOnPipeline
    from tryon.render.asset_cache import asset_cache, set_asset_cache_budget

    set_asset_cache_budget(budget_mb)
    catalog = Catalog.load()
    image = frame()
    pipe = TryOnPipeline(catalog=catalog)
    pipe.perception.set_stages(faces=True, poses=True, hands=True, segmentation=True)
    for _ in range(3):  # the models loaded and their arenas warm, no asset loaded yet
        pipe.perception.process(image)
    out: dict[str, Any] = {"budget_mb": budget_mb, "start_mb": start, "models_mb": rss_mb()}
    specs = looks(catalog)
    for cycle in (1, 2):
        t0 = time.perf_counter()
        for spec in specs:
            pipe.set_look([spec])
            for _ in range(frames):
                pipe.process(image)
        out[f"cycle{cycle}_mb"] = rss_mb()
        out[f"cycle{cycle}_s"] = time.perf_counter() - t0
    s = asset_cache().stats()
    out.update(looks=len(specs), cache_mb=s.bytes / 2**20, entries=s.entries, evictions=s.evictions)
    out["failures"] = sum(pipe.stats.failures.values())
    out["trimmed_mb"] = trimmed_rss_mb()
    return out


async def _sessions(n: int, arenas: bool) -> dict[str, Any]:
    import aiohttp
    from aiohttp.test_utils import TestServer

    from tryon.runtime.allocator import limit_arenas
    from webrtc import ServerConfig, create_app
    from webrtc.probe import ProbeClient

    catalog = Catalog.load()
    specs = looks(catalog)
    image = frame()
    start = rss_mb()
    config = ServerConfig()
    if arenas and config.malloc_arenas is not None:  # as `tryon serve` does
        limit_arenas(config.malloc_arenas)
    server = TestServer(create_app(config, catalog=catalog), host="127.0.0.1")
    await server.start_server()
    samples: list[tuple[int, float]] = [(0, rss_mb())]
    url = str(server.make_url("/"))
    try:
        async with aiohttp.ClientSession() as http:

            async def live() -> int:
                async with http.get(server.make_url("/healthz")) as r:
                    return int((await r.json())["sessions"])

            for i in range(n):
                client = ProbeClient(url, lambda _: image)
                await client.connect(http, [specs[i % len(specs)]])
                await client.wait_frames(10, timeout=60)
                await client.close()
                deadline = time.monotonic() + 30
                while await live() and time.monotonic() < deadline:
                    await asyncio.sleep(0.1)
                if (i + 1) % 10 == 0 or i + 1 == n:
                    samples.append((i + 1, rss_mb()))
                    progress.print(f"  {i + 1} sessions: RSS {samples[-1][1]:.0f} MB", style="dim")
    finally:
        await server.close()
    return {"start_mb": start, "samples": samples, "trimmed_mb": trimmed_rss_mb()}


def phase_sessions(n: int, arenas: bool) -> dict[str, Any]:
    return asyncio.run(_sessions(n, arenas))


def run_phase(*args: str) -> dict[str, Any]:
    """This script with ``--phase ...`` in a fresh process; its last line of output is the JSON."""
    cmd = [sys.executable, __file__, "--phase", *args]
    done = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# -- report ----------------------------------------------------------------------------------------


def cycle_table(rows: list[dict[str, Any]]) -> Table:
    table = Table(title="Trying on every product (RSS, MB)")
    cols = "budget MiB|start|models|1st pass|2nd pass|2nd - 1st|trimmed|cache MB|evictions"
    for col in cols.split("|"):
        table.add_column(col, justify="right")
    for r in rows:
        budget = "unbounded" if r["budget_mb"] >= UNBOUNDED_MB else f"{r['budget_mb']:.0f}"
        table.add_row(
            budget,
            *(f"{r[k]:.0f}" for k in ("start_mb", "models_mb", "cycle1_mb", "cycle2_mb")),
            f"{r['cycle2_mb'] - r['cycle1_mb']:+.0f}",
            f"{r['trimmed_mb']:.0f}",
            f"{r['cache_mb']:.0f}",
            str(r["evictions"]),
        )
    return table


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--frames", type=int, default=2, help="frames per product in each pass")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/memory.json"))
    parser.add_argument("--phase", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        kind, *rest = args.phase
        result = (
            phase_cycle(float(rest[0]), args.frames)
            if kind == "cycle"
            else phase_sessions(args.sessions, rest == ["serve"])
        )
        sys.stdout.write(json.dumps(result) + "\n")
        return 0

    rows = []
    for budget in (DEFAULT_BUDGET_MB, UNBOUNDED_MB):
        console.print(f"trying on every product, budget {budget} MiB ...")
        rows.append(run_phase("cycle", str(budget), "--frames", str(args.frames)))
    console.print(cycle_table(rows))
    bounded, unbounded = rows
    ratio = (bounded["cycle2_mb"] - bounded["models_mb"]) / (unbounded["cycle2_mb"] - unbounded["models_mb"])
    console.print(
        f"{bounded['looks']} looks; assets' share of RSS (2nd pass - models), default/unbounded: "
        f"[bold]{ratio:.2f}[/]; levels off: {bounded['cycle2_mb'] - bounded['cycle1_mb'] < LEVEL_MB}"
    )

    runs = {}
    for arenas in ("serve", "glibc"):
        console.print(f"{args.sessions} live sessions, one after another, arenas: {arenas} ...")
        runs[arenas] = run_phase("sessions", arenas, "--sessions", str(args.sessions))
    table = Table(title=f"Live server, {args.sessions} sessions in turn, trimmed after each (RSS, MB)")
    table.add_column("sessions", justify="right")
    table.add_column("2 arenas (tryon serve)", justify="right")
    table.add_column("glibc's default arenas", justify="right")
    for (n, a), (_, b) in zip(runs["serve"]["samples"], runs["glibc"]["samples"], strict=True):
        table.add_row(str(n), f"{a:.0f}", f"{b:.0f}")
    console.print(table)
    for name, live in runs.items():
        samples = live["samples"]
        half = samples[len(samples) // 2]
        growth = samples[-1][1] - half[1]
        peak = max(mb for n, mb in samples[len(samples) // 2 :])
        console.print(
            f"{name}: from {half[0]} to {samples[-1][0]} sessions: {growth:+.0f} MB, peak {peak:.0f} MB; "
            f"levels off: [bold]{growth < LEVEL_MB}[/]; after malloc_trim: {live['trimmed_mb']:.0f} MB"
        )
    write_results(args.out, {"cycle": rows, "assets_ratio": ratio, "sessions": runs})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
