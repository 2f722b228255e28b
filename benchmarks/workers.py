"""``tryon serve --workers 2`` against ``--workers 1``, over loopback WebRTC, same run.

The real server (``tryon serve``, its own process tree) with 1 and then 2 worker processes; probe
peers in this process play the 640×480 astronaut at 30 fps with the makeup look of
``benchmarks/e2e.py`` and read back frames: per session, frames returned per second and the
camera → decoded latency (p50, p95), at 1, 2 and 4 sessions. On a 2-core machine the probes'
encoding and decoding share the cores with the server: a lower bound, as for ``e2e.py``.

    python benchmarks/workers.py [--sessions 1,2,4] [--seconds 8] [--out benchmarks/results/workers.json]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
from e2e import run_sessions
from perception import frames_640x480
from report import write_results
from rich.console import Console
from rich.table import Table

console = Console()
TRYON_SERVE = [sys.executable, "-m", "tryon", "serve", "--db", "none", "--max-sessions", "8"]


def start_server(workers: int, key_file: Path) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [*TRYON_SERVE, "--port", str(port), "--workers", str(workers), "--host-key-file", str(key_file)],
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if b"serving" not in line:
        proc.kill()
        raise RuntimeError(f"tryon serve --workers {workers} did not start: {line!r}")
    return proc, f"http://127.0.0.1:{port}/"


async def measure(workers: int, counts: list[int], seconds: float, key_file: Path) -> list[dict[str, Any]]:
    frames = frames_640x480(90)
    proc, url = start_server(workers, key_file)
    rows = []
    try:
        async with aiohttp.ClientSession() as http:
            for n in counts:
                load = os.getloadavg()[0]
                per = await run_sessions(url, http, frames, n, seconds)
                fps = [p["fps_out"] for p in per]
                rows.append(
                    {
                        "workers": workers,
                        "sessions": n,
                        "fps_per_session": [round(f, 2) for f in fps],
                        "fps_mean": float(np.mean(fps)),
                        "fps_min": float(np.min(fps)),
                        "latency_p50_ms": float(np.nanmedian([p["latency_p50_ms"] for p in per])),
                        "latency_p95_ms": float(np.nanmax([p["latency_p95_ms"] for p in per])),
                        "load_avg_1m": [round(load, 2), round(os.getloadavg()[0], 2)],
                    }
                )
                console.print(f"workers {workers}, {n} sessions: {rows[-1]['fps_mean']:.1f} fps/session")
    finally:
        proc.send_signal(2)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sessions", default="1,2,4")
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/workers.json"))
    args = ap.parse_args()
    counts = [int(s) for s in args.sessions.split(",")]
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        key = Path(tmp) / "host.key"
        key.write_text("bench-host-key-0123456789abcdef\n")
        key.chmod(0o600)
        for w in (int(s) for s in args.workers.split(",")):
            rows += asyncio.run(measure(w, counts, args.seconds, key))
    table = Table(title="tryon serve: worker processes, loopback WebRTC, makeup look, 640×480 at 30 fps")
    for col in (
        "workers",
        "sessions",
        "fps/session mean",
        "min",
        "p50 ms",
        "p95 ms (worst session)",
        "load 1m",
    ):
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row(
            str(r["workers"]),
            str(r["sessions"]),
            f"{r['fps_mean']:.1f}",
            f"{r['fps_min']:.1f}",
            f"{r['latency_p50_ms']:.0f}",
            f"{r['latency_p95_ms']:.0f}",
            f"{r['load_avg_1m'][0]:.1f}→{r['load_avg_1m'][1]:.1f}",
        )
    console.print(table)
    write_results(args.out, {"rows": rows})


if __name__ == "__main__":
    main()
