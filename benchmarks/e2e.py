"""The live server end to end, over loopback WebRTC: latency, throughput and a soak.

The server runs in its own process (``tryon``'s app with the real pipeline, or a pass-through
pipeline that returns the camera frame untouched); probe peers in this process play a 640×480
portrait in motion at 30 fps with frame numbers drawn as blocks, and read the numbers back from
the decoded video. Both servers are measured in the same run, so the added latency of try-on
(perception + rendering + the frame conversions) is a difference of like for like: the clients'
encoding and decoding, the network stack and aiortc's jitter buffer are in both.

    python benchmarks/e2e.py [--seconds 20] [--soak 300] [--out benchmarks/results/e2e.json]

On a 2-core machine the clients (encode + decode per session) compete with the server for the
same cores: throughput with several sessions is a lower bound of what a server alone would do.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
from numpy.typing import NDArray
from perception import frames_640x480
from report import write_results
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from webrtc.probe import PassThroughPipeline, ProbeClient, Received

LOOK = [
    "velvet-matte-lipstick:ruby-red",
    "soft-focus-matte-blush",
    "precision-liquid-eyeliner",
]
console = Console()


# -- the server process ------------------------------------------------------------------------


def serve(mode: str, port: int, spin: bool, shared: bool) -> None:
    from aiohttp import web

    from tryon.runtime.session import RuntimeConfig
    from webrtc import ServerConfig, create_app

    factory = (lambda items: PassThroughPipeline()) if mode == "passthrough" else None
    config = ServerConfig(
        port=port,
        max_sessions=8,
        idle_timeout=30,
        runtime=RuntimeConfig(allow_spinning=spin, shared_threads=shared),
    )
    app = create_app(config, pipeline_factory=factory)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


class ServerProcess:
    def __init__(self, mode: str, spin: bool = False, shared: bool = False) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve", mode, "--port", str(self.port)]
            + (["--spin"] if spin else [])
            + (["--shared-threads"] if shared else []),
            stdout=subprocess.DEVNULL,
        )

    async def ready(self, http: aiohttp.ClientSession, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(self.url + "healthz") as r:
                    if r.status == 200:
                        return
            await asyncio.sleep(0.2)
        raise RuntimeError("the server did not start")

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


# -- measuring ---------------------------------------------------------------------------------


def summary(received: Sequence[Received], seconds: float) -> dict[str, float]:
    lat = np.array([r.latency for r in received if r.latency is not None]) * 1e3
    return {
        "fps_out": len(received) / seconds,
        "latency_p50_ms": float(np.percentile(lat, 50)) if lat.size else float("nan"),
        "latency_p95_ms": float(np.percentile(lat, 95)) if lat.size else float("nan"),
        "frames": len(received),
    }


async def run_sessions(
    url: str,
    http: aiohttp.ClientSession,
    frames: list[NDArray[np.uint8]],
    n: int,
    seconds: float,
    warmup: float = 3,
) -> list[dict[str, float]]:
    clients = [ProbeClient(url, lambda i: frames[i % len(frames)]) for _ in range(n)]
    for c in clients:
        await c.connect(http, LOOK)
    await asyncio.sleep(warmup)
    marks = [len(c.received) for c in clients]
    await asyncio.sleep(seconds)
    out = []
    for c, m in zip(clients, marks, strict=True):
        s = summary(c.received[m:], seconds)
        last = c.stats[-1] if c.stats else {}
        s["dropped_share"] = last.get("dropped", 0) / max(1, last.get("frames_in", 1))
        out.append(s)
    for c in clients:
        await c.close()
    await asyncio.sleep(1.0)
    return out


async def soak(
    server: ServerProcess, http: aiohttp.ClientSession, frames: list[NDArray[np.uint8]], seconds: float
) -> dict[str, Any]:
    c = ProbeClient(server.url, lambda i: frames[i % len(frames)])
    await c.connect(http, LOOK)
    window = 30.0
    samples: list[dict[str, float]] = []
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("soak", total=seconds)
        start = time.monotonic()
        mark = stats_mark = 0
        while (elapsed := time.monotonic() - start) < seconds:
            await asyncio.sleep(min(window, seconds - elapsed))
            s = summary(c.received[mark:], window)
            mark = len(c.received)
            server_ms = [m["latency_ms"] for m in c.stats[stats_mark:]]
            stats_mark = len(c.stats)
            s.update(
                t_s=round(time.monotonic() - start),
                rss_mb=server.rss_mb(),
                server_latency_ms=float(np.mean(server_ms)) if server_ms else float("nan"),
            )
            samples.append(s)
            progress.update(task, completed=time.monotonic() - start)
    await c.close()
    first = samples[1] if len(samples) > 2 else samples[0]  # after the first window: warm
    last = samples[-1]
    return {
        "seconds": seconds,
        "windows": samples,
        "rss_growth_mb": last["rss_mb"] - first["rss_mb"],
        "latency_p50_first_ms": first["latency_p50_ms"],
        "latency_p50_last_ms": last["latency_p50_ms"],
    }


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    frames = frames_640x480(90)
    results: dict[str, Any] = {
        "look": LOOK,
        "seconds_per_run": args.seconds,
        "spin": args.spin,
        "shared_threads": args.shared_threads,
    }
    if args.soak_only:
        async with aiohttp.ClientSession() as http:
            server = ServerProcess(args.soak_only, args.spin, args.shared_threads)
            try:
                await server.ready(http)
                console.print(f"{args.soak_only}: soak, 1 session, {args.soak:g} s")
                results["soak"] = await soak(server, http, frames, args.soak)
                results["soak"]["server"] = args.soak_only
            finally:
                server.stop()
        return results
    async with aiohttp.ClientSession() as http:
        latency: dict[str, dict[str, float]] = {}
        for mode in ("passthrough", "tryon"):
            server = ServerProcess(mode, args.spin, args.shared_threads)
            try:
                await server.ready(http)
                console.print(f"[bold]{mode}[/]: 1 session, {args.seconds:g} s")
                latency[mode] = (await run_sessions(server.url, http, frames, 1, args.seconds))[0]
                if mode == "tryon":
                    sessions: dict[str, Any] = {}
                    for n in (1, 2, 4):
                        console.print(f"tryon: {n} concurrent sessions, {args.seconds:g} s")
                        per = await run_sessions(server.url, http, frames, n, args.seconds)
                        sessions[str(n)] = {
                            "fps_per_session": float(np.mean([p["fps_out"] for p in per])),
                            "fps_total": float(np.sum([p["fps_out"] for p in per])),
                            "latency_p95_ms": float(np.max([p["latency_p95_ms"] for p in per])),
                            "dropped_share": float(np.mean([p["dropped_share"] for p in per])),
                        }
                    results["throughput"] = sessions
                    if args.soak > 0:
                        console.print(f"tryon: soak, 1 session, {args.soak:g} s")
                        results["soak"] = await soak(server, http, frames, args.soak)
            finally:
                server.stop()
        results["latency"] = latency
        results["added_latency_ms"] = {
            q: latency["tryon"][f"latency_{q}_ms"] - latency["passthrough"][f"latency_{q}_ms"]
            for q in ("p50", "p95")
        }
    return results


def report(results: dict[str, Any]) -> None:
    if "latency" not in results:
        report_soak(results["soak"])
        return
    t = Table(title="Loopback latency, 1 session, 640×480 @ 30 fps (ms, camera → decoded return)")
    for col in ("server", "fps out", "p50", "p95"):
        t.add_column(col, justify="right")
    for mode, s in results["latency"].items():
        t.add_row(mode, f"{s['fps_out']:.1f}", f"{s['latency_p50_ms']:.1f}", f"{s['latency_p95_ms']:.1f}")
    a = results["added_latency_ms"]
    t.add_row("added by try-on", "", f"{a['p50']:.1f}", f"{a['p95']:.1f}")
    console.print(t)
    t = Table(title="Concurrent sessions (try-on server)")
    for col in ("sessions", "fps / session", "fps total", "p95 latency ms", "dropped"):
        t.add_column(col, justify="right")
    for n, s in results["throughput"].items():
        t.add_row(
            n,
            f"{s['fps_per_session']:.1f}",
            f"{s['fps_total']:.1f}",
            f"{s['latency_p95_ms']:.1f}",
            f"{100 * s['dropped_share']:.0f}%",
        )
    console.print(t)
    if "soak" in results:
        report_soak(results["soak"])


def report_soak(s: dict[str, Any]) -> None:
    t = Table(title=f"Soak, 1 session, {s['seconds']:g} s ({s.get('server', 'tryon')} server)")
    for col in ("t s", "fps out", "p50 ms", "p95 ms", "server ms", "server RSS MB"):
        t.add_column(col, justify="right")
    for w in s["windows"]:
        t.add_row(
            str(w["t_s"]),
            f"{w['fps_out']:.1f}",
            f"{w['latency_p50_ms']:.1f}",
            f"{w['latency_p95_ms']:.1f}",
            f"{w.get('server_latency_ms', float('nan')):.1f}",
            f"{w['rss_mb']:.1f}",
        )
    console.print(t)
    console.print(
        f"RSS growth {s['rss_growth_mb']:+.1f} MB after warm-up; "
        f"latency p50 {s['latency_p50_first_ms']:.1f} → {s['latency_p50_last_ms']:.1f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=20.0, help="measured seconds per run")
    parser.add_argument("--soak", type=float, default=300.0, help="soak seconds (0: no soak)")
    parser.add_argument(
        "--soak-only",
        choices=("tryon", "passthrough"),
        help="only the soak, on this server (to compare the delay's drift with the baseline's)",
    )
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/e2e.json"))
    parser.add_argument("--serve", choices=("tryon", "passthrough"), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument(
        "--spin", action="store_true", help="let ONNX Runtime's threads spin (the server's default: no)"
    )
    parser.add_argument(
        "--shared-threads",
        action="store_true",
        help="one ONNX Runtime thread pool for the server's sessions (the server's default: one per session)",
    )
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port, args.spin, args.shared_threads)
        return 0
    results = asyncio.run(bench(args))
    report(results)
    write_results(args.out, results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
