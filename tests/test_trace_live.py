"""A live session's frame trace, asked for over the real data channel (``tryon serve --trace-dir``)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import numpy as np
import pytest
from live_helpers import LIPSTICK, live_server
from numpy.typing import NDArray
from test_profile import check_trace

from tryon.trace import FRAME, load_events
from webrtc import ServerConfig
from webrtc.control import ControlError, TraceRequest, parse_message

pytestmark = pytest.mark.slow


def test_trace_message_is_validated() -> None:
    assert parse_message('{"type": "trace", "seconds": 2.5}') == TraceRequest(None, 2.5)
    assert parse_message('{"type": "trace"}') == TraceRequest(None, 10.0)
    for bad in ("0", "31", "true", '"10"'):
        with pytest.raises(ControlError, match=r"trace.seconds: expected a number in \(0, 30\]"):
            parse_message(f'{{"type": "trace", "seconds": {bad}}}')


@pytest.mark.asyncio
async def test_live_trace_over_the_data_channel(camera_scene: NDArray[np.uint8], tmp_path: Path) -> None:
    async with live_server(ServerConfig(trace_dir=str(tmp_path)), camera_scene) as live:
        c = await live.client([LIPSTICK])
        await c.wait_frames(5)
        ack = await c.request({"type": "trace", "seconds": 1.5})
        assert ack["type"] == "ack"
        assert ack["request"] == "trace"
        assert ack["seconds"] == 1.5
        name = ack["file"]
        assert name.startswith(c.session[:6])
        assert name.endswith(".json")
        busy = await c.request({"type": "trace", "seconds": 1})
        assert busy["type"] == "error"
        assert "already" in busy["message"]
        deadline = time.monotonic() + 15
        while not any(m.get("type") == "trace" for m in c.messages):
            assert time.monotonic() < deadline, "no trace message"
            await asyncio.sleep(0.1)
        done = next(m for m in c.messages if m.get("type") == "trace")
        assert done["file"] == name
        assert done["frames"] > 5
        events = load_events(tmp_path / name)
        frames = check_trace(events)
        # Two threads: the session's worker (stages) and the event loop (hand-over to sender).
        assert len(frames) == 2
        names = {e["name"] for e in events if e["ph"] == "X"}
        assert {"to_rgb", "fit", "perception", "faces.landmarks", "render.makeup", "to_yuv"} <= names
        assert {"await_worker", "sender"} <= names
        worker, loop = sorted(
            frames.values(), key=lambda fs: -sum(1 for e in events if e.get("tid") == fs[0]["tid"])
        )
        assert abs(len(worker) - len(loop)) <= 2
        assert all(f["name"] == FRAME and "frame" in f["args"] for f in worker + loop)
        # Once written, tracing is off again: a second trace can start.
        again = await c.request({"type": "trace", "seconds": 0.5})
        assert again["type"] == "ack"
        assert again["file"] != name


@pytest.mark.asyncio
async def test_live_trace_refused_without_a_trace_dir(camera_scene: NDArray[np.uint8]) -> None:
    async with live_server(ServerConfig(), camera_scene) as live:
        c = await live.client([LIPSTICK])
        reply = await c.request({"type": "trace", "seconds": 5})
        assert reply["type"] == "error"
        assert "--trace-dir" in reply["message"]
        await live.works()
