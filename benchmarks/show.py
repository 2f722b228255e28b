"""The live show: a host's try-on broadcast to N viewers, through the embedded relay and through
Janus on loopback, the same N for both, in the same run.

Per back end, a tryon server runs as its own process (``python -m tryon serve``, the host key in
its environment), so its CPU is read from ``/proc/<pid>/stat``; for the Janus rows the benchmark
starts Debian's ``janus`` on loopback too (``webrtc.sfu.janus_local``) and reads its CPU the same
way. In this process, one host (``webrtc.probe.ProbeClient``: a moving 640×480 portrait at 30 fps
with a frame counter drawn in) publishes to ``/api/shows/<id>/publish`` with a lipstick, and N
viewers each open a push channel and a media subscription (``ProbeViewer``). Viewers are added
to the same show step by step (1, then up to 5, then up to 20, ...); after each step a warm-up,
then a steady window in which are measured: the tryon server's CPU and Janus's (utime + stime,
% of one core), this process's and the whole machine's, frames/s received by each viewer, and the
host → viewer latency (camera frame handed to the host's encoder → the same frame decoded at the
viewer, read back from its counter).

The first ``--decoding`` viewers (3) decode every frame and read the counter: they give the
latency. The others receive everything a viewer receives (ICE, DTLS, SRTP, RTP into aiortc's
jitter buffer, RTCP feedback) and count each complete frame that comes out of the jitter buffer,
but skip the VP8 decode (their receivers' decoder thread passes the encoded frame on), so that N
viewers in one Python process do not take the two cores from the servers being measured. The
host's own preview (the processed video the server sends back to it) is counted the same way.

    python benchmarks/show.py [--viewers 1,5,20] [--window 10] [--out benchmarks/results/show.json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import queue
import secrets
import sys
import tempfile
import threading
import time
import weakref
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, cast

import aiohttp
import numpy as np
from aiortc import MediaStreamTrack, rtcrtpreceiver
from aiortc.mediastreams import MediaStreamError
from av import VideoFrame
from numpy.typing import NDArray
from perception import frames_640x480
from processes import ServerProcess, cpu_seconds, machine_busy_seconds, measure_window
from report import write_results
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from webrtc.probe import ProbeClient, ProbeViewer, Received, counter_box, read_counter
from webrtc.sfu.base import SfuError
from webrtc.sfu.janus_local import JANUS, LocalJanus, local_janus

LIPSTICK = "velvet-matte-lipstick:ruby-red"
ROOT = Path(__file__).resolve().parent.parent
CLK_TCK = os.sysconf("SC_CLK_TCK")
QUIET = 25.0
"""Other jobs on the machine under this (% of one core): a window is clean."""
console = Console() if sys.stdout.isatty() else Console(width=150)


# -- viewers that receive but do not decode -----------------------------------------------------

COUNT_ONLY: weakref.WeakSet[Any] = weakref.WeakSet()
"""The receive queues (``RemoteStreamTrack._queue``) whose encoded frames are passed on undecoded."""

_decoder_worker = rtcrtpreceiver.decoder_worker


def _counting_worker(
    loop: asyncio.AbstractEventLoop,
    input_q: queue.Queue[Any],
    output_q: asyncio.Queue[Any],
    decode_error: threading.Event,
) -> None:
    """aiortc's receiver thread: decodes as aiortc does, except for a queue in ``COUNT_ONLY``, to
    which each complete encoded frame goes as it is (the track's ``recv`` hands it on unread)."""
    if output_q not in COUNT_ONLY:
        _decoder_worker(loop, input_q, output_q, decode_error)
        return
    while (task := input_q.get()) is not None:
        asyncio.run_coroutine_threadsafe(output_q.put(task[1]), loop)
    asyncio.run_coroutine_threadsafe(output_q.put(None), loop)


rtcrtpreceiver.decoder_worker = _counting_worker  # the track event comes before the thread starts


async def count_frames(track: MediaStreamTrack, arrivals: list[float]) -> None:
    with contextlib.suppress(MediaStreamError):
        while True:
            await track.recv()
            arrivals.append(time.monotonic())


class CountingViewer(ProbeViewer):
    """A show's viewer that receives the video and counts its frames without decoding them."""

    def __init__(self, base_url: str, token: str) -> None:
        super().__init__(base_url, token)
        self.arrivals: list[float] = []

    def _on_track(self, track: MediaStreamTrack) -> None:
        if track.kind == "video" and self._reader is None:
            COUNT_ONLY.add(cast(Any, track)._queue)
            self._reader = asyncio.ensure_future(count_frames(track, self.arrivals))


class Host(ProbeClient):
    """The host's camera; its own preview (the processed video sent back) is counted, not decoded."""

    arrivals: list[float]

    def _on_track(self, track: MediaStreamTrack) -> None:
        if track.kind == "video":
            self.arrivals = []
            COUNT_ONLY.add(cast(Any, track)._queue)
            self._reader = asyncio.ensure_future(count_frames(track, self.arrivals))


def luma(frame: VideoFrame) -> NDArray[np.uint8]:
    """The counter's corner as RGB-like levels read from the luma plane (the blocks are grey):
    cheaper than converting the whole frame to RGB."""
    x1, y1 = counter_box()[2:]
    plane = frame.planes[0]
    rows = np.frombuffer(memoryview(plane), np.uint8).reshape(-1, plane.line_size)[:y1, :x1]
    return np.asarray(np.clip((rows.astype(np.float32) - 16) * (255 / 219), 0, 255), np.uint8)


async def read_counters(viewer: ProbeViewer, track: MediaStreamTrack) -> None:
    """Decode ``track`` and read the host's counter from each frame (as ``webrtc.probe`` does, from
    the luma plane only)."""
    with contextlib.suppress(MediaStreamError):
        while True:
            frame = await track.recv()
            now = time.monotonic()
            assert isinstance(frame, VideoFrame)
            n = read_counter(luma(frame)) if frame.format.name in ("yuv420p", "yuvj420p") else None
            at = viewer.sent.get(n) if n is not None else None
            viewer.received.append(Received(n, now, None if at is None else now - at))


class DecodingViewer(ProbeViewer):
    """A show's viewer that decodes every frame and reads the counter back (the latency)."""

    def _on_track(self, track: MediaStreamTrack) -> None:
        if track.kind == "video" and self._reader is None:
            self._reader = asyncio.ensure_future(read_counters(self, track))


def arrivals(viewer: ProbeViewer) -> list[float]:
    return viewer.arrivals if isinstance(viewer, CountingViewer) else [r.at for r in viewer.received]


# -- processes and their CPU --------------------------------------------------------------------


# -- the show -----------------------------------------------------------------------------------


class PushChannel:
    """A viewer's page's server-sent events: the ``hello`` (its viewer token), then read and dropped."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.response = response
        self.hello: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.events = 0
        self._task = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        name = ""
        with contextlib.suppress(aiohttp.ClientError, asyncio.CancelledError, TimeoutError):
            async for raw in self.response.content:
                line = raw.decode().rstrip("\n")
                if line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: "):
                    self.events += 1
                    if name == "hello" and not self.hello.done():
                        self.hello.set_result(json.loads(line[6:]))
        if not self.hello.done():
            self.hello.set_exception(RuntimeError("the push channel closed before its hello"))

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self.response.close()


class Show:
    def __init__(self, server: ServerProcess, http: aiohttp.ClientSession) -> None:
        self.server, self.http = server, http
        self.id = self.key = ""
        self.host: Host | None = None
        self.channels: list[PushChannel] = []
        self.viewers: list[ProbeViewer] = []

    async def start(self, frames: Sequence[NDArray[np.uint8]]) -> None:
        headers = {"Authorization": f"Bearer {self.server.host_key}"}
        async with self.http.post(
            f"{self.server.url}/api/shows", json={"title": "bench"}, headers=headers
        ) as r:
            body = await r.json()
            if r.status != 201:
                raise RuntimeError(f"POST /api/shows: {r.status} {body}")
        self.id, self.key = body["id"], body["key"]
        self.host = Host(self.server.url, lambda i: frames[i % len(frames)], fps=30)
        await self.host.connect(
            self.http,
            [LIPSTICK],
            path=f"/api/shows/{self.id}/publish",
            headers={"Authorization": f"Bearer {self.key}"},
        )
        await wait_until(lambda: len(self.host.arrivals) >= 30 if self.host else False, 30, "host preview")

    async def add_viewer(self, decoding: bool) -> None:
        assert self.host is not None
        response = await self.http.get(f"{self.server.url}/api/shows/{self.id}/events")
        if response.status != 200:
            raise RuntimeError(f"push channel refused: {response.status} {await response.text()}")
        channel = PushChannel(response)
        self.channels.append(channel)
        token = (await asyncio.wait_for(channel.hello, 10))["viewer"]
        viewer = (
            DecodingViewer(self.server.url, token, sent=self.host.camera.sent)
            if decoding
            else CountingViewer(self.server.url, token)
        )
        self.viewers.append(viewer)
        await viewer.watch_show(self.http, self.id)
        await wait_until(lambda: len(arrivals(viewer)) > 0, 30, "a viewer's first frame")

    async def end(self) -> None:
        headers = {"Authorization": f"Bearer {self.key}"}
        with contextlib.suppress(aiohttp.ClientError):
            async with self.http.delete(f"{self.server.url}/api/shows/{self.id}", headers=headers):
                pass
        for v in self.viewers:
            await v.close()
        for c in self.channels:
            await c.close()
        if self.host is not None:
            await self.host.close()


async def wait_until(test: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not test():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: nothing within {timeout:.0f} s")
        await asyncio.sleep(0.05)


def in_window(times: Sequence[float], t0: float, t1: float) -> int:
    return sum(1 for t in times if t0 <= t < t1)


def our_pids(server: ServerProcess, janus: LocalJanus | None) -> dict[str, int]:
    pids = {"server": server.proc.pid, "bench": os.getpid()}
    if janus is not None:
        pids["janus"] = janus.process.pid
    return pids


async def others_pct(pids: dict[str, int], seconds: float = 1.0) -> float:
    """The CPU (% of one core) used over ``seconds`` by everything on the machine but ``pids``."""
    ours0, busy0, t0 = sum(map(cpu_seconds, pids.values())), machine_busy_seconds(), time.monotonic()
    await asyncio.sleep(seconds)
    ours = sum(map(cpu_seconds, pids.values())) - ours0
    return 100 * (machine_busy_seconds() - busy0 - ours) / (time.monotonic() - t0)


async def wait_quiet(pids: dict[str, int], limit: float, threshold: float = QUIET) -> float:
    """Wait (at most ``limit`` seconds) until the rest of the machine uses under ``threshold`` % of a
    core: other jobs on a shared 2-core machine would take the cores being measured. The wait."""
    start = time.monotonic()
    while time.monotonic() - start < limit:
        if (others := await others_pct(pids)) < threshold:
            break
        console.print(f"[dim]the rest of the machine uses {others:.0f}% of a core: waiting[/]")
    return time.monotonic() - start


async def measure(
    show: Show, server: ServerProcess, janus: LocalJanus | None, seconds: float, label: str
) -> dict[str, Any]:
    assert show.host is not None
    pids = our_pids(server, janus)
    w = await measure_window(pids, seconds, label, console)
    t0, t1, wall, cpu = w.t0, w.t1, w.wall, w.cpu
    fps = [in_window(arrivals(v), t0, t1) / wall for v in show.viewers]
    lat = np.array(
        [
            r.latency
            for v in show.viewers
            if not isinstance(v, CountingViewer)
            for r in v.received
            if t0 <= r.at < t1 and r.latency is not None
        ]
    )
    lat *= 1e3
    return {
        "viewers": len(show.viewers),
        "decoding_viewers": sum(not isinstance(v, CountingViewer) for v in show.viewers),
        "server_cpu_pct": cpu["server"],
        "janus_cpu_pct": cpu.get("janus"),
        "bench_cpu_pct": cpu["bench"],
        "machine_cpu_pct": w.machine,
        "other_cpu_pct": w.others,
        "cores": os.cpu_count(),
        "host_preview_fps": in_window(show.host.arrivals, t0, t1) / wall,
        "fps_per_viewer": [round(f, 2) for f in fps],
        "viewer_connections": dict(Counter(v.pc.connectionState for v in show.viewers)),
        "fps_min": float(min(fps)),
        "fps_median": float(np.median(fps)),
        "latency_p50_ms": float(np.percentile(lat, 50)) if lat.size else float("nan"),
        "latency_p95_ms": float(np.percentile(lat, 95)) if lat.size else float("nan"),
        "latency_samples": int(lat.size),
        "server_rss_mb": server.rss_mb(),
        "push_events": sum(c.events for c in show.channels),
    }


@contextlib.contextmanager
def maybe_janus(backend: str, folder: Path) -> Iterator[LocalJanus | None]:
    if backend != "janus":
        yield None
        return
    low = 20000 + 500 * secrets.randbelow(79)
    with local_janus(folder / "janus", rtp_ports=(low, low + 499)) as janus:
        yield janus


async def add_viewers(show: Show, n: int, decoding: int, backend: str) -> None:
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(f"{backend}: viewers → {n}", total=n)
        progress.update(task, completed=len(show.viewers))
        while len(show.viewers) < n:
            await show.add_viewer(decoding=len(show.viewers) < decoding)
            progress.update(task, completed=len(show.viewers))


async def run_backend(
    backend: str, args: argparse.Namespace, frames: Sequence[NDArray[np.uint8]]
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with (
        tempfile.TemporaryDirectory(prefix="tryon-show-bench-") as tmp,
        maybe_janus(backend, Path(tmp)) as janus,
    ):
        sfu = ["--sfu", f"janus:{janus.url}"] if janus else []
        server = ServerProcess(Path(tmp), ["--relay-viewers", str(max(args.viewers) + 1), *sfu])
        connector = aiohttp.TCPConnector(limit=0)  # push channels stay open for the whole run
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=10)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
            show = Show(server, http)
            try:
                await server.ready(http)
                await show.start(frames)
                for n in args.viewers:
                    try:
                        await add_viewers(show, n, args.decoding, backend)
                    except (TimeoutError, RuntimeError) as exc:  # the machine saturated: stop here
                        console.print(f"[red]{backend}: could not reach {n} viewers: {exc}[/]")
                        rows.append({"backend": backend, "viewers": n, "error": str(exc)})
                        break
                    await asyncio.sleep(args.warmup)
                    waited, attempts = 0.0, 0
                    while True:  # a window that other jobs crowded is measured again (a few times)
                        attempts += 1
                        waited += await wait_quiet(our_pids(server, janus), args.quiet_wait)
                        row = await measure(show, server, janus, args.window, f"{backend}: {n} viewers")
                        if row["other_cpu_pct"] < QUIET or attempts > args.retries:
                            break
                        console.print(
                            f"[dim]{backend} N={n}: other jobs took {row['other_cpu_pct']:.0f}% of a "
                            "core during the window: measuring again[/]"
                        )
                    row.update(backend=backend, waited_for_quiet_s=waited, attempts=attempts)
                    rows.append(row)
                    console.print(
                        f"{backend:>5} N={n:<3} server {row['server_cpu_pct']:5.1f}%"
                        + (f"  janus {row['janus_cpu_pct']:5.1f}%" if janus else "")
                        + f"  machine {row['machine_cpu_pct']:5.1f}%  fps min/med "
                        f"{row['fps_min']:.1f}/{row['fps_median']:.1f}  p50/p95 "
                        f"{row['latency_p50_ms']:.0f}/{row['latency_p95_ms']:.0f} ms"
                    )
            except Exception:
                console.print(f"[red]{backend}: the server's log ends with:[/]\n{server.tail()}")
                raise
            finally:
                await show.end()
                server.stop()
    return rows


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    frames = frames_640x480(90)
    results: dict[str, Any] = {
        "look": [LIPSTICK],
        "camera": "640x480 @ 30 fps",
        "viewers": args.viewers,
        "decoding_viewers": args.decoding,
        "warmup_s": args.warmup,
        "window_s": args.window,
        "backends": {},
    }
    for backend in args.backends:
        if backend == "janus" and not Path(JANUS).is_file():
            reason = f"{JANUS} not found (apt-get install janus): the Janus rows are skipped"
            console.print(f"[yellow]{reason}[/]")
            results["backends"][backend] = {"skipped": reason}
            continue
        try:
            rows = await run_backend(backend, args, frames)
        except SfuError as exc:
            reason = f"Janus could not be started: {exc}"
            console.print(f"[yellow]{reason}; the Janus rows are skipped[/]")
            results["backends"][backend] = {"skipped": reason}
            continue
        base = rows[0].get("server_cpu_pct", 0.0)
        for row in rows:
            if "server_cpu_pct" in row:
                row["server_cpu_ratio"] = row["server_cpu_pct"] / base if base > 0 else float("nan")
        results["backends"][backend] = {"rows": rows}
    return results


def report(results: dict[str, Any]) -> None:
    cores = os.cpu_count()
    t = Table(
        title=f"Live show: 1 host (640×480 @ 30 fps, lipstick), N viewers, loopback, {cores} cores; "
        "CPU in % of one core (others: the rest of the machine)"
    )
    cols = ("back end", "N", "tryon CPU", "× N=1", "Janus CPU", "bench CPU", "others", "fps min")
    for col in (*cols, "fps median", "p50 ms", "p95 ms"):
        t.add_column(col, justify="right")
    for backend, part in results["backends"].items():
        if "skipped" in part:
            t.add_row(backend, "", part["skipped"])
            continue
        for r in part["rows"]:
            if "error" in r:
                t.add_row(backend, str(r["viewers"]), f"failed: {r['error']}")
                continue
            janus = r["janus_cpu_pct"]
            t.add_row(
                backend,
                str(r["viewers"]),
                f"{r['server_cpu_pct']:.1f}",
                f"{r['server_cpu_ratio']:.2f}",
                "" if janus is None else f"{janus:.1f}",
                f"{r['bench_cpu_pct']:.1f}",
                f"{r['other_cpu_pct']:.0f}",
                f"{r['fps_min']:.1f}",
                f"{r['fps_median']:.1f}",
                f"{r['latency_p50_ms']:.0f}",
                f"{r['latency_p95_ms']:.0f}",
            )
    console.print(t)


def viewer_counts(text: str) -> list[int]:
    counts = sorted({int(x) for x in text.split(",") if x.strip()})
    if not counts or counts[0] < 1:
        raise argparse.ArgumentTypeError("expected viewer counts ≥ 1, e.g. 1,5,20")
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--viewers", type=viewer_counts, default=[1, 5, 20], help="N, e.g. 1,5,20,40")
    parser.add_argument(
        "--backends",
        type=lambda s: [b for b in s.split(",") if b],
        default=["relay", "janus"],
        help="relay,janus (default: both)",
    )
    parser.add_argument("--decoding", type=int, default=3, help="viewers that decode (latency)")
    parser.add_argument("--warmup", type=float, default=4.0, help="seconds after viewers are added")
    parser.add_argument("--window", type=float, default=10.0, help="measured seconds per N")
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=60.0,
        help="before each window, wait up to this long for other jobs on the machine to calm down",
    )
    parser.add_argument(
        "--retries", type=int, default=2, help="windows measured again when other jobs crowded them"
    )
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/show.json"))
    args = parser.parse_args()
    if unknown := set(args.backends) - {"relay", "janus"}:
        parser.error(f"--backends: unknown {sorted(unknown)}")
    results = asyncio.run(bench(args))
    report(results)
    write_results(args.out, results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
