"""TURN REST credentials (webrtc.turn): the HMAC scheme, bounds, secret hygiene, loading, and a real
coturn on loopback (tests/services.py) that accepts them and refuses wrong or expired ones."""

from __future__ import annotations

import asyncio
import base64
import copy
import hashlib
import hmac
import logging
import pickle
import time
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest
from aioice import stun
from aioice.turn import create_turn_endpoint
from services import Coturn, coturn

from tryon.errors import InputError
from webrtc.turn import (
    MAX_TTL_S,
    MIN_TTL_S,
    TURN_SECRET_ENV,
    TurnSecret,
    TurnServer,
    load_turn_secret,
    new_session_tag,
    turn_credentials,
)

SECRET = b"tryon-rest-vector-secret-0123"
NOW = 1_700_000_000.0


def test_vector_matches_an_independent_hmac() -> None:
    username, credential, expires_at = turn_credentials(SECRET, 3600, "Vector_tag-01", now=NOW)
    assert username == "1700003600:Vector_tag-01"
    assert expires_at == 1_700_003_600
    independent = base64.b64encode(hmac.new(SECRET, username.encode(), hashlib.sha1).digest()).decode()
    assert credential == independent
    # Also computed with `openssl dgst -sha1 -hmac ... -binary | base64`.
    assert credential == "Cij4nnwehEA2Mb88p3D1BEqXSME="
    assert turn_credentials(TurnSecret(SECRET), 3600, "Vector_tag-01", now=NOW)[1] == credential


def test_expiry_arithmetic() -> None:
    assert turn_credentials(SECRET, 60, "t", now=1000.99)[2] == 1060
    assert turn_credentials(SECRET, MAX_TTL_S, "t", now=0)[0] == f"{MAX_TTL_S}:t"
    before = int(time.time())
    _, _, expires_at = turn_credentials(SECRET, 600, "t")
    assert before + 600 <= expires_at <= int(time.time()) + 600


@pytest.mark.parametrize("ttl", [0, MIN_TTL_S - 1, MAX_TTL_S + 1, -60, True, 3600.0, "3600"])
def test_ttl_bounds(ttl: object) -> None:
    with pytest.raises(InputError, match="lifetime"):
        turn_credentials(SECRET, ttl, "t", now=NOW)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "tag", ["", "a:b", "10.0.0.1", "2001:db8::1", "alice smith", "x" * 65, "héllo", "a\nb", None]
)
def test_tag_refused(tag: object) -> None:
    with pytest.raises(InputError, match="TURN tag") as info:
        turn_credentials(SECRET, 600, tag, now=NOW)  # type: ignore[arg-type]
    if tag:
        assert str(tag) not in str(info.value)


def test_new_session_tags_are_random_and_valid() -> None:
    tags = {new_session_tag() for _ in range(100)}
    assert len(tags) == 100
    for tag in tags:
        assert turn_credentials(SECRET, 600, tag, now=NOW)[0] == f"1700000600:{tag}"


@pytest.mark.parametrize("now", [float("nan"), float("inf"), -1.0, "now"])
def test_bad_time_refused(now: object) -> None:
    with pytest.raises(InputError, match="time"):
        turn_credentials(SECRET, 600, "t", now=now)  # type: ignore[arg-type]


@pytest.mark.parametrize("secret", [b"", b"short", b"x" * 15, "a str secret long enough"])
def test_short_or_wrong_secret_refused_without_showing_it(secret: object) -> None:
    with pytest.raises(InputError) as info:
        turn_credentials(secret, 600, "t", now=NOW)  # type: ignore[arg-type]
    if secret:
        assert str(secret).strip("b'") not in str(info.value)


def test_secret_never_shown() -> None:
    text = SECRET.decode()
    secret = TurnSecret(SECRET, "$TRYON_TURN_SECRET")
    server = TurnServer(("turn:127.0.0.1:3478",), secret, 600)
    for shown in (repr(secret), str(secret), repr(server), str(server), f"{server}", repr([server])):
        assert text not in shown
        assert "hidden" in shown or "TurnServer" in shown
    assert secret.reveal() == SECRET
    assert copy.deepcopy(server).secret is secret
    with pytest.raises(TypeError):
        pickle.dumps(secret)


def test_turn_server_json_and_validation() -> None:
    server = TurnServer(("turn:127.0.0.1:3478", "turns:turn.example:5349"), TurnSecret(SECRET), 600)
    out = server.ice_server_json("tag1", now=NOW)
    assert out == {
        "urls": ["turn:127.0.0.1:3478", "turns:turn.example:5349"],
        "username": "1700000600:tag1",
        "credential": turn_credentials(SECRET, 600, "tag1", now=NOW)[1],
        "credentialType": "password",
    }
    rtc = server.rtc_ice_server("tag1", now=NOW)
    assert (rtc.username, rtc.credential) == (out["username"], out["credential"])
    for urls in [(), ("stun:127.0.0.1:3478",), ("http://x",), "turn:127.0.0.1:3478"]:
        with pytest.raises(InputError, match="TURN server"):
            TurnServer(urls, TurnSecret(SECRET))  # type: ignore[arg-type]
    with pytest.raises(InputError, match="TurnSecret"):
        TurnServer(("turn:127.0.0.1:3478",), SECRET)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="lifetime"):
        TurnServer(("turn:127.0.0.1:3478",), TurnSecret(SECRET), 30)


# -- loading ----------------------------------------------------------------------------------------


def test_load_from_env() -> None:
    loaded = load_turn_secret(env={TURN_SECRET_ENV: f"  {SECRET.decode()}\n"})
    assert loaded is not None
    assert loaded.reveal() == SECRET
    assert load_turn_secret(env={}) is None


@pytest.mark.parametrize("value", ["", "   \n", "too-short-value"])
def test_env_refusals_name_the_source_not_the_secret(value: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG), pytest.raises(InputError, match=r"\$TRYON_TURN_SECRET") as info:
        load_turn_secret(env={TURN_SECRET_ENV: value})
    if value.strip():
        assert value not in str(info.value)
        assert value not in caplog.text


def test_load_from_file(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "turn.secret"
    path.write_bytes(SECRET + b"\n")
    path.chmod(0o600)
    with caplog.at_level(logging.WARNING, logger="webrtc.turn"):
        loaded = load_turn_secret(env={}, file=path)
    assert loaded is not None
    assert loaded.reveal() == SECRET
    assert str(path) in loaded.source
    assert caplog.records == []


def test_file_readable_by_others_warns(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "turn.secret"
    path.write_bytes(SECRET)
    path.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="webrtc.turn"):
        loaded = load_turn_secret(env={}, file=str(path))
    assert loaded is not None
    assert [r.levelname for r in caplog.records] == ["WARNING"]
    assert "readable by other users" in caplog.text
    assert str(path) in caplog.text
    assert SECRET.decode() not in caplog.text


def test_file_refusals(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    short = tmp_path / "short"
    short.write_bytes(b"tiny-secret\n")
    empty = tmp_path / "empty"
    empty.write_bytes(b"\n")
    huge = tmp_path / "huge"
    huge.write_bytes(b"x" * 5000)
    cases = {
        short: "at least 16 bytes",
        empty: "empty",
        huge: "at most",
        tmp_path / "missing": "cannot read",
        tmp_path: "not a regular file",
    }
    for path, expected in cases.items():
        with caplog.at_level(logging.DEBUG), pytest.raises(InputError, match=expected) as info:
            load_turn_secret(env={}, file=path)
        assert str(path) in str(info.value)
        assert "tiny-secret" not in str(info.value)
    assert "tiny-secret" not in caplog.text


def test_env_and_file_together_refused(tmp_path: Path) -> None:
    path = tmp_path / "turn.secret"
    path.write_bytes(SECRET)
    with pytest.raises(InputError, match="both") as info:
        load_turn_secret(env={TURN_SECRET_ENV: "another-secret-value-0123"}, file=path)
    assert "another-secret-value-0123" not in str(info.value)


# -- a real coturn on loopback --------------------------------------------------------------------


@pytest.fixture(scope="module")
def turn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Coturn]:
    with coturn(tmp_path_factory.mktemp("coturn")) as server:
        yield server


class Collect(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.received: asyncio.Queue[tuple[bytes, tuple[str, int]]] = asyncio.Queue()
        self.lost = asyncio.Event()

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.received.put_nowait((data, addr))

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost.set()


class Echo(asyncio.DatagramProtocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.transport.sendto(b"echo:" + data, addr)


async def allocate(
    server: Coturn, username: str, credential: str
) -> tuple[asyncio.DatagramTransport, Collect]:
    transport, protocol = await asyncio.wait_for(
        create_turn_endpoint(Collect, server.address, username, credential), timeout=15
    )
    return transport, protocol


@pytest.mark.asyncio
async def test_coturn_accepts_rest_credentials_and_relays_on_loopback(turn: Coturn) -> None:
    username, credential, _ = turn_credentials(turn.secret.encode(), 600, new_session_tag())
    transport, protocol = await allocate(turn, username, credential)
    loop = asyncio.get_running_loop()
    echo, _ = await loop.create_datagram_endpoint(Echo, local_addr=("127.0.0.1", 0))
    try:
        host, port = transport.get_extra_info("sockname")
        assert host == "127.0.0.1"
        assert turn.relay_ports[0] <= port <= turn.relay_ports[1]
        # Through the relay to a loopback peer and back (coturn: allow-loopback-peers).
        peer = echo.get_extra_info("sockname")
        transport.sendto(b"hello", peer)
        data, addr = await asyncio.wait_for(protocol.received.get(), timeout=10)
        assert (data, addr) == (b"echo:hello", peer)
    finally:
        echo.close()
        transport.close()
        await asyncio.wait_for(protocol.lost.wait(), timeout=10)


@pytest.mark.asyncio
async def test_coturn_refuses_a_wrong_secret(turn: Coturn) -> None:
    username, credential, _ = turn_credentials(b"not-the-shared-secret-at-all", 600, new_session_tag())
    with pytest.raises(stun.TransactionFailed) as info:
        await allocate(turn, username, credential)
    assert info.value.response.error_code == 401


@pytest.mark.asyncio
async def test_coturn_refuses_an_expired_username(turn: Coturn) -> None:
    # Issued two hours ago for one hour: expired an hour ago, though the HMAC is right.
    username, credential, expires_at = turn_credentials(
        turn.secret.encode(), 3600, new_session_tag(), now=time.time() - 7200
    )
    assert expires_at < time.time()
    with pytest.raises(stun.TransactionFailed) as info:
        await allocate(turn, username, credential)
    assert info.value.response.error_code == 401
