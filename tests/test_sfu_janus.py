"""The Janus SFU back end (webrtc.sfu.janus) against a real Janus on loopback (tests/services.py).

The publisher is an aiortc track of solid colours that change every half second, each frame stamped
with its number (webrtc.probe's counter); viewers are aiortc peers that gather 127.0.0.1 only and
read every decoded frame's number and colour back. VP8 is lossy: a frame's colour must lie within
``TOLERANCE`` (per RGB channel, mean over a flat patch) of the colour its number was drawn with.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import statistics
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import pytest_asyncio
from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection
from aiortc.mediastreams import MediaStreamError
from av import VideoFrame
from numpy.typing import NDArray
from services import free_port, janus

from webrtc.ice import IcePolicy, use_policy
from webrtc.probe import SyntheticCamera, read_counter
from webrtc.sfu.base import RoomFullError, SfuError
from webrtc.sfu.janus import JanusRoom, JanusSfu
from webrtc.sfu.janus_local import LocalJanus

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]

logger = logging.getLogger(__name__)

LOOPBACK = IcePolicy("loopback")
WIDTH, HEIGHT = 320, 240
PALETTE = ((200, 40, 40), (40, 180, 60), (40, 60, 200), (220, 200, 40))
FRAMES_PER_COLOUR = 15
TOLERANCE = 24
PATCH = (slice(140, 220), slice(180, 300))  # flat colour, away from the counter in the top-left


def colour_of(i: int) -> tuple[int, int, int]:
    return PALETTE[(i // FRAMES_PER_COLOUR) % len(PALETTE)]


def pattern(i: int) -> NDArray[np.uint8]:
    frame = np.empty((HEIGHT, WIDTH, 3), np.uint8)
    frame[:] = colour_of(i)
    return frame


@dataclass
class Seen:
    counter: int | None
    at: float
    colour: tuple[float, float, float]


class Viewer:
    """An aiortc viewer: subscribes, answers (gathering 127.0.0.1 only) and reads frames back."""

    def __init__(self) -> None:
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.seen: list[Seen] = []
        self.sub_id = ""
        self.offer_sdp = ""
        self._reader: asyncio.Task[None] | None = None
        self.pc.on("track", self._on_track)

    def _on_track(self, track: MediaStreamTrack) -> None:
        self._reader = asyncio.create_task(self._read(track))

    async def _read(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                assert isinstance(frame, VideoFrame)
                rgb: NDArray[np.uint8] = np.asarray(frame.to_ndarray(format="rgb24"), np.uint8)
                mean = rgb[PATCH].reshape(-1, 3).mean(axis=0)
                self.seen.append(Seen(read_counter(rgb), time.monotonic(), (mean[0], mean[1], mean[2])))

    async def join(self, room: JanusRoom) -> None:
        sub = await room.subscribe()
        self.sub_id, self.offer_sdp = sub.id, sub.offer.sdp
        await self.pc.setRemoteDescription(sub.offer)
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        await room.answer(sub.id, self.pc.localDescription)

    async def wait_frames(self, n: int, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.seen) < n:
            assert time.monotonic() < deadline, f"{len(self.seen)} frames within {timeout} s, expected {n}"
            await asyncio.sleep(0.05)

    async def close(self) -> None:
        await self.pc.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader


@pytest.fixture
def local(tmp_path: Path) -> Iterator[LocalJanus]:
    with janus(tmp_path) as server:
        yield server


@pytest_asyncio.fixture
async def sfu(local: LocalJanus) -> AsyncIterator[JanusSfu]:
    sfu = JanusSfu(local.url, policy=LOOPBACK, request_timeout=5.0)
    yield sfu
    await sfu.close()


@pytest_asyncio.fixture
async def viewers() -> AsyncIterator[list[Viewer]]:
    made: list[Viewer] = []
    yield made
    for v in made:
        await v.close()


async def add_viewers(room: JanusRoom, made: list[Viewer], n: int) -> list[Viewer]:
    new = [Viewer() for _ in range(n)]
    made.extend(new)
    with use_policy(LOOPBACK):  # the viewers' gathering too: 127.0.0.1 only
        for v in new:
            await v.join(room)
    return new


def off_colour(seen: Seen) -> bool:
    assert seen.counter is not None
    return max(abs(a - b) for a, b in zip(seen.colour, colour_of(seen.counter), strict=True)) > TOLERANCE


def candidate_addresses(sdp: str) -> set[str]:
    return {m.group(1) for m in re.finditer(r"^a=candidate:\S+ \d+ \S+ \d+ (\S+) ", sdp, re.MULTILINE)}


async def test_three_viewers_see_the_published_colours_then_one_leaves_and_the_room_closes(
    sfu: JanusSfu, viewers: list[Viewer]
) -> None:
    room = await sfu.open_room("show-colours")
    camera = SyntheticCamera(pattern, fps=30)
    await room.publish(camera)
    assert await sfu.exists(room.room_id)
    three = await add_viewers(room, viewers, 3)
    assert room.viewers == 3
    assert len({v.sub_id for v in three}) == 3
    for v in three:
        assert candidate_addresses(v.offer_sdp) == {"127.0.0.1"}, "janus offered more than loopback"
        assert not v.sub_id.isdigit()
    start = time.monotonic()
    for v in three:
        await v.wait_frames(90)  # 3 s of video: 6 colours
    connect_s = time.monotonic() - start

    for n, v in enumerate(three):
        readable = [s for s in v.seen if s.counter is not None]
        assert len(readable) >= 0.9 * len(v.seen), f"viewer {n}: {len(readable)}/{len(v.seen)} counters read"
        off = [s for s in readable if off_colour(s)]
        assert len(off) <= 0.05 * len(readable), f"viewer {n}: {len(off)} frames off colour, e.g. {off[:3]}"
        assert len({colour_of(s.counter) for s in readable if s.counter is not None}) >= 4
        latencies = [1000 * (s.at - camera.sent[s.counter]) for s in readable if s.counter in camera.sent]
        window = [s for s in v.seen if s.at >= v.seen[-1].at - 2.0]
        fps = (len(window) - 1) / (window[-1].at - window[0].at)
        p50 = statistics.median(latencies)
        p95 = statistics.quantiles(latencies, n=20)[-1]
        logger.info(
            "viewer %d: %.1f fps, latency p50 %.0f ms p95 %.0f ms, %d off colour", n, fps, p50, p95, len(off)
        )
        assert fps >= 20, f"viewer {n}: {fps:.1f} fps"
        assert p95 < 500, f"viewer {n}: latency p95 {p95:.0f} ms"
    logger.info("three viewers: first 90 frames within %.1f s", connect_s)

    # One viewer leaves: the other two keep receiving, the leaver's media stops.
    await room.unsubscribe(three[0].sub_id)
    await room.unsubscribe(three[0].sub_id)  # idempotent
    await room.unsubscribe("nobody")
    assert room.viewers == 2
    await asyncio.sleep(0.5)  # frames already in flight
    counts = [len(v.seen) for v in three]
    await asyncio.sleep(1.5)
    assert len(three[0].seen) - counts[0] <= 2, "the viewer that left still receives"
    for n in (1, 2):
        assert len(three[n].seen) - counts[n] >= 25, f"viewer {n} stopped receiving after another left"
    with pytest.raises(SfuError, match="no pending subscription"):
        await room.answer(three[0].sub_id, three[0].pc.localDescription)

    await room.close()
    await room.close()  # idempotent
    assert room.viewers == 0
    assert not await sfu.exists(room.room_id)
    with pytest.raises(SfuError, match="closed"):
        await room.subscribe()


async def test_check_describes_janus_and_fails_on_a_closed_port(sfu: JanusSfu, local: LocalJanus) -> None:
    line = await sfu.check()
    assert line == f"janus 1.1.2 at {local.url}, videoroom plugin present"
    nowhere = JanusSfu(f"http://127.0.0.1:{free_port(udp=False)}/janus", request_timeout=2.0)
    start = time.monotonic()
    with pytest.raises(SfuError, match="unreachable"):
        await nowhere.check()
    with pytest.raises(SfuError, match="unreachable"):
        await nowhere.open_room("show-nowhere")
    assert time.monotonic() - start < 4.0
    await nowhere.close()


async def test_room_full_past_max_viewers(local: LocalJanus) -> None:
    sfu = JanusSfu(local.url, policy=LOOPBACK, max_viewers=2, request_timeout=5.0)
    try:
        room = await sfu.open_room("show-full")
        with pytest.raises(SfuError, match="nothing published"):
            await room.subscribe()
        await room.publish(SyntheticCamera(pattern, fps=30))
        first, _ = await room.subscribe(), await room.subscribe()
        with pytest.raises(RoomFullError, match="2 viewers"):
            await room.subscribe()
        assert room.viewers == 2
        await room.unsubscribe(first.id)
        await room.subscribe()  # a place came free
        assert room.viewers == 2
        await room.publish(SyntheticCamera(pattern, fps=30))  # a new track on the same publisher
        assert room.viewers == 2
    finally:
        await sfu.close()


async def test_janus_killed_mid_stream_fails_the_room_fast(
    sfu: JanusSfu, local: LocalJanus, viewers: list[Viewer], caplog: pytest.LogCaptureFixture
) -> None:
    room = await sfu.open_room("show-killed")
    await room.publish(SyntheticCamera(pattern, fps=30))
    (viewer,) = await add_viewers(room, viewers, 1)
    await viewer.wait_frames(15)
    local.process.kill()
    local.process.wait(5)
    await asyncio.wait_for(room.failed.wait(), 5.0)
    assert sfu.failed
    start = time.monotonic()
    with pytest.raises(SfuError, match="failed"):
        await room.subscribe()
    with pytest.raises(SfuError, match="failed"):
        await room.answer(viewer.sub_id, viewer.pc.localDescription)
    with pytest.raises(SfuError, match="failed"):
        await sfu.open_room("show-after")
    with pytest.raises(SfuError):
        await sfu.check()
    await room.close()
    await sfu.close()
    assert time.monotonic() - start < 1.0
    failures = [r for r in caplog.records if r.name.startswith("webrtc.sfu") and r.levelno >= logging.ERROR]
    assert len(failures) == 1, "the failure is logged once"
    assert "failed: the long poll broke" in failures[0].getMessage()
