"""Pure parts of the live server: control messages, settings, the output size, the frame counter."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tryon.errors import InputError
from webrtc.config import IceServer, ServerConfig, ice_servers, parse_size
from webrtc.control import LookRequest, PauseRequest, PingRequest, SplitRequest, parse_message
from webrtc.frames import fit_to_size
from webrtc.probe import counter_box, draw_counter, read_counter


def test_control_messages_parse_into_typed_requests() -> None:
    look = parse_message(
        json.dumps({"type": "look", "id": 3, "products": ["a:b", {"product": "c", "intensity": 0.5}]})
    )
    assert look == LookRequest(3, (("a:b", 1.0), ("c", 0.5)), None)
    assert parse_message('{"type": "look", "products": [], "intensity": 0.25}') == LookRequest(None, (), 0.25)
    assert parse_message('{"type": "split", "position": 0.3, "before": "right"}') == SplitRequest(
        None, 0.3, "right"
    )
    assert parse_message('{"type": "split", "position": null}') == SplitRequest(None, None, "left")
    assert parse_message('{"type": "pause", "paused": true, "id": "x"}') == PauseRequest("x", True)
    assert parse_message('{"type": "ping"}') == PingRequest(None)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('{"type": "look", "products": ["a"], "intensity": true}', "intensity: expected a number in [0, 1]"),
        ('{"type": "look", "products": ["a"], "intensity": -0.1}', "got -0.1"),
        ('{"type": "look", "products": [{"intensity": 1}]}', "look.products[0]"),
        ('{"type": "split", "position": 1.5}', "split.position"),
        ('{"type": "look", "products": [], "id": [1]}', "id: expected a number or a string"),
        ('{"products": []}', "type: expected one of look, split, pause, ping, trace, got None"),
        ('"look"', "expected a JSON object, got str"),
        ("{", "invalid JSON"),
    ],
)
def test_bad_control_messages_say_what_was_expected(raw: str, expected: str) -> None:
    with pytest.raises(InputError) as info:
        parse_message(raw)
    assert expected in str(info.value)


def test_a_bad_message_keeps_its_id_for_the_reply() -> None:
    with pytest.raises(InputError) as info:
        parse_message('{"type": "pause", "paused": 1, "id": 42}')
    assert getattr(info.value, "id", None) == 42


def test_message_size_and_look_length_are_capped() -> None:
    with pytest.raises(InputError, match="too large"):
        parse_message(json.dumps({"type": "ping", "pad": "é" * 3000}), max_bytes=4096)
    with pytest.raises(InputError, match="at most 2 products"):
        parse_message(json.dumps({"type": "look", "products": ["a", "b", "c"]}), max_look=2)
    with pytest.raises(InputError, match="binary"):
        parse_message(b"\x00")


def test_no_ice_servers_unless_configured() -> None:
    # aiortc uses a public STUN server when iceServers is None; an empty list means none.
    assert ServerConfig().rtc_configuration().iceServers == []
    servers = ice_servers(["stun:127.0.0.1:3478", "turn:alice:s3cret@127.0.0.1:3478"])
    rtc = ServerConfig(ice_servers=servers).rtc_configuration().iceServers
    assert [s.urls for s in rtc] == [["stun:127.0.0.1:3478"], ["turn:127.0.0.1:3478"]]
    assert (rtc[1].username, rtc[1].credential) == ("alice", "s3cret")
    assert ServerConfig(ice_servers=servers).page_config()["ice_servers"][1] == {
        "urls": ["turn:127.0.0.1:3478"],
        "username": "alice",
        "credential": "s3cret",
    }
    for bad, message in [("turn:127.0.0.1:3478", "needs a username"), ("http://x", "expected a stun:")]:
        with pytest.raises(InputError, match=message):
            IceServer.parse(bad)


def test_settings_are_validated() -> None:
    assert parse_size("1280x720") == (1280, 720)
    with pytest.raises(InputError, match="WIDTHxHEIGHT"):
        parse_size("1280*720")
    with pytest.raises(InputError, match="even sides"):
        ServerConfig(output_size=(641, 480))
    with pytest.raises(InputError, match="max_sessions"):
        ServerConfig(max_sessions=0)
    assert ServerConfig().host == "127.0.0.1"


def test_fit_to_size_keeps_the_aspect_and_centres() -> None:
    wide = np.full((360, 640, 3), 200, np.uint8)  # 16:9 into 4:3: bars above and below
    out = fit_to_size(wide, (640, 480))
    assert out.shape == (480, 640, 3)
    assert (out[:60] == 0).all()
    assert (out[-60:] == 0).all()
    assert (out[60:420] == 200).all()
    small = np.full((240, 320, 3), 50, np.uint8)
    assert fit_to_size(small, (640, 480)).shape == (480, 640, 3)
    assert (fit_to_size(small, (640, 480)) == 50).all()
    same = np.zeros((480, 640, 3), np.uint8)
    assert fit_to_size(same, (640, 480)) is same


def test_frame_counter_survives_noise_and_detects_damage() -> None:
    rng = np.random.default_rng(0)
    for value in (0, 1, 255, 4097, 65535, 70000):
        frame = rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)
        draw_counter(frame, value)
        noisy = np.clip(frame.astype(np.int16) + rng.integers(-40, 41, frame.shape), 0, 255).astype(np.uint8)
        assert read_counter(noisy) == value % 65536
    frame = np.zeros((480, 640, 3), np.uint8)
    draw_counter(frame, 1234)
    x1, y1 = counter_box()[2:]
    frame[8:24, 8:24] = 255 - frame[8:24, 8:24]  # one bit flipped: the check catches it
    assert read_counter(frame) is None
    assert (x1, y1) == (96, 80)


@pytest.mark.asyncio
async def test_a_flood_of_control_messages_is_refused_not_buffered() -> None:
    from tryon.catalog import Catalog
    from tryon.pipeline import PipelineConfig, TryOnPipeline
    from webrtc.metrics import Metrics
    from webrtc.session import INBOX, Session

    class Channel:
        """The part of aiortc's RTCDataChannel a session sends on."""

        def __init__(self) -> None:
            self.readyState = "open"
            self.bufferedAmount = 0
            self.sent: list[str] = []

        def send(self, text: str) -> None:
            self.sent.append(text)

    catalog = Catalog.load()
    pipeline = TryOnPipeline(catalog=catalog, config=PipelineConfig(static_image_mode=True))
    session = Session("s" * 22, ServerConfig(), pipeline, catalog.get, Metrics(), lambda s: None)
    channel = Channel()
    session.channel = channel  # type: ignore[assignment]
    for i in range(INBOX + 3):  # nothing applies them yet: the queue fills
        session.handle_message(json.dumps({"type": "ping", "id": i}))
    replies = [json.loads(t) for t in channel.sent]
    assert [r["id"] for r in replies] == [INBOX, INBOX + 1, INBOX + 2]
    assert all(r["type"] == "error" and "too many control messages" in r["message"] for r in replies)
    await session.close("test over")


def test_stats_name_the_provider_and_threads_the_models_run_with() -> None:
    """The stats message's ``provider`` and ``threads`` (the developers' HUD shows them): from the
    pipeline's runtime settings; ``None`` for a pipeline without models."""
    from types import SimpleNamespace

    from tryon.runtime.session import RuntimeConfig
    from webrtc.probe import PassThroughPipeline
    from webrtc.session import runtime_of

    pipeline = SimpleNamespace(
        perception=SimpleNamespace(
            config=SimpleNamespace(runtime=RuntimeConfig(providers=("CPUExecutionProvider",), threads=3))
        )
    )
    assert runtime_of(pipeline) == {"provider": "CPUExecutionProvider", "threads": 3}
    assert runtime_of(PassThroughPipeline(())) == {"provider": None, "threads": None}
