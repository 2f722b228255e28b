"""A show's RTMP output: the host's try-on (and sound) reaches a local ``ffmpeg -listen 1`` as
H.264 + AAC, the stream key never shows, the host's key is required, the end stops it."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import pytest
import pytest_asyncio
from aiortc import RTCConfiguration, RTCPeerConnection
from live_helpers import LIPSTICK, Live, lip_mask, live_fixture
from services import media_receiver
from show_helpers import HOST_KEY, ShowClient, bearer
from test_uplink import decode, dominant_hz

from webrtc.ice import IcePolicy
from webrtc.probe import SyntheticCamera, ToneTrack, read_counter
from webrtc.whip_client import negotiate

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]

live = pytest_asyncio.fixture(live_fixture(host_key=HOST_KEY))


async def test_a_show_goes_out_over_rtmp_with_the_look_and_the_hosts_sound(
    live: Live, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    api = ShowClient(live.http, live.url)
    show = await api.create()
    sid, key = show["id"], show["key"]
    # The host publishes over WHIP with a camera and a tone.
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    camera = SyntheticCamera(live.frame, fps=20)
    pc.addTransceiver(camera, direction="sendonly")
    pc.addTransceiver(ToneTrack(), direction="sendonly")
    await negotiate(live.http, f"{live.url}whip?products={LIPSTICK}", pc, key, policy=IcePolicy("loopback"))
    with media_receiver(tmp_path) as receiver:
        stream_key = receiver.url.rsplit("/", 1)[1]
        path = f"/api/shows/{sid}/outputs"
        status, _, _ = await api.call("POST", path, {"url": receiver.url})
        assert status == 401
        status, _, _ = await api.call("POST", path, {"url": receiver.url}, bearer(HOST_KEY))
        assert status == 403
        for bad in (
            {"url": "http://example.com/live"},
            {"url": 3},
            {"url": receiver.url, "video_bitrate": 10},
        ):
            status, err, _ = await api.call("POST", path, bad, bearer(key))
            assert status == 400, (bad, err)
        status, out, _ = await api.call(
            "POST", path, {"url": receiver.url, "keyframe_interval_s": 1}, bearer(key)
        )
        assert status == 201, out
        assert stream_key not in str(out)
        assert out["target"] == f"rtmp://127.0.0.1:{receiver.port}"
        deadline = time.monotonic() + 30
        while True:
            status, outputs, _ = await api.call("GET", path, None, bearer(key))
            if outputs[0]["frames_sent"] >= 60:
                break
            assert time.monotonic() < deadline, outputs
            await asyncio.sleep(0.3)
        assert outputs[0]["state"] == "live"
        status, _, _ = await api.call("DELETE", f"{path}/{out['id']}", None, bearer(key))
        assert status == 204
        receiver.wait(15)
        got = decode(receiver.output)
    assert stream_key not in caplog.text
    assert got.codec == "h264"
    assert got.size == (640, 480)
    counters = [read_counter(f) for f in got.frames]
    numbers = [n for n in counters if n is not None]
    assert len(numbers) >= 30
    # The try-on is what went out: lips coloured on a frame read back.
    for frame, n in reversed(list(zip(got.frames, counters, strict=True))):
        if n is None:
            continue
        sent = live.frame(n)
        lips = lip_mask(sent)
        shift = frame[lips].astype(float).mean(0) - sent[lips].astype(float).mean(0)
        assert shift[1] < -20, f"lipstick not in the RTMP output: {shift}"
        break
    else:
        pytest.fail("no frame of the RTMP output had a readable counter")
    assert got.audio_codec == "aac"
    assert dominant_hz(got.audio[-48000:]) == pytest.approx(440, abs=15), (
        "the host's tone is not in the output"
    )
    await pc.close()
