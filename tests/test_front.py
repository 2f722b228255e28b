"""``tryon serve --workers N``: the front process and its workers (webrtc/front.py).

The supervision and routing tests run small stand-in workers (an aiohttp app answering
/healthz, /metrics, /offer and a session's path like a worker does), so that a worker can be
killed and watched coming back in well under a second of model loading; the last test runs the
real ``tryon serve --workers 2`` with WebRTC probes."""

from __future__ import annotations

import asyncio
import os
import sys
import textwrap
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
import pytest
import pytest_asyncio
from aiohttp.test_utils import TestServer
from numpy.typing import NDArray

from webrtc.config import ServerConfig
from webrtc.front import FRONT_KEY, Front, create_front_app, worker_argv

FAKE_WORKER = textwrap.dedent(
    """
    import os, sys
    from aiohttp import web
    from webrtc.guard import is_loopback_peer
    port, index = int(sys.argv[1]), int(sys.argv[2])
    state = {"sessions": 0, "frames": 0}

    async def healthz(r):
        return web.json_response({"status": "ok", "sessions": state["sessions"]})

    async def metrics(r):
        state["frames"] += 10
        total = state["frames"] * (0.010 + 0.020 * index)
        count = state["frames"]
        return web.Response(text=f"tryon_frame_seconds_sum {total}\\ntryon_frame_seconds_count {count}\\n")

    async def offer(r):
        await r.read()
        state["sessions"] += 1
        sid = f"w{index}s{state['sessions']}"
        return web.json_response({"type": "answer", "sdp": "v=0", "session": sid,
                                  "loopback_peer": is_loopback_peer(r)})

    async def session(r):
        return web.json_response({"worker": index, "sid": r.match_info["sid"]})

    async def exit_now(r):
        os._exit(3)

    async def anything(r):
        return web.json_response({"worker": index, "path": r.path, "pid": os.getpid()})

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    app.router.add_post("/offer", offer)
    app.router.add_get("/api/sessions/{sid}/snapshot.png", session)
    app.router.add_post("/api/sessions/{sid}/exit", exit_now)
    app.router.add_route("*", "/{tail:.*}", anything)
    web.run_app(app, host="127.0.0.1", port=port, print=None)
    """
)


@pytest_asyncio.fixture
async def front(tmp_path: Path) -> AsyncIterator[tuple[TestServer, Front]]:
    script = tmp_path / "worker.py"
    script.write_text(FAKE_WORKER)
    repo = str(Path(__file__).resolve().parents[1])
    os.environ["PYTHONPATH"] = repo + os.pathsep + os.environ.get("PYTHONPATH", "")

    def command(index: int, port: int) -> Sequence[str]:
        return [sys.executable, str(script), str(port), str(index)]

    app = create_front_app(ServerConfig(), 2, command)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield server, app[FRONT_KEY]
    finally:
        await server.close()


async def call(server: TestServer, method: str, path: str, **kw: Any) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as http, http.request(method, server.make_url(path), **kw) as r:
        body = await r.json() if r.content_type == "application/json" else await r.read()
        return r.status, body


async def until(condition: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


@pytest.mark.asyncio
async def test_offers_go_to_the_least_loaded_worker_and_sessions_stay_with_theirs(
    front: tuple[TestServer, Front],
) -> None:
    server, f = front
    offer = {"json": {"type": "offer", "sdp": "v=0"}}
    sids = []
    for _ in range(4):
        status, body = await call(server, "POST", "/offer", **offer)
        assert status == 200
        assert body["loopback_peer"]  # the worker sees the client's address (loopback here)
        sids.append(body["session"])
    # Fewest sessions first, ties to the faster worker: 0, 1, 0, 1.
    assert [s[:2] for s in sids] == ["w0", "w1", "w0", "w1"]
    assert f.workers[0].session_ids == {sids[0], sids[2]}
    for sid in sids:
        status, body = await call(server, "GET", f"/api/sessions/{sid}/snapshot.png")
        assert status == 200
        assert body == {"worker": int(sid[1]), "sid": sid}
    status, body = await call(server, "GET", "/api/sessions/nope/snapshot.png")
    assert status == 404
    status, body = await call(server, "GET", "/api/catalog")
    assert (status, body["worker"]) == (200, 0)  # everything else: worker 0
    # With equal sessions, the shorter frame time wins (worker 0's stand-in frames take 10 ms,
    # worker 1's 30 ms, as its /metrics say).
    await until(lambda: f.workers[1].frame_ms > f.workers[0].frame_ms > 0)
    assert f.least_loaded() is f.workers[0]


@pytest.mark.asyncio
async def test_a_dead_worker_is_replaced_its_sessions_end_the_others_go_on(
    front: tuple[TestServer, Front],
) -> None:
    server, f = front
    offer = {"json": {"type": "offer", "sdp": "v=0"}}
    sids = [(await call(server, "POST", "/offer", **offer))[1]["session"] for _ in range(2)]
    one = f.workers[1]
    assert one.process is not None
    old_pid = one.process.pid
    await call(server, "POST", f"/api/sessions/{sids[1]}/exit")  # the worker kills itself
    await until(lambda: not one.ready or one.process is None or one.process.pid != old_pid)
    # Its session ends with a reason; worker 0's session is untouched.
    status, body = await call(server, "GET", f"/api/sessions/{sids[1]}/snapshot.png")
    assert status == 410
    assert "stopped" in body["error"]
    status, body = await call(server, "GET", f"/api/sessions/{sids[0]}/snapshot.png")
    assert (status, body["worker"]) == (200, 0)
    # While worker 1 is away, offers go to worker 0; then it is back, a new process.
    await until(lambda: one.ready and one.process is not None and one.process.pid != old_pid)
    assert one.started == 2
    status, body = await call(server, "POST", "/offer", **offer)
    assert status == 200
    assert body["session"].startswith("w1")


@pytest.mark.asyncio
async def test_the_front_applies_the_guard() -> None:
    app = create_front_app(
        ServerConfig(), 1, lambda i, p: [sys.executable, "-c", "import time; time.sleep(60)"]
    )
    server = TestServer(app, host="127.0.0.1")
    front = app[FRONT_KEY]
    front_start = front.start

    async def no_wait() -> None:  # the stand-in never answers /healthz: don't wait for it
        import webrtc.front as module

        saved = module.READY_TIMEOUT_S
        module.READY_TIMEOUT_S = 0.1
        try:
            await front_start()
        finally:
            module.READY_TIMEOUT_S = saved

    front.start = no_wait  # type: ignore[method-assign]
    await server.start_server()
    try:
        status, _ = await call(server, "GET", "/", headers={"Host": "evil.example"})
        assert status == 421
        status, _ = await call(server, "POST", "/offer", json={}, headers={"Origin": "https://evil.example"})
        assert status == 403
        status, _ = await call(server, "POST", "/offer", json={})
        assert status == 503  # no worker ready
    finally:
        await server.close()


def test_worker_command_line() -> None:
    command = worker_argv(["serve", "--workers", "2", "--port", "8080", "--batch", "--host=127.0.0.1"])
    assert list(command(1, 9001)) == [
        sys.executable,
        "-m",
        "tryon",
        "serve",
        "--batch",
        "--host=127.0.0.1",
        "--port",
        "9001",
        "--workers",
        "1",
    ]
    command = worker_argv(["serve", "--workers=3", "--port=1"])
    assert list(command(0, 5))[3:] == ["serve", "--port", "5", "--workers", "1"]


@pytest.mark.asyncio
@pytest.mark.slow
async def test_tryon_serve_with_two_workers_end_to_end(
    tmp_path: Path, camera_scene: NDArray[np.uint8]
) -> None:
    """``tryon serve --workers 2`` for real: two WebRTC probe sessions go to the two workers and
    both receive frames; one worker killed, the other session keeps receiving frames and a new
    session starts on the restarted worker."""
    import signal
    import socket

    from webrtc.probe import ProbeClient

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    key = tmp_path / "host.key"
    key.write_text("host-key-0123456789abcdef\n")
    key.chmod(0o600)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tryon",
        "serve",
        "--port",
        str(port),
        "--workers",
        "2",
        "--db",
        "none",
        "--host-key-file",
        str(key),
        stdout=asyncio.subprocess.PIPE,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    clients: list[ProbeClient] = []
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 240)
        assert b"with 2 workers" in line, line
        async with aiohttp.ClientSession() as http:
            for _ in range(2):
                c = ProbeClient(url, lambda _: camera_scene, fps=15)
                await c.connect(http, ["velvet-matte-lipstick:ruby-red"])
                clients.append(c)
            for c in clients:
                await c.wait_frames(5, timeout=60)
            pids = await worker_pids(proc.pid)
            assert len(pids) == 2
            os.kill(pids[1], signal.SIGKILL)
            kept = len(clients[0].received)
            await asyncio.sleep(3)
            survivors = [c for c in clients if len(c.received) > kept + 5]
            assert survivors, "no session kept receiving frames after one worker died"
            deadline = time.monotonic() + 240
            while len(await worker_pids(proc.pid)) < 2:
                assert time.monotonic() < deadline, "the dead worker was not replaced"
                await asyncio.sleep(0.5)
            async with http.get(f"{url}/healthz") as r:
                assert r.status == 200
    finally:
        for c in clients:
            await c.close()
        proc.send_signal(2)
        try:
            await asyncio.wait_for(proc.wait(), 20)
        except TimeoutError:
            proc.kill()


async def worker_pids(parent: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == parent:
                out.append(int(entry.name))
    return sorted(out)
