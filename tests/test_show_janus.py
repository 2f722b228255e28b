"""The live show through a real Janus on loopback (started by the test; skipped with the reason when
janus is not installed, a failure under TRYON_REQUIRE_SERVICES=1): a host publishes to the tryon
server, the server applies a lipstick and publishes into Janus, three viewers subscribe through
Janus and each decodes coloured lips; "now showing" reaches every viewer's push channel; ending the
show closes the viewers' streams and frees the room. Also ``tryon doctor --sfu``."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import numpy as np
import pytest
import pytest_asyncio
from live_helpers import LIPSTICK, Live, live_server
from services import janus
from show_helpers import HOST_KEY, ShowClient, bearer
from test_show_live import lip_shift, publish, wait_kept

from tryon.cli.doctor import check_sfu
from webrtc import ServerConfig
from webrtc.app import SERVER_KEY
from webrtc.probe import ProbeViewer
from webrtc.sfu.janus import JanusSfu
from webrtc.sfu.janus_local import LocalJanus

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]


@pytest.fixture
def local(tmp_path: Path) -> Iterator[LocalJanus]:
    with janus(tmp_path) as server:
        yield server


@pytest_asyncio.fixture
async def live(local: LocalJanus, camera_scene: np.ndarray) -> AsyncIterator[Live]:
    async with live_server(ServerConfig(host_key=HOST_KEY, sfu=f"janus:{local.url}"), camera_scene) as live:
        yield live


async def test_viewers_watch_the_try_on_through_janus(live: Live, local: LocalJanus) -> None:
    api = ShowClient(live.http, live.url)
    status, config, _ = await api.call("GET", "/api/config")
    assert config["sfu"] == "janus"
    show = await api.create("Janus night")
    assert show["sfu"] == "janus"
    pages = [await api.push(show["id"]) for _ in range(3)]
    host = await publish(live, show, [LIPSTICK])
    await host.wait_frames(10)
    viewers = []
    for page in pages:
        v = ProbeViewer(live.url, page.hello["viewer"], sent=host.camera.sent, keep=lambda n: n % 15 == 0)
        await v.watch_show(live.http, show["id"])
        viewers.append(v)
        # The offer is Janus's: its media comes from Janus, not from the tryon server.
        assert v.pc.remoteDescription is not None
        assert "Janus" in v.pc.remoteDescription.sdp or "janus" in v.pc.remoteDescription.sdp.lower()
    for v in viewers:
        await wait_kept(v, 3)
    for v in viewers:
        # The show's sound reaches every viewer too (silence here: this host sends no microphone).
        assert v.audio_frames > 10, f"no sound track at a viewer ({v.audio_frames} frames)"
        change = lip_shift(v, live)
        assert change[1] < -20, f"lipstick not visible through Janus: lip colour change {change}"
        assert change[0] - change[1] > 20, f"lipstick not red through Janus: {change}"
        latencies = sorted(r.latency for r in v.received[-30:] if r.latency is not None)
        assert latencies, "no frame counter read back through Janus"
    # Now showing reaches every viewer's push channel.
    status, _, _ = await api.call(
        "PUT", f"/api/shows/{show['id']}/showing", {"product": "velvet-matte-lipstick"}, bearer(show["key"])
    )
    assert status == 200
    for page in pages:
        card = await page.wait("showing")
        assert card["product"] == "velvet-matte-lipstick"
    server_show = live.server.app[SERVER_KEY].shows.shows[show["id"]]
    room_id = server_show.room.room_id
    sfu = server_show.room.sfu
    assert isinstance(sfu, JanusSfu)
    assert await sfu.exists(room_id)
    # The end: viewers' streams close, the room is gone from Janus.
    status, _, _ = await api.call("DELETE", f"/api/shows/{show['id']}", None, bearer(show["key"]))
    assert status == 204
    for page in pages:
        await page.wait("ended")
    assert not await sfu.exists(room_id)
    for v in viewers:
        n = len(v.received)
        await asyncio.sleep(1.0)
        # No more frames reach a viewer after the end (at most those already in flight).
        assert len(v.received) - n <= 3
        await v.close()
    for page in pages:
        await page.close()


async def test_doctor_says_whether_janus_is_reachable(local: LocalJanus) -> None:
    report = await asyncio.to_thread(check_sfu, f"janus:{local.url}")
    assert report["ok"] is True
    assert "videoroom" in report["detail"]
    local.process.terminate()
    local.process.wait(10)
    started = time.monotonic()
    report = await asyncio.to_thread(check_sfu, f"janus:{local.url}")
    assert report["ok"] is False
    assert "unreachable" in report["detail"] or "janus" in report["detail"]
    assert time.monotonic() - started < 10
