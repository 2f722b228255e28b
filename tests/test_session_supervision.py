"""A session's tasks and control channel under hostile peers: fuzzed control messages (any JSON
structure, depth, size, type) are answered and never kill the control loop; a task that fails
unexpectedly is logged, counted and ends its session cleanly; a peer cannot switch the watchdog
off by advertising a tiny max-message-size."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
import pytest_asyncio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from live_helpers import LIPSTICK, Live, live_fixture, shared_catalog

from tryon.pipeline import LookItem, resolve_item
from webrtc.app import SERVER_KEY
from webrtc.config import ServerConfig
from webrtc.control import ControlError, parse_message
from webrtc.metrics import Metrics
from webrtc.probe import PassThroughPipeline
from webrtc.session import Session

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=10), inner, max_size=6),
    max_leaves=40,
)
TYPES = st.sampled_from(["look", "split", "pause", "ping", "dance", None, 3])
PRODUCT_SPECS = st.sampled_from([LIPSTICK, "velvet-matte-lipstick", "nope", "a:b:c", "", "x" * 300])


@st.composite
def messages(draw: st.DrawFn) -> str | bytes:
    """Control messages from well-formed to hostile: shaped like the real ones with fields of any
    type, any JSON at all, deep nesting, sizes around the limit, non-JSON text and binary."""
    choice = draw(st.integers(0, 6))
    if choice == 0:
        msg: dict[str, Any] = {"type": draw(TYPES)}
        for key in draw(
            st.lists(st.sampled_from(["id", "products", "intensity", "position", "before", "paused"]))
        ):
            msg[key] = draw(json_values)
        return json.dumps(msg)
    if choice == 1:
        entry = st.fixed_dictionaries({"product": PRODUCT_SPECS, "intensity": json_values})
        products = draw(st.lists(PRODUCT_SPECS | entry, max_size=14))
        look = {"type": "look", "id": draw(json_values), "products": products}
        return json.dumps({**look, "intensity": draw(json_values)})
    if choice == 2:
        return json.dumps(draw(json_values))
    if choice == 3:
        depth = draw(st.integers(1, 2100))
        opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}")]))
        return opener * depth + "1" + closer * depth
    if choice == 4:
        return json.dumps({"type": "ping", "pad": "x" * draw(st.integers(4000, 4200))})
    if choice == 5:
        return draw(st.text(max_size=200))
    return draw(st.binary(max_size=200))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages())
def test_parse_message_returns_a_request_or_says_why(raw: str | bytes) -> None:
    try:
        request = parse_message(raw)
    except ControlError as exc:
        message = str(exc)
    else:
        message = type(request).__name__
    assert message, "a refusal says why"


@pytest.fixture(scope="module")
def fuzz_session() -> Iterator[tuple[asyncio.AbstractEventLoop, Session, list[str]]]:
    loop = asyncio.new_event_loop()
    catalog = shared_catalog()

    async def make() -> Session:
        return Session(
            "fuzz-session-id",
            ServerConfig(),
            PassThroughPipeline(),
            lambda spec: resolve_item(catalog, spec),
            Metrics(),
            lambda _: None,
        )

    session = loop.run_until_complete(make())
    sent: list[str] = []
    session._send = lambda text, channel=None: sent.append(text)  # type: ignore[method-assign]
    yield loop, session, sent
    loop.run_until_complete(session.close("test over"))
    loop.close()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(messages())
def test_every_fuzzed_message_gets_one_reply_and_the_session_goes_on(
    fuzz_session: tuple[asyncio.AbstractEventLoop, Session, list[str]], raw: str | bytes
) -> None:
    loop, session, sent = fuzz_session
    before = len(sent)
    loop.run_until_complete(asyncio.wait_for(session.handle(raw), 10))
    assert len(sent) == before + 1
    reply = json.loads(sent[-1])
    assert reply["type"] in ("ack", "pong", "error")
    if reply["type"] == "error":
        assert reply["message"]
        assert "internal error" not in reply["message"], raw
    assert all(isinstance(item, LookItem) for item in session.processor.pipeline.look)
    assert not session.closed.is_set()


live = pytest_asyncio.fixture(live_fixture(max_sessions=2, idle_timeout=1.5, connect_timeout=5.0))


@pytest.mark.asyncio
@pytest.mark.slow
async def test_deeply_nested_messages_over_the_channel_leave_the_control_loop_alive(live: Live) -> None:
    c = await live.client()
    await c.wait_frames(3)
    for raw in ("[" * 2000 + "]" * 2000, '{"a":' * 1500 + "1" + "}" * 1500):
        before = len(c.messages)
        c.channel.send(raw)
        for _ in range(200):
            if len(c.messages) > before:
                break
            await asyncio.sleep(0.02)
        assert c.messages[-1]["type"] == "error"
        assert "nested too deeply" in c.messages[-1]["message"] or "too large" in c.messages[-1]["message"]
    assert (await c.request({"type": "ping"}))["type"] == "pong"
    assert (await c.request({"type": "look", "products": [LIPSTICK]}))["look"] == [LIPSTICK]


@pytest.mark.asyncio
@pytest.mark.slow
async def test_a_failing_task_ends_its_session_cleanly_and_is_counted(live: Live, caplog: Any) -> None:
    c = await live.client([LIPSTICK])
    await c.wait_frames(3)
    assert c.session is not None
    session = live.server.app[SERVER_KEY].sessions[c.session]

    async def broken() -> None:
        raise KeyError("a bug")

    session._spawn(broken(), "broken")
    await live.wait_sessions(0, timeout=5)
    assert session.close_reason == "internal error in the broken task"
    failures = [r for r in caplog.records if "broken task failed" in r.getMessage()]
    assert len(failures) == 1
    assert c.session[:6] in failures[0].getMessage()
    _, metrics = await live.get("/metrics")
    assert 'tryon_session_task_failures_total{task="broken"} 1.0' in metrics.decode()
    await live.works()


@pytest.mark.asyncio
@pytest.mark.slow
async def test_a_tiny_max_message_size_cannot_disable_the_watchdog(live: Live) -> None:
    def tiny(sdp: str) -> str:
        assert "a=max-message-size:" in sdp
        return "\r\n".join(
            "a=max-message-size:64" if line.startswith("a=max-message-size:") else line
            for line in sdp.split("\r\n")
        )

    peers = []
    for _ in range(2):  # as many as the server takes
        c = await live.client([LIPSTICK], munge=tiny)
        await c.wait_frames(5)
        peers.append(c)
    await asyncio.sleep(1.5)  # stats are due every second: each one is too large for the peer
    _, metrics = await live.get("/metrics")
    assert 'tryon_control_send_dropped_total{cause="ValueError"}' in metrics.decode()
    assert await live.sessions() == 2
    for c in peers:  # the browsers vanish without a goodbye
        c.camera.stop()
    await live.wait_sessions(0, timeout=8)
    text = (await live.get("/metrics"))[1].decode()
    assert "tryon_session_task_failures_total{" not in text
    await live.works()
