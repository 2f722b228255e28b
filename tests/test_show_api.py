"""The live show's HTTP API (docs/show.md): keys, now showing, push channels, likes, comments, the
embedded relay's viewer cap, and every refusal (the show goes on after each)."""

from __future__ import annotations

import asyncio
import logging

import pytest
import pytest_asyncio
from live_helpers import Live, live_fixture
from show_helpers import HOST_KEY, ShowClient, bearer, viewer_headers

from webrtc import guard
from webrtc.show.push import PushChannel, encode

pytestmark = pytest.mark.asyncio

live = pytest_asyncio.fixture(live_fixture(host_key=HOST_KEY, relay_viewers=2, max_shows=2))


@pytest_asyncio.fixture
async def api(live: Live) -> ShowClient:
    return ShowClient(live.http, live.url)


async def test_creating_a_show_needs_the_server_host_key(
    api: ShowClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    status, body, _ = await api.call("POST", "/api/shows", {"title": "x"})
    assert status == 401
    assert "Bearer" in body["error"]
    status, body, _ = await api.call("POST", "/api/shows", {}, bearer("not-the-key-but-long-enough"))
    assert status == 403
    show = await api.create("  Spring   looks ")
    assert show["title"] == "Spring looks"
    assert show["viewer_url"] == f"/show/{show['id']}"
    assert len(show["key"]) >= 40
    assert show["key"] != HOST_KEY
    status, state, _ = await api.call("GET", f"/api/shows/{show['id']}")
    assert status == 200
    assert state["live"] is False
    assert state["showing"] is None
    assert state["viewers"] == 0
    assert "key" not in state
    # Neither key ever reaches the log.
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert show["key"] not in logged
    assert HOST_KEY not in logged
    status, _, _ = await api.call("GET", "/api/shows/no-such-show")
    assert status == 404
    status, page, _ = await api.call("GET", "/show/no-such-show")
    assert status == 404
    assert "No live show" in page
    status, page, _ = await api.call("GET", f"/show/{show['id']}")
    assert status == 200
    assert "<html" in page.lower()


async def test_host_actions_need_the_show_key_and_change_nothing_without_it(api: ShowClient) -> None:
    a, b = await api.create("a"), await api.create("b")
    path = f"/api/shows/{a['id']}"
    actions = [
        ("PUT", f"{path}/showing", {"product": "velvet-matte-lipstick"}),
        ("PUT", f"{path}/look", {"products": ["velvet-matte-lipstick"]}),
        ("POST", f"{path}/publish", {"type": "offer", "sdp": "v=0"}),
        ("DELETE", path, None),
    ]
    for method, url, body in actions:
        status, err, _ = await api.call(method, url, body)
        assert status == 401, (url, err)
        for wrong in (b["key"], HOST_KEY, a["key"][:-1] + ("A" if a["key"][-1] != "A" else "B")):
            status, err, _ = await api.call(method, url, body, bearer(wrong))
            assert status == 403, (url, wrong, err)
    status, state, _ = await api.call("GET", path)
    assert status == 200
    assert state["showing"] is None
    assert not state["ended"]
    # The right key works.
    status, state, _ = await api.call(
        "PUT", f"{path}/showing", {"product": "velvet-matte-lipstick"}, bearer(a["key"])
    )
    assert status == 200
    assert state["showing"]["product"] == "velvet-matte-lipstick"


async def test_keys_are_compared_in_constant_time(api: ShowClient, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[bytes, bytes]] = []
    real = guard.hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        seen.append((a, b))
        return real(a, b)

    monkeypatch.setattr(guard.hmac, "compare_digest", spy)
    show = await api.create()
    await api.call("PUT", f"/api/shows/{show['id']}/showing", {"product": None}, bearer("x" * 43))
    assert (HOST_KEY.encode(), HOST_KEY.encode()) in seen
    assert (b"x" * 43, show["key"].encode()) in seen


async def test_now_showing_reaches_every_viewer_and_the_host(api: ShowClient) -> None:
    show = await api.create()
    sid, key = show["id"], show["key"]
    viewers = [await api.push(sid) for _ in range(3)]
    host = await api.push(sid, key)
    tokens = {v.hello["viewer"] for v in viewers}
    assert len(tokens) == 3
    assert None not in tokens
    assert host.hello["viewer"] is None
    status, state, _ = await api.call(
        "PUT",
        f"/api/shows/{sid}/showing",
        {"product": "velvet-matte-lipstick", "shade": "ruby-red"},
        bearer(key),
    )
    assert status == 200
    for reader in [*viewers, host]:
        card = await reader.wait("showing")
        assert card["product"] == "velvet-matte-lipstick"
        assert card["shade"] == "ruby-red"
        assert card["name"]
        assert card["brand"]
        assert card["price"] > 0
        assert card["currency"]
        assert card["swatch"].startswith("#")
        assert card["buy_url"].startswith("https://")
    counts = await viewers[0].wait("counts", lambda c: c["viewers"] == 3)
    assert counts["peak"] == 3
    # Unknown product or shade: 400, and the card stays.
    for body in (
        {"product": "no-such-product"},
        {"product": "velvet-matte-lipstick", "shade": "nope"},
        {"product": 3},
    ):
        status, _err, _ = await api.call("PUT", f"/api/shows/{sid}/showing", body, bearer(key))
        assert status == 400, body
    status, state, _ = await api.call("GET", f"/api/shows/{sid}")
    assert state["showing"]["shade"] == "ruby-red"
    # A viewer leaves: the count follows.
    await viewers[0].close()
    await viewers[1].wait("counts", lambda c: c["viewers"] == 2 and c["peak"] == 3)
    for reader in [*viewers[1:], host]:
        await reader.close()


async def test_comments_are_plain_text_limited_and_rate_limited(api: ShowClient) -> None:
    show = await api.create()
    sid = show["id"]
    viewer = await api.push(sid)
    host = await api.push(sid, show["key"])
    token = viewer.hello["viewer"]
    url = f"/api/shows/{sid}/comments"
    status, err, _ = await api.call("POST", url, {"text": "hi"})
    assert status == 401
    status, err, _ = await api.call("POST", url, {"text": "hi"}, viewer_headers("forged-token"))
    assert status == 403
    status, err, _ = await api.call("POST", url, {"text": "x" * 201}, viewer_headers(token))
    assert status == 413
    assert "200" in err["error"]
    for bad in ({"text": "   \n\t "}, {"text": 12}, {}):
        status, err, _ = await api.call("POST", url, bad, viewer_headers(token))
        assert status == 400, bad
    html = '<img src=x onerror="alert(1)">\u0007 does it  come\nin red?'
    status, entry, _ = await api.call("POST", url, {"text": html}, viewer_headers(token))
    assert status == 202
    # Stored and pushed as the text typed (control characters and runs of blanks folded): pages
    # insert it as text, so the markup stays markup-looking text.
    assert entry["text"] == '<img src=x onerror="alert(1)"> does it come in red?'
    assert entry["author"].startswith("viewer-")
    pushed = await host.wait("comment")
    assert pushed == entry
    await viewer.wait("comment")
    # Bursts of 3, then one every 3 s: the fourth within a second is refused with Retry-After.
    codes = []
    for i in range(3):
        status, _, headers = await api.call("POST", url, {"text": f"q{i}"}, viewer_headers(token))
        codes.append(status)
    assert codes[-1] == 429
    assert 202 in codes
    assert int(headers["Retry-After"]) >= 1
    status, state, _ = await api.call("GET", f"/api/shows/{sid}")
    assert next(c["text"] for c in state["comments"]) == entry["text"]
    # Oversized bodies are refused before they are parsed; wrong types too.
    async with api.http.post(
        f"{api.base}{url}",
        data=b"{" + b" " * 9000 + b"}",
        headers={"Content-Type": "application/json", **viewer_headers(token)},
    ) as r:
        assert r.status == 413
    async with api.http.post(
        f"{api.base}{url}", data=b"hi", headers={"Content-Type": "text/plain", **viewer_headers(token)}
    ) as r:
        assert r.status == 415
    await viewer.close()
    await host.close()


async def test_a_flood_of_likes_is_rate_limited_and_counted_once(api: ShowClient) -> None:
    show = await api.create()
    sid = show["id"]
    viewer = await api.push(sid)
    token = viewer.hello["viewer"]
    statuses = []
    for _ in range(30):
        status, _, _ = await api.call("POST", f"/api/shows/{sid}/likes", {}, viewer_headers(token))
        statuses.append(status)
    accepted = statuses.count(202)
    assert 10 <= accepted < 20
    assert statuses.count(429) == 30 - accepted
    counts = await viewer.wait("counts", lambda c: c["likes"] == accepted, timeout=3)
    assert counts["likes"] == accepted
    # Coalesced: far fewer counts events than likes.
    assert sum(1 for e, _ in viewer.events if e == "counts") < 6
    await viewer.close()


async def test_a_viewer_that_does_not_read_is_dropped_not_buffered() -> None:
    channel = PushChannel("token", queue=8)
    for i in range(8):
        assert channel.push(encode("comment", {"i": i}))
    assert not channel.push(encode("comment", {"i": 8}))
    assert channel.overflowed
    assert channel.closed
    assert not channel.push(encode("comment", {"i": 9}))


async def test_the_embedded_relay_caps_its_viewers_and_says_how_to_get_more(api: ShowClient) -> None:
    show = await api.create()
    sid = show["id"]
    readers = [await api.push(sid) for _ in range(3)]
    tokens = [r.hello["viewer"] for r in readers]
    offers = []
    for token in tokens[:2]:
        status, offer, _ = await api.call("POST", f"/api/shows/{sid}/watch", {}, viewer_headers(token))
        assert status == 201
        assert offer["type"] == "offer"
        assert "m=video" in offer["sdp"]
        offers.append(offer)
    status, err, _ = await api.call("POST", f"/api/shows/{sid}/watch", {}, viewer_headers(tokens[2]))
    assert status == 503
    assert "janus" in err["error"].lower()
    assert "2 viewers" in err["error"]
    # A subscription is its viewer's: another viewer cannot answer or end it.
    wid = offers[0]["watch"]
    status, _, _ = await api.call(
        "POST", f"/api/shows/{sid}/watch/{wid}", {"type": "answer", "sdp": "v=0"}, viewer_headers(tokens[2])
    )
    assert status == 404
    status, _, _ = await api.call("POST", f"/api/shows/{sid}/watch", {})
    assert status == 401
    # Ending one frees a place.
    status, _, _ = await api.call("DELETE", f"/api/shows/{sid}/watch/{wid}", None, viewer_headers(tokens[0]))
    assert status == 204
    status, offer, _ = await api.call("POST", f"/api/shows/{sid}/watch", {}, viewer_headers(tokens[2]))
    assert status == 201
    for r in readers:
        await r.close()


async def test_ending_a_show_tells_every_page_and_frees_it(api: ShowClient) -> None:
    show = await api.create()
    sid, key = show["id"], show["key"]
    viewers = [await api.push(sid) for _ in range(2)]
    token = viewers[0].hello["viewer"]
    status, _, _ = await api.call("POST", f"/api/shows/{sid}/watch", {}, viewer_headers(token))
    assert status == 201
    status, _, _ = await api.call("DELETE", f"/api/shows/{sid}", None, bearer(key))
    assert status == 204
    for v in viewers:
        await v.wait("ended")
        await asyncio.wait_for(v.ended.wait(), 5)  # the server closed the stream
    status, state, _ = await api.call("GET", f"/api/shows/{sid}")
    assert status == 200
    assert state["ended"] is True
    status, _, _ = await api.call("PUT", f"/api/shows/{sid}/showing", {"product": None}, bearer(key))
    assert status == 404
    status, _, _ = await api.call("POST", f"/api/shows/{sid}/likes", {}, viewer_headers(token))
    assert status == 404
    # Its place is free: max_shows is 2 here.
    await api.create()
    await api.create()
    status, err, _ = await api.call("POST", "/api/shows", {}, bearer(HOST_KEY))
    assert status == 503
    assert "end one" in err["error"]


async def test_page_config_names_the_sfu(api: ShowClient) -> None:
    status, config, _ = await api.call("GET", "/api/config")
    assert status == 200
    assert config["sfu"] == "relay"
    assert config["limits"]["comment_chars"] == 200


async def test_a_viewer_of_a_live_show_may_try_on_from_another_machine(
    api: ShowClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ "Try it on me" posts an offer; from another machine that needs the offer token, unless the
    request carries the viewer token of a live show (then the offer's own checks apply)."""
    monkeypatch.setattr(guard, "is_loopback_peer", lambda request: False)
    show = await api.create()
    viewer = await api.push(show["id"])
    token = viewer.hello["viewer"]
    offer = {"type": "offer", "sdp": "v=0", "products": []}
    status, err, _ = await api.call("POST", "/offer", offer)
    assert status == 403  # no offer token is set here and offers are not open
    status, err, _ = await api.call("POST", "/offer", offer, viewer_headers("forged-viewer-token"))
    assert status == 403
    status, err, _ = await api.call("POST", "/offer", offer, viewer_headers(token))
    assert status == 400  # past the token check: the SDP itself is refused
    assert "camera track" in err["error"]
    await viewer.close()
