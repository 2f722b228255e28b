"""WHIP in and WHEP out (RFC 9725, the WHEP draft): the HTTP side's status codes and headers, every
refusal, and an aiortc WHIP client (a face clip and a tone) whose try-on comes back through an
aiortc WHEP player with the lipstick on and the host's sound passed through."""

from __future__ import annotations

import asyncio
import time

import pytest
import pytest_asyncio
from aiortc import RTCConfiguration, RTCPeerConnection
from live_helpers import LIPSTICK, Live, live_fixture
from show_helpers import HOST_KEY, ShowClient, bearer
from test_show_live import lip_shift

from webrtc.app import SERVER_KEY
from webrtc.config import IceServer
from webrtc.ice import IcePolicy, use_policy
from webrtc.probe import ProbeViewer, SyntheticCamera, ToneTrack
from webrtc.whip_client import WhipError, negotiate

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]

live = pytest_asyncio.fixture(
    live_fixture(host_key=HOST_KEY, relay_viewers=2, ice_servers=(IceServer(("stun:127.0.0.1:3478",)),))
)
LOOPBACK = IcePolicy("loopback")


def publisher(live: Live, audio: bool = True) -> tuple[RTCPeerConnection, SyntheticCamera]:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    camera = SyntheticCamera(live.frame, fps=20)
    pc.addTransceiver(camera, direction="sendonly")
    if audio:
        pc.addTransceiver(ToneTrack(), direction="sendonly")
    return pc, camera


async def offer_sdp(live: Live) -> str:
    pc, _ = publisher(live)
    await pc.setLocalDescription(await pc.createOffer())
    sdp: str = pc.localDescription.sdp
    await pc.close()
    return sdp


async def test_whip_answers_by_the_rfc_and_refuses_what_it_must(live: Live) -> None:
    api = ShowClient(live.http, live.url)
    show = await api.create()
    sdp = await offer_sdp(live)
    url = f"{live.url}whip"

    async def post(data: bytes | str, headers: dict[str, str]) -> tuple[int, str, object]:
        async with live.http.post(url, data=data, headers=headers) as r:
            return r.status, await r.text(), r.headers

    sdp_type = {"Content-Type": "application/sdp"}
    status, _, _ = await post(sdp, sdp_type)
    assert status == 401
    for wrong in ("nope", show["key"] + "x", HOST_KEY[:-1]):
        status, _, _ = await post(sdp, {**sdp_type, **bearer(wrong)})
        assert status == 401, wrong
    status, _, _ = await post(sdp, {"Content-Type": "application/json", **bearer(show["key"])})
    assert status == 415
    status, _, _ = await post("v=0\r\nnot sdp", {**sdp_type, **bearer(show["key"])})
    assert status == 400
    status, _, _ = await post(b"\xff\xfe", {**sdp_type, **bearer(show["key"])})
    assert status == 400
    status, _, _ = await post(b"v=0" + b"a" * 70_000, {**sdp_type, **bearer(show["key"])})
    assert status == 413
    async with live.http.post(
        f"{url}?products=no-such-product", data=sdp, headers={**sdp_type, **bearer(show["key"])}
    ) as r:
        assert r.status == 400
    assert await live.sessions() == 0
    # A real publisher: 201, the answer, Location, Link for the configured ICE server, ETag.
    pc, _ = publisher(live)
    async with live.http.post(
        f"{url}?products={LIPSTICK}", data=await _gathered(pc), headers={**sdp_type, **bearer(show["key"])}
    ) as r:
        assert r.status == 201, await r.text()
        assert r.headers["Content-Type"].startswith("application/sdp")
        location = r.headers["Location"]
        assert location.startswith("/whip/")
        assert r.headers.getall("Link") == ['<stun:127.0.0.1:3478>; rel="ice-server"']
        assert "ETag" in r.headers
        answer = await r.text()
    assert answer.startswith("v=0")
    assert "X-TryOn-Show" not in r.headers  # the show's key names its show
    async with live.http.patch(f"{live.url}{location[1:]}", data="a=candidate", headers=sdp_type) as r:
        assert r.status == 405
    async with live.http.delete(f"{live.url}{location[1:]}") as r:
        assert r.status == 401
    async with live.http.delete(f"{live.url}{location[1:]}", headers=bearer(HOST_KEY)) as r:
        assert r.status == 401  # not the key that opened it
    async with live.http.delete(f"{live.url}{location[1:]}", headers=bearer(show["key"])) as r:
        assert r.status == 200
    await live.wait_sessions(0)
    async with live.http.delete(f"{live.url}{location[1:]}", headers=bearer(show["key"])) as r:
        assert r.status == 404
    await pc.close()


async def _gathered(pc: RTCPeerConnection) -> str:
    with use_policy(LOOPBACK):
        await pc.setLocalDescription(await pc.createOffer())
    sdp: str = pc.localDescription.sdp
    return sdp


async def test_a_whip_publisher_comes_back_through_whep_with_the_look_and_its_sound(live: Live) -> None:
    api = ShowClient(live.http, live.url)
    # The server host key: no show yet, so one is made (its id comes back in X-TryOn-Show).
    pc, camera = publisher(live)
    resource = await negotiate(
        live.http, f"{live.url}whip?products={LIPSTICK}", pc, HOST_KEY, policy=LOOPBACK
    )
    assert "/whip/" in resource.url
    shows = live.server.app
    (show_id,) = list(shows[SERVER_KEY].shows.shows)
    state = None
    deadline = time.monotonic() + 10
    while not (state and state["live"]):
        assert time.monotonic() < deadline, "the WHIP publisher never made the show live"
        _, state, _ = await api.call("GET", f"/api/shows/{show_id}")
        await asyncio.sleep(0.1)
    # A WHEP player: recvonly video and audio.
    player = ProbeViewer(live.url, "", sent=camera.sent, keep=lambda n: n % 10 == 0)
    player.pc.addTransceiver("video", direction="recvonly")
    player.pc.addTransceiver("audio", direction="recvonly")
    watch = await negotiate(live.http, f"{live.url}whep/{show_id}", player.pc, policy=LOOPBACK)
    assert f"/whep/{show_id}/" in watch.url
    deadline = time.monotonic() + 30
    while len(player.images) < 3 or player.audio_peak < 1000:
        assert time.monotonic() < deadline, (len(player.images), player.audio_frames, player.audio_peak)
        await asyncio.sleep(0.1)
    change = lip_shift(player, live)
    assert change[1] < -20, f"lipstick not visible through WHEP: {change}"
    # The tone the publisher sent is what the player hears (Opus is lossy: its level, not its bits).
    assert player.audio_peak > 4000
    # WHEP: the relay's cap (2 here), unknown shows, the wrong content type, DELETE.
    second = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    second.addTransceiver("video", direction="recvonly")
    extra = await negotiate(live.http, f"{live.url}whep/{show_id}", second, policy=LOOPBACK)
    third = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    third.addTransceiver("video", direction="recvonly")
    with pytest.raises(WhipError, match="503"):
        await negotiate(live.http, f"{live.url}whep/{show_id}", third, policy=LOOPBACK)
    with pytest.raises(WhipError, match="404"):
        await negotiate(live.http, f"{live.url}whep/no-such-show", third, policy=LOOPBACK)
    async with live.http.post(
        f"{live.url}whep/{show_id}", data="{}", headers={"Content-Type": "application/json"}
    ) as r:
        assert r.status == 415
    assert await extra.delete(live.http) == 200
    assert await extra.delete(live.http) == 404
    # A second WHIP client with the server key feeds the newest show (the same one), replacing the first.
    pc2, _ = publisher(live, audio=False)
    await negotiate(live.http, f"{live.url}whip", pc2, HOST_KEY, policy=LOOPBACK)
    assert list(shows[SERVER_KEY].shows.shows) == [show_id]
    await live.wait_sessions(1)
    for peer in (pc, pc2, second, third):
        await peer.close()
    await player.close()
    assert await resource.delete(live.http) in (200, 404)


async def test_the_server_key_makes_a_show_and_hands_its_key_to_the_publisher(live: Live) -> None:
    pc, _ = publisher(live, audio=False)
    headers = {"Content-Type": "application/sdp", **bearer(HOST_KEY)}
    async with live.http.post(f"{live.url}whip", data=await _gathered(pc), headers=headers) as r:
        assert r.status == 201, await r.text()
        show, key = r.headers["X-TryOn-Show"], r.headers["X-TryOn-Show-Key"]
    api = ShowClient(live.http, live.url)
    status, state, _ = await api.call(
        "PUT", f"/api/shows/{show}/showing", {"product": "velvet-matte-lipstick"}, bearer(key)
    )
    assert status == 200
    assert state["showing"]["product"] == "velvet-matte-lipstick"
    # A second publisher with the server key feeds that show: no new show, no key handed out.
    pc2, _ = publisher(live, audio=False)
    async with live.http.post(f"{live.url}whip", data=await _gathered(pc2), headers=headers) as r:
        assert r.status == 201
        assert r.headers["X-TryOn-Show"] == show
        assert "X-TryOn-Show-Key" not in r.headers
    for peer in (pc, pc2):
        await peer.close()
