"""Shared by the live benchmarks (show.py, outputs.py): a ``tryon serve`` in its own process, and
CPU accounting from /proc (the process's own, its children's, the whole machine's)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from rich.console import Console
from rich.progress import Progress

ROOT = Path(__file__).resolve().parent.parent
CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of process ``pid`` (all its threads), in seconds; 0 once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = text[text.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def machine_busy_seconds() -> float:
    """CPU seconds spent by the whole machine (every core) outside idle and iowait."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (sum(values[:8]) - values[3] - values[4]) / CLK_TCK


def descendants(pid: int) -> list[int]:
    """The processes below ``pid`` (e.g. its uplinks' relay children)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            text = stat.read_text()
            parents[int(stat.parent.name)] = int(text[text.rindex(")") + 2 :].split()[1])
    found, frontier = [], [pid]
    while frontier:
        children = [p for p, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


def free_port(udp: bool = False) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM if udp else socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class ServerProcess:
    """``python -m tryon serve`` on loopback with ``args``, its host key in its environment."""

    def __init__(self, folder: Path, args: Sequence[str] = ()) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.host_key = secrets.token_urlsafe(32)
        self.log = folder / "tryon-serve.log"
        cmd = [sys.executable, "-m", "tryon", "serve", "--port", str(self.port), "--db", "none", *args]
        env = {**os.environ, "TRYON_HOST_KEY": self.host_key}
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                cmd, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT
            )

    async def ready(self, http: aiohttp.ClientSession, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"tryon serve exited with {self.proc.returncode}:\n{self.tail()}")
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(f"{self.url}/healthz") as r:
                    if r.status == 200:
                        return
            await asyncio.sleep(0.2)
        raise RuntimeError(f"tryon serve did not answer within {timeout:.0f} s:\n{self.tail()}")

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-2000:]

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


@dataclass
class Window:
    """A measured window: its bounds, its length, each process's CPU and the machine's, in % of
    one core."""

    t0: float
    t1: float
    wall: float
    cpu: dict[str, float]
    machine: float

    @property
    def others(self) -> float:
        """What the rest of the machine used meanwhile."""
        return self.machine - sum(self.cpu.values())


async def measure_window(
    pids: dict[str, int], seconds: float, label: str, console: Console, children_of: int | None = None
) -> Window:
    """Wait ``seconds`` (a progress bar) reading the CPU of ``pids`` and of the machine before and
    after; ``children_of``: also the CPU of that process's children, as ``cpu["relay"]``."""
    children0 = {p: cpu_seconds(p) for p in descendants(children_of)} if children_of else {}
    cpu0 = {k: cpu_seconds(p) for k, p in pids.items()}
    busy0, t0 = machine_busy_seconds(), time.monotonic()
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(label, total=seconds)
        while (elapsed := time.monotonic() - t0) < seconds:
            await asyncio.sleep(min(0.5, seconds - elapsed))
            progress.update(task, completed=time.monotonic() - t0)
    t1 = time.monotonic()
    busy1, wall = machine_busy_seconds(), t1 - t0
    cpu = {k: 100 * (cpu_seconds(p) - cpu0[k]) / wall for k, p in pids.items()}
    if children_of:
        children1 = {p: cpu_seconds(p) for p in descendants(children_of)}
        cpu["relay"] = 100 * sum(v - children0.get(p, 0.0) for p, v in children1.items()) / wall
    return Window(t0, t1, wall, cpu, 100 * (busy1 - busy0) / wall)
