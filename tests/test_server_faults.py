"""Bad input and faults on the live server: each gets the right error, and afterwards a fresh
session still works (the server keeps serving)."""

from __future__ import annotations

import asyncio
import gc
import json
import re
import threading
import weakref
from collections.abc import Sequence
from typing import Any

import pytest
import pytest_asyncio
from aiortc import RTCConfiguration, RTCPeerConnection
from live_helpers import LIPSTICK, Live, live_fixture, shared_catalog

from tryon.pipeline import LookItem, TryOnPipeline
from webrtc.app import SERVER_KEY
from webrtc.track import FramePipeline

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]

live = pytest_asyncio.fixture(live_fixture())
live_small = pytest_asyncio.fixture(
    live_fixture(max_sessions=1, connect_timeout=1.5, idle_timeout=1.5, max_offer_bytes=16_000)
)


async def real_offer_sdp(video: bool = True) -> str:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    if video:
        pc.addTransceiver("video", direction="sendrecv")
    pc.createDataChannel("control")
    await pc.setLocalDescription(await pc.createOffer())
    sdp: str = pc.localDescription.sdp
    await pc.close()
    return sdp


async def test_malformed_offers_get_400_with_a_message(live: Live) -> None:
    sdp = await real_offer_sdp()
    lines = sdp.splitlines()
    bad: list[tuple[bytes | dict[str, object], str]] = [
        (b"not json at all", "invalid JSON"),
        (b"\xff\xfe\x00garbage", "invalid JSON"),
        (b"[1, 2, 3]", "got list"),
        ({"type": "offer"}, "sdp: expected"),
        ({"sdp": sdp, "type": "answer"}, 'type: expected "offer"'),
        ({"sdp": sdp, "type": "offer", "products": "velvet-matte-lipstick"}, "products: expected a list"),
        ({"sdp": sdp, "type": "offer", "products": ["no-such-product"]}, "unknown product"),
        ({"sdp": sdp, "type": "offer", "products": ["velvet-matte-lipstick:no-shade"]}, "no shade"),
        ({"sdp": "v=0\r\nm=video\r\n", "type": "offer"}, "malformed SDP"),
        ({"sdp": "\r\n".join(lines[: len(lines) // 2]), "type": "offer"}, "ICE"),
        ({"sdp": re.sub(r"m=video \d+", "m=video x", sdp), "type": "offer"}, "malformed SDP"),
        ({"sdp": "hello", "type": "offer"}, "no camera track"),
        ({"sdp": await real_offer_sdp(video=False), "type": "offer"}, "no camera track"),
        ({"sdp": sdp.replace("a=fingerprint", "a=x-fingerprint"), "type": "offer"}, "fingerprint"),
    ]
    for body, expected in bad:
        status, reply = await live.post_offer(body)
        assert status == 400, (expected, status, reply)
        assert expected in reply["error"], reply
    assert await live.sessions() == 0
    await live.works()


async def test_oversized_offer_and_session_cap(live_small: Live) -> None:
    live = live_small
    status, reply = await live.post_offer(b"x" * 20_000)
    assert status == 413
    assert "too large" in reply["error"]
    first = await live.client([LIPSTICK])
    await first.wait_frames(5)
    status, reply = await live.post_offer({"sdp": await real_offer_sdp(), "type": "offer"})
    assert status == 503
    assert "capacity" in reply["error"]
    await first.close()
    await live.wait_sessions(0)
    await live.works()


async def test_bad_control_messages_get_errors_and_the_session_goes_on(live: Live) -> None:
    c = await live.client()
    await c.wait_frames(5)
    bad = [
        ("not json", "invalid JSON"),
        ("[1]", "JSON object"),
        (json.dumps({"type": "dance"}), "type: expected one of"),
        (json.dumps({"type": "look", "products": "x"}), "look.products"),
        (json.dumps({"type": "look", "products": ["nope"]}), "unknown product"),
        (json.dumps({"type": "look", "products": [LIPSTICK], "intensity": 3}), "intensity"),
        (json.dumps({"type": "look", "products": ["velvet-matte-lipstick:blue"]}), "no shade"),
        (json.dumps({"type": "split", "position": "half"}), "split.position"),
        (json.dumps({"type": "split", "position": 0.5, "before": "up"}), "split.before"),
        (json.dumps({"type": "pause", "paused": "yes"}), "pause.paused"),
        (json.dumps({"type": "look", "products": [LIPSTICK] * 50}), "at most"),
        (json.dumps({"type": "look", "products": [], "pad": "x" * 5000}), "too large"),
    ]
    for raw, expected in bad:
        before = len(c.messages)
        c.channel.send(raw)
        for _ in range(100):
            if len(c.messages) > before:
                break
            await asyncio.sleep(0.02)
        reply = c.messages[-1]
        assert reply["type"] == "error", (raw, reply)
        assert expected in reply["message"], (raw, reply)
    c.channel.send(b"\x00\x01binary")
    await asyncio.sleep(0.3)
    assert c.messages[-1]["type"] == "error"
    # An error carries the id of the message it answers, and changes nothing.
    reply = await c.request({"type": "look", "products": ["nope"]})
    assert reply["type"] == "error"
    assert (await c.request({"type": "look", "products": [LIPSTICK]}))["look"] == [LIPSTICK]
    n = len(c.received)
    await c.wait_frames(10)
    assert len(c.received) >= n + 10
    await live.works()


async def test_a_vanished_browser_is_closed_and_released(live_small: Live) -> None:
    live = live_small
    c = await live.client([LIPSTICK])
    await c.wait_frames(5)
    c.camera.stop()  # the camera goes silent without a goodbye: no frame, no close
    await live.wait_sessions(0, timeout=6)
    await c.close()
    await live.works()


async def test_an_offer_never_connected_is_closed_after_the_timeout(live_small: Live) -> None:
    live = live_small
    status, _ = await live.post_offer({"sdp": await real_offer_sdp(), "type": "offer"})
    assert status == 200
    assert await live.sessions() == 1
    await live.wait_sessions(0, timeout=5)
    await live.works()


async def test_a_closed_peer_releases_its_session(live: Live) -> None:
    clients = [await live.client([LIPSTICK]) for _ in range(2)]
    await clients[1].wait_frames(5)
    assert await live.sessions() == 2
    await clients[0].close()
    await live.wait_sessions(1)
    await clients[1].wait_frames(5)  # the other session is unaffected
    await clients[1].close()
    await live.wait_sessions(0)


class Recorded:
    """Pipelines made by the server, held weakly: a released session leaves none alive."""

    def __init__(self) -> None:
        self.refs: list[weakref.ref[Any]] = []

    def __call__(self, items: Sequence[LookItem]) -> FramePipeline:
        pipeline = TryOnPipeline(items, catalog=shared_catalog())
        self.refs.append(weakref.ref(pipeline))
        return pipeline

    def alive(self) -> int:
        gc.collect()
        return sum(r() is not None for r in self.refs)


recorded = Recorded()


def session_threads(sessions: Sequence[str]) -> list[str]:
    prefixes = tuple(f"tryon-{sid[:6]}" for sid in sessions)
    return [t.name for t in threading.enumerate() if t.name.startswith(prefixes)]


async def wait_no_threads(sessions: Sequence[str]) -> None:
    for _ in range(50):  # a worker ends once its last frame is done
        if not session_threads(sessions):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"session worker threads left running: {session_threads(sessions)}")


@pytest.mark.parametrize("live", [recorded], indirect=True)
async def test_ended_sessions_release_their_pipeline_and_threads(live: Live) -> None:
    sessions = []
    for ending in ("close", "vanish", "close"):
        c = await live.client([LIPSTICK])
        assert c.session is not None
        sessions.append(c.session)
        await c.wait_frames(5)
        if ending == "close":
            await c.close()
        else:
            c.camera.stop()
            await c.pc.close()
        await live.wait_sessions(0)
    assert len(recorded.refs) == 3
    assert recorded.alive() == 0, "a closed session's pipeline is still referenced"
    await wait_no_threads(sessions)


async def test_server_shutdown_closes_live_sessions(live: Live) -> None:
    c = await live.client([LIPSTICK])
    await c.wait_frames(5)
    assert c.session is not None
    server = live.server.app[SERVER_KEY]
    session = server.sessions[c.session]
    await asyncio.wait_for(live.server.close(), 15)
    assert session.close_reason == "server shutting down"
    assert server.sessions == {}
    await wait_no_threads([c.session])
