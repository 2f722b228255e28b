"""A show's outputs on loopback: WHIP in → WHEP out, and → RTMP and SRT receivers, in the same run.

A tryon server runs as its own process (``python -m tryon serve``, ``TRYON_HOST_KEY`` in its
environment), so that its CPU (and its uplinks' relay children's) is read from ``/proc``. In this
process an aiortc WHIP publisher (``webrtc.probe.SyntheticCamera``: a moving 640×480 portrait at
30 fps with a frame counter drawn in, and a ``ToneTrack``) goes live on a show with a lipstick;
an aiortc WHEP player decodes the show's video and reads each frame's counter back.

Three phases, each a warm-up then a steady window of ``--window`` seconds:

1. **WHEP only**: the player's latency (host camera frame handed to the publisher's encoder → the
   same frame decoded by the player) and frames/s; the server's CPU.
2. **+ RTMP**: the show gets an RTMP output (``POST /api/shows/<id>/outputs``) to Debian's
   ``ffmpeg -listen 1``, which decodes the stream (one decoder thread, ``-flags low_delay``,
   ``-fflags nobuffer``) to raw RGB frames piped back to this process; a thread reads them as they
   come and reads each counter: latency host camera → RTMP receiver decode, on the same clock
   (the same machine's ``time.monotonic``). The WHEP player keeps measuring.
3. **+ SRT** (instead of RTMP; when PyAV's FFmpeg or ``/usr/bin/ffmpeg`` has SRT): the same with
   an SRT listener, once per ``--srt-latency-ms`` (the TSBPD buffer, ``latency=`` on both ends: SRT
   holds every packet that long by design; 120 ms is its default, platforms ask for more).

The receivers decode every frame whole but pipe back only the counter's corner (a crop), so that
reading them costs this process little; they probe at most 0.5 s of the stream when it starts
(an MPEG-TS stream has no header: ffmpeg's default would hold 5 s). Before each window the
benchmark does not wait for the machine to be quiet: the "others" column says how busy it was
(the whole machine's busy time minus the server, its relay children, the receiver and this
process), and the phases' ratios are only as good as that column is steady.

What the RTMP/SRT latency includes: the publisher's VP8 encode, the server's decode, try-on and
libx264 encode (``veryfast``/``zerolatency``), the FLV pipe to the relay child, the network
(loopback), the receiver's demux and H.264 decode, the raw frame's pipe to this process. All of
it shares the machine's cores with the publisher, the player and the receiver.

    python benchmarks/outputs.py [--window 15] [--warmup 4] [--out benchmarks/results/outputs.json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
from aiortc import RTCConfiguration, RTCPeerConnection
from numpy.typing import NDArray
from perception import frames_640x480
from processes import ServerProcess, free_port, measure_window
from report import write_results
from rich.console import Console
from rich.table import Table

from tryon.media.uplink import pyav_has_srt
from tryon.media.uplink_ffmpeg import ffmpeg_has_srt
from webrtc.ice import IcePolicy
from webrtc.probe import ProbeViewer, SyntheticCamera, ToneTrack, counter_box, read_counter
from webrtc.whip_client import Resource, negotiate

LIPSTICK = "velvet-matte-lipstick:ruby-red"
ROOT = Path(__file__).resolve().parent.parent
FFMPEG = "/usr/bin/ffmpeg"
CROP = counter_box()[2:]
"""The receivers decode every frame whole, then pipe back only the counter's corner (top left)."""
CLK_TCK = os.sysconf("SC_CLK_TCK")
LOOPBACK = IcePolicy("loopback")
console = Console() if sys.stdout.isatty() else Console(width=150)


# -- processes and their CPU --------------------------------------------------------------------


def listening(port: int, udp: bool) -> bool:
    """Whether a socket is bound to ``port`` (TCP: listening), from /proc/net (a probe connection
    would take the receiver's one connection)."""
    for table in ("udp", "udp6") if udp else ("tcp", "tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port and (udp or fields[3] == "0A"):
                    return True
    return False


# -- the receivers ------------------------------------------------------------------------------


@dataclass
class Arrival:
    at: float
    counter: int | None
    latency: float | None


@dataclass
class Receiver:
    """Debian's ffmpeg listening for one RTMP or SRT stream, decoding it to raw RGB on its stdout;
    a thread reads each frame as it comes, its counter and its latency from ``sent``."""

    protocol: str
    sent: dict[int, float]
    folder: Path
    srt_latency_ms: int = 120
    arrivals: list[Arrival] = field(default_factory=list)

    def __post_init__(self) -> None:
        udp = self.protocol == "srt"
        self.port = free_port(udp=udp)
        if udp:
            self.url = f"srt://127.0.0.1:{self.port}?latency={self.srt_latency_ms * 1000}"
            source = ["-i", f"srt://127.0.0.1:{self.port}?mode=listener&latency={self.srt_latency_ms * 1000}"]
        else:
            self.url = f"rtmp://127.0.0.1:{self.port}/live/{secrets.token_hex(8)}"
            source = ["-listen", "1", "-i", self.url]
        self.log = self.folder / f"{self.protocol}-receiver.log"
        cmd = [
            FFMPEG, "-nostdin", "-hide_banner", "-loglevel", "error",
            "-fflags", "nobuffer", "-flags", "low_delay", "-threads", "1",
            "-probesize", "500000", "-analyzeduration", "500000", *source,
            "-map", "0:v:0", "-vf", f"crop={CROP[0]}:{CROP[1]}:0:0", "-fps_mode", "passthrough",
            "-enc_time_base", "-1", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1",
        ]  # fmt: skip
        with self.log.open("wb") as err:
            self.proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err, start_new_session=True
            )
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        size = CROP[0] * CROP[1] * 3
        while True:
            data = self.proc.stdout.read(size)
            now = time.monotonic()
            if len(data) < size:
                return
            rgb = np.frombuffer(data, np.uint8).reshape(CROP[1], CROP[0], 3)
            n = read_counter(rgb)
            at = self.sent.get(n) if n is not None else None
            self.arrivals.append(Arrival(now, n, None if at is None else now - at))

    async def ready(self, timeout: float = 10) -> None:
        await wait_until(lambda: listening(self.port, self.protocol == "srt"), timeout, "the receiver")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._thread.join(5)


async def wait_until(test: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not test():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: nothing within {timeout:.0f} s")
        await asyncio.sleep(0.05)


# -- the show -----------------------------------------------------------------------------------


class Show:
    """A show with a WHIP publisher (the lipstick on) and a WHEP player."""

    def __init__(self, server: ServerProcess, http: aiohttp.ClientSession) -> None:
        self.server, self.http = server, http
        self.id = self.key = ""
        self.camera: SyntheticCamera | None = None
        self.publisher: RTCPeerConnection | None = None
        self.player: ProbeViewer | None = None
        self.resources: list[Resource] = []

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    async def start(self, frames: Sequence[NDArray[np.uint8]]) -> None:
        url = self.server.url
        headers = {"Authorization": f"Bearer {self.server.host_key}"}
        async with self.http.post(f"{url}/api/shows", json={"title": "bench"}, headers=headers) as r:
            body = await r.json()
            if r.status != 201:
                raise RuntimeError(f"POST /api/shows: {r.status} {body}")
        self.id, self.key = body["id"], body["key"]
        self.camera = SyntheticCamera(lambda i: frames[i % len(frames)], fps=30)
        self.publisher = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.publisher.addTransceiver(self.camera, direction="sendonly")
        self.publisher.addTransceiver(ToneTrack(), direction="sendonly")
        whip = f"{url}/whip?products={LIPSTICK}"
        self.resources.append(await negotiate(self.http, whip, self.publisher, self.key, policy=LOOPBACK))
        self.player = ProbeViewer(url, "", sent=self.camera.sent)
        self.player.pc.addTransceiver("video", direction="recvonly")
        self.player.pc.addTransceiver("audio", direction="recvonly")
        whep = f"{url}/whep/{self.id}"
        self.resources.append(await negotiate(self.http, whep, self.player.pc, policy=LOOPBACK))
        player = self.player
        await wait_until(lambda: len(player.received) >= 30, 60, "the WHEP player's first frames")

    async def add_output(self, url: str) -> str:
        async with self.http.post(
            f"{self.server.url}/api/shows/{self.id}/outputs", json={"url": url}, headers=self.auth()
        ) as r:
            body = await r.json()
            if r.status != 201:
                raise RuntimeError(f"POST outputs: {r.status} {body}")
        return str(body["id"])

    async def output_stats(self) -> list[dict[str, Any]]:
        async with self.http.get(f"{self.server.url}/api/shows/{self.id}/outputs", headers=self.auth()) as r:
            stats: list[dict[str, Any]] = await r.json()
            return stats

    async def remove_output(self, oid: str) -> None:
        async with self.http.delete(
            f"{self.server.url}/api/shows/{self.id}/outputs/{oid}", headers=self.auth()
        ) as r:
            if r.status != 204:
                raise RuntimeError(f"DELETE output: {r.status} {await r.text()}")

    async def end(self) -> None:
        for resource in self.resources:
            with contextlib.suppress(aiohttp.ClientError):
                await resource.delete(self.http)
        if self.player is not None:
            await self.player.close()
        if self.publisher is not None:
            await self.publisher.close()


# -- measuring ----------------------------------------------------------------------------------


def latency_stats(values: Sequence[float]) -> dict[str, float | int]:
    ms = np.asarray(values, dtype=np.float64) * 1e3
    if not ms.size:
        return {"p50_ms": float("nan"), "p95_ms": float("nan"), "samples": 0}
    return {
        "p50_ms": float(np.percentile(ms, 50)),
        "p95_ms": float(np.percentile(ms, 95)),
        "samples": int(ms.size),
    }


async def measure(
    show: Show, server: ServerProcess, receiver: Receiver | None, seconds: float, label: str
) -> dict[str, Any]:
    assert show.player is not None
    pids = {"server": server.proc.pid, "bench": os.getpid()}
    if receiver is not None:
        pids["receiver"] = receiver.proc.pid
    w = await measure_window(pids, seconds, label, console, children_of=server.proc.pid)
    t0, t1, wall, cpu = w.t0, w.t1, w.wall, w.cpu
    whep = [r for r in show.player.received if t0 <= r.at < t1]
    row: dict[str, Any] = {
        "phase": label,
        "window_s": wall,
        "whep": {
            **latency_stats([r.latency for r in whep if r.latency is not None]),
            "fps": len(whep) / wall,
        },
        "server_cpu_pct": cpu["server"],
        "relay_cpu_pct": cpu["relay"],
        "receiver_cpu_pct": cpu.get("receiver", 0.0),
        "bench_cpu_pct": cpu["bench"],
        "machine_cpu_pct": w.machine,
        "cores": os.cpu_count(),
        "other_cpu_pct": w.others,
    }
    if receiver is not None:
        got = [a for a in receiver.arrivals if t0 <= a.at < t1]
        row["uplink"] = {
            **latency_stats([a.latency for a in got if a.latency is not None]),
            "fps": len(got) / wall,
            "counters_read": sum(a.counter is not None for a in got),
        }
        stats = await show.output_stats()
        row["uplink_stats"] = stats[0] if stats else None
    return row


async def with_output(
    show: Show, server: ServerProcess, protocol: str, folder: Path, args: argparse.Namespace, srt_ms: int = 0
) -> dict[str, Any]:
    assert show.camera is not None
    receiver = Receiver(protocol, show.camera.sent, folder, srt_latency_ms=srt_ms)
    try:
        await receiver.ready()
        oid = await show.add_output(receiver.url)
        await wait_until(lambda: len(receiver.arrivals) >= 30, 30, f"{protocol} frames at the receiver")
        await asyncio.sleep(args.warmup)
        label = f"+ SRT out ({srt_ms} ms)" if protocol == "srt" else "+ RTMP out"
        row = await measure(show, server, receiver, args.window, label)
        await show.remove_output(oid)
        return row
    finally:
        receiver.stop()


async def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    frames = frames_640x480(60)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="tryon-outputs-bench-") as tmp:
        folder = Path(tmp)
        server = ServerProcess(folder, ["--relay-viewers", "4"])
        try:
            async with aiohttp.ClientSession() as http:
                show = Show(server, http)
                try:
                    await server.ready(http)
                    await show.start(frames)
                    await asyncio.sleep(args.warmup)
                    rows.append(await measure(show, server, None, args.window, "WHEP only"))
                    rows.append(await with_output(show, server, "rtmp", folder, args))
                    if not (pyav_has_srt() or ffmpeg_has_srt()):
                        console.print("[yellow]no SRT in PyAV's FFmpeg nor /usr/bin/ffmpeg: SRT skipped[/]")
                    for srt_ms in args.srt_latency_ms if pyav_has_srt() or ffmpeg_has_srt() else []:
                        await asyncio.sleep(1.0)
                        rows.append(await with_output(show, server, "srt", folder, args, srt_ms))
                finally:
                    await show.end()
        finally:
            server.stop()
    return rows


def fmt(value: Any, digits: int = 0) -> str:
    return "–" if value is None or value != value else f"{value:.{digits}f}"


def report(rows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    table = Table(
        title=f"Host outputs on loopback ({os.cpu_count()} cores, {args.window:.0f} s windows, "
        "the try-on server's CPU in % of one core)"
    )
    for name in (
        "phase", "WHEP p50 ms", "WHEP p95 ms", "WHEP fps", "out p50 ms", "out p95 ms", "out fps",
        "out − WHEP p50", "server CPU %", "relay CPU %", "receiver CPU %", "others CPU %", "machine CPU %",
    ):  # fmt: skip
        table.add_column(name, justify="left" if name == "phase" else "right")
    for row in rows:
        out = row.get("uplink") or {}
        table.add_row(
            row["phase"],
            fmt(row["whep"]["p50_ms"]),
            fmt(row["whep"]["p95_ms"]),
            fmt(row["whep"]["fps"], 1),
            fmt(out.get("p50_ms")),
            fmt(out.get("p95_ms")),
            fmt(out.get("fps"), 1),
            fmt(out["p50_ms"] - row["whep"]["p50_ms"]) if out else "–",
            fmt(row["server_cpu_pct"]),
            fmt(row["relay_cpu_pct"]),
            fmt(row["receiver_cpu_pct"]),
            fmt(row["other_cpu_pct"]),
            fmt(row["machine_cpu_pct"]),
        )
    console.print(table)
    base = rows[0]["server_cpu_pct"] if rows else float("nan")
    for row in rows[1:]:
        console.print(
            f"{row['phase']}: server CPU ×{row['server_cpu_pct'] / base:.2f} of WHEP only "
            f"(+ relay {row['relay_cpu_pct']:.0f}%); uplink {row.get('uplink_stats')}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--window", type=float, default=15.0, help="seconds measured per phase")
    ap.add_argument("--warmup", type=float, default=4.0, help="seconds before each window")
    ap.add_argument(
        "--srt-latency-ms",
        type=lambda v: [int(x) for x in v.split(",")],
        default=[120, 20],
        help="SRT receive buffers to try, comma-separated (default 120,20; 120 is SRT's default)",
    )
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "outputs.json")
    args = ap.parse_args()
    if not Path(FFMPEG).exists():
        sys.exit(f"{FFMPEG} is needed for the RTMP/SRT receivers (apt-get install ffmpeg)")
    rows = asyncio.run(run(args))
    report(rows, args)
    write_results(
        args.out,
        {
            "window_s": args.window,
            "warmup_s": args.warmup,
            "srt_latency_ms": args.srt_latency_ms,
            "srt_relay": "pyav" if pyav_has_srt() else "ffmpeg",
            "rows": rows,
        },
    )


if __name__ == "__main__":
    main()
