"""Who may reach the server, and with what: binding beyond loopback needs TLS or an explicit
``--insecure-expose``; offers and photos from other machines need the token; secrets never come
from the command line; TURN credentials are short-lived and made per page; the ICE policy keeps
an offer's candidates to loopback and at most 16, and the answer reveals no other interface."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import pytest_asyncio
from aiohttp.test_utils import make_mocked_request
from live_helpers import LIPSTICK, Live, live_fixture
from test_cli import run_cli

from tryon.errors import InputError
from webrtc.config import ServerConfig
from webrtc.guard import BodyError, check_offer_token
from webrtc.turn import TurnSecret, TurnServer

SECRET = b"0123456789abcdef0123456789abcdef"


def test_binding_beyond_loopback_needs_tls_or_an_explicit_flag() -> None:
    for host in ("0.0.0.0", "::", "192.0.2.10"):
        with pytest.raises(InputError, match="--insecure-expose"):
            ServerConfig(host=host)
    assert not ServerConfig(host="0.0.0.0", insecure_expose=True).loopback
    assert ServerConfig(host="0.0.0.0", tls_cert="c.pem", tls_key="k.pem").tls_cert == "c.pem"
    with pytest.raises(InputError, match="only one"):
        ServerConfig(tls_cert="c.pem")
    for host in ("127.0.0.1", "localhost", "::1", "127.8.9.10"):
        assert ServerConfig(host=host).loopback
    proc = run_cli("serve", "--host", "0.0.0.0")
    assert proc.returncode == 2
    assert "--insecure-expose" in proc.stderr


def test_secrets_never_come_from_the_command_line(tmp_path: Path) -> None:
    proc = run_cli("serve", "--ice-server", "turn:alice:hunter2@127.0.0.1:3478")
    assert proc.returncode == 2
    assert "visible to every user" in proc.stderr
    assert "hunter2" not in proc.stderr
    proc = run_cli("serve", "--turn-url", "turn:127.0.0.1:3478", env={"TRYON_TURN_SECRET": ""})
    assert proc.returncode == 2
    assert "TRYON_TURN_SECRET" in proc.stderr
    assert "offer_token=" not in repr(ServerConfig(offer_token="x" * 20))
    with pytest.raises(InputError, match="at least 16"):
        ServerConfig(offer_token="short")


def request(remote: str, auth: str | None = None) -> Any:
    transport = mock.Mock()
    transport.get_extra_info.side_effect = lambda name, default=None: (
        (remote, 40000) if name == "peername" else default
    )
    headers = {"Authorization": auth} if auth else {}
    return make_mocked_request("POST", "/offer", headers=headers, transport=transport)


def test_offers_from_other_machines_need_the_token() -> None:
    token = "t" * 24
    config = ServerConfig(offer_token=token)
    check_offer_token(request("127.0.0.1"), config)  # loopback: no token needed
    check_offer_token(request("::1"), config)
    check_offer_token(request("198.51.100.7", f"Bearer {token}"), config)
    for auth in (None, "Bearer wrong-token-wrong-token", f"Basic {token}", f"Bearer {token}x"):
        with pytest.raises(BodyError) as info:
            check_offer_token(request("198.51.100.7", auth), config)
        assert info.value.status == 401
        assert token not in info.value.message
    with pytest.raises(BodyError) as info:
        check_offer_token(request("198.51.100.7"), ServerConfig())
    assert info.value.status == 403
    check_offer_token(request("198.51.100.7"), ServerConfig(open_offers=True))


turn = TurnServer(("turn:127.0.0.1:3478",), TurnSecret(SECRET, "test"), ttl_s=600)
live = pytest_asyncio.fixture(live_fixture(turn=turn))


@pytest.mark.asyncio
@pytest.mark.slow
async def test_turn_credentials_are_short_lived_and_per_page(live: Live) -> None:
    seen = []
    for _ in range(2):
        async with live.http.get(live.server.make_url("/api/config")) as r:
            assert r.headers["Cache-Control"] == "no-store"
            (server,) = (await r.json())["ice_servers"]
        assert server["urls"] == ["turn:127.0.0.1:3478"]
        expiry, _, tag = server["username"].partition(":")
        assert 590 <= int(expiry) - time.time() <= 601
        assert len(tag) >= 16
        mac = hmac.new(SECRET, server["username"].encode(), hashlib.sha1).digest()
        assert server["credential"] == base64.b64encode(mac).decode()
        seen.append(server["username"])
    assert seen[0] != seen[1], "two pages got the same TURN username"
    _, metrics = await live.get("/metrics")
    assert SECRET.decode() not in metrics.decode()


live_plain = pytest_asyncio.fixture(live_fixture())


def with_candidates(sdp: str, extra: list[str]) -> str:
    lines = sdp.split("\r\n")
    at = next(i for i, line in enumerate(lines) if line.startswith("a=candidate")) + 1
    return "\r\n".join(lines[:at] + extra + lines[at:])


@pytest.mark.asyncio
@pytest.mark.slow
async def test_the_ice_policy_caps_and_filters_candidates_and_the_answer(live_plain: Live) -> None:
    live = live_plain
    # 200 candidates pointing at ports of the client's choosing, on this machine and elsewhere.
    extra = [f"a=candidate:{i} 1 udp 100 127.0.0.1 {20000 + i} typ host" for i in range(100)]
    extra += [f"a=candidate:x{i} 1 udp 100 10.1.2.{i % 250} 9 typ host" for i in range(100)]

    def munge(sdp: str) -> str:
        return with_candidates(sdp, extra)

    c = await live.client([LIPSTICK], munge=munge)
    await c.wait_frames(10)  # the real candidate is among the first kept
    answer = c.pc.remoteDescription.sdp
    addresses = {line.split()[4] for line in answer.split("\r\n") if line.startswith("a=candidate")}
    assert "127.0.0.1" in addresses
    assert addresses <= {"127.0.0.1", "::1"}, addresses
    _, metrics = await live.get("/metrics")
    dropped = next(
        float(line.split()[1])
        for line in metrics.decode().splitlines()
        if line.startswith("tryon_ice_candidates_dropped_total")
    )
    assert dropped >= 200 - 16 + 1, dropped


def test_same_origin_is_the_same_name_and_port() -> None:
    from webrtc.guard import same_origin

    assert same_origin("http://127.0.0.1:8080", "127.0.0.1:8080")
    assert same_origin("HTTP://LOCALHOST:8080", "localhost:8080")
    assert same_origin("https://shop.example", "shop.example")  # TLS ended by a proxy
    assert same_origin("https://shop.example:443", "shop.example")
    assert same_origin("http://[::1]:8080", "[::1]:8080")
    assert not same_origin("http://127.0.0.1:3000", "127.0.0.1:8080")  # another app
    assert not same_origin("http://localhost:8080", "127.0.0.1:8080")
    assert not same_origin("https://shop.example.evil", "shop.example")
    assert not same_origin("null", "127.0.0.1:8080")
    assert not same_origin("file://x", "127.0.0.1:8080")
    assert not same_origin("http://127.0.0.1:8080/path", "127.0.0.1:8080")
