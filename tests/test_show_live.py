"""A live show end to end on loopback with the embedded relay: a host (aiortc, a moving portrait)
publishes with a lipstick, three viewers receive the processed video, the lips are coloured in
what each viewer decodes; the host reconnects and the viewers keep watching; ending the show
ends their media. The same flow through a real Janus is in test_show_janus.py."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import numpy as np
import pytest
import pytest_asyncio
from live_helpers import LIPSTICK, Live, lip_mask, live_fixture
from show_helpers import HOST_KEY, ShowClient, bearer

from webrtc.probe import ProbeClient, ProbeViewer

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]

live = pytest_asyncio.fixture(live_fixture(host_key=HOST_KEY, relay_viewers=4))


async def publish(live: Live, show: dict[str, Any], products: list[str]) -> ProbeClient:
    host = ProbeClient(live.url, live.frame, fps=20)
    live.clients.append(host)
    await host.connect(
        live.http, products, path=f"/api/shows/{show['id']}/publish", headers=bearer(show["key"])
    )
    return host


def lip_shift(viewer: ProbeViewer, live: Live) -> np.ndarray:
    """Mean colour change on the lips, camera frame → what the viewer decoded (over kept frames)."""
    shifts = []
    for n, got in sorted(viewer.images.items())[-4:]:
        sent = live.frame(n)
        lips = lip_mask(sent)
        shifts.append(got[lips].astype(np.float32).mean(0) - sent[lips].astype(np.float32).mean(0))
    assert shifts, "no frame kept"
    return np.mean(shifts, axis=0)


async def wait_kept(viewer: ProbeViewer, n: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while len(viewer.images) < n:
        assert time.monotonic() < deadline, f"viewer kept {len(viewer.images)} frames of {n} in {timeout} s"
        await asyncio.sleep(0.05)


async def test_viewers_see_the_hosts_try_on_and_the_show_survives_a_reconnect(live: Live) -> None:
    api = ShowClient(live.http, live.url)
    show = await api.create("Lip night")
    host_events = await api.push(show["id"], show["key"])
    pages = [await api.push(show["id"]) for _ in range(3)]
    host = await publish(live, show, [LIPSTICK])
    await host.wait_frames(10)
    await host_events.wait("state", lambda s: s["live"] is True, timeout=10)
    viewers = []
    for page in pages:
        v = ProbeViewer(live.url, page.hello["viewer"], sent=host.camera.sent, keep=lambda n: n % 15 == 0)
        await v.watch_show(live.http, show["id"])
        viewers.append(v)
    for v in viewers:
        await wait_kept(v, 3)
    for v in viewers:
        # The show's sound reaches every viewer too (silence here: this host sends no microphone).
        assert v.audio_frames > 10, f"no sound track at a viewer ({v.audio_frames} frames)"
        change = lip_shift(v, live)
        assert change[1] < -20, f"lipstick not visible to a viewer: lip colour change {change}"
        assert change[0] - change[1] > 20, f"lipstick not red for a viewer: {change}"
        latencies = [r.latency for r in v.received[-20:] if r.latency is not None]
        assert latencies, "no counter read back at the viewer"
    stats = await host_events.wait("host", lambda h: h["viewers_media"] == 3 and h["fps"] > 0, timeout=10)
    assert stats["live"] is True
    # The host drops out and comes back: the viewers' connections stay, the show goes on.
    await host.close()
    await host_events.wait("state", lambda s: s["live"] is False, timeout=10)
    before = [len(v.received) for v in viewers]
    host2 = await publish(live, show, [LIPSTICK])
    await host2.wait_frames(10)
    for v, n in zip(viewers, before, strict=True):
        v.sent = host2.camera.sent
        await v.wait_frames(10)
        assert len(v.received) > n
    assert await live.sessions() == 1
    # Ending the show ends the host's session and every viewer's media.
    status, _, _ = await api.call("DELETE", f"/api/shows/{show['id']}", None, bearer(show["key"]))
    assert status == 204
    await live.wait_sessions(0)
    for v in viewers:
        deadline = time.monotonic() + 10
        while v.pc.connectionState not in ("closed", "failed"):
            assert time.monotonic() < deadline, f"viewer still {v.pc.connectionState} after the end"
            await asyncio.sleep(0.1)
        await v.close()
    for page in pages:
        await page.wait("ended")
        await page.close()
    await host_events.close()
