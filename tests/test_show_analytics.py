"""Engagement analytics in the server: what viewers do reaches the host's board, page events are
checked and rate-limited, recommendations and promotions come back, events are stored."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
import pytest_asyncio
from live_helpers import LIPSTICK, Live, live_fixture
from show_helpers import HOST_KEY, ShowClient, bearer, viewer_headers

from webrtc.app import SERVER_KEY
from webrtc.probe import ProbeClient

pytestmark = pytest.mark.asyncio

LIP = LIPSTICK.split(":")[0]
RULES = [
    {
        "id": "lip-hesitant",
        "code": "RUBY10",
        "discount_pct": 10,
        "target": {"kind": "lipstick"},
        "trigger": {"tried_s": 1, "not_bought": True},
        "message": {"en": "10% off the lipstick you tried"},
    }
]


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    path = tmp_path / "promotions.json"
    path.write_text(json.dumps(RULES))
    return path


@pytest_asyncio.fixture
async def live(camera_scene, request, tmp_path: Path, rules: Path):  # type: ignore[no-untyped-def]
    fixture = live_fixture(host_key=HOST_KEY, db=f"sqlite:///{tmp_path}/events.db", promotions=str(rules))
    async for value in fixture(camera_scene, request):
        yield value


@pytest.mark.slow
async def test_a_viewers_try_like_and_question_reach_the_board_and_the_store(live: Live) -> None:
    api = ShowClient(live.http, live.url)
    show = await api.create()
    sid, key = show["id"], show["key"]
    host = await api.push(sid, key)
    viewer = await api.push(sid)
    token = viewer.hello["viewer"]
    status, _, _ = await api.call("PUT", f"/api/shows/{sid}/showing", {"product": LIP}, bearer(key))
    assert status == 200
    # "Try it on me": the viewer's own session wears the lipstick (the server sees the try).
    tryme = ProbeClient(live.url, live.frame, fps=15)
    live.clients.append(tryme)
    await tryme.connect(live.http, [LIPSTICK], headers=viewer_headers(token))
    status, _, _ = await api.call("POST", f"/api/shows/{sid}/likes", {}, viewer_headers(token))
    assert status == 202
    status, entry, _ = await api.call(
        "POST", f"/api/shows/{sid}/comments", {"text": "does it come in a darker red?"}, viewer_headers(token)
    )
    assert status == 202
    assert entry["question"] is True
    assert entry["products"] == []  # no product named...
    status, result, _ = await api.call(
        "POST",
        "/api/events",
        {"events": [{"type": "buy_click", "product": LIP, "shade": "ruby-red"}, {"type": "watch"}]},
        viewer_headers(token),
    )
    assert status == 202, result
    assert result["accepted"] == 2
    assert result["stored"] is True
    board = await host.wait(
        "board",
        lambda b: any(r["product"] == LIP and r["tries"] == 1 and r["buys"] == 1 for r in b["products"]),
        timeout=10,
    )
    row = next(r for r in board["products"] if r["product"] == LIP)
    assert row["buys"] == 1
    assert row["conversion"] == 1.0
    assert row["likes_showing"] == 1
    assert board["top"][0] == LIP
    # ... so the question waits as one about the product showing ("does it come in...").
    assert [(q["text"], q["products"]) for q in board["questions"]] == [
        ("does it come in a darker red?", [LIP])
    ]
    # The promotion: worn over a second, not bought... but this viewer bought: none for them.
    # A second try-on session (another shopper, no show) wears it without buying: promoted.
    shopper = ProbeClient(live.url, live.frame, fps=15)
    live.clients.append(shopper)
    await shopper.connect(live.http, [LIPSTICK])
    deadline = time.monotonic() + 10
    while not any(m.get("type") == "promotion" for m in shopper.messages):
        assert time.monotonic() < deadline, "no promotion reached the shopper"
        await asyncio.sleep(0.2)
    promo = next(m for m in shopper.messages if m.get("type") == "promotion")
    assert promo["code"] == "RUBY10"
    assert promo["product"] == LIP
    assert not any(e == "promotion" for e, _ in viewer.events)
    # Recommendations: public, by product.
    status, rec, _ = await api.call("GET", f"/api/recommendations?product={LIP}")
    assert status == 200
    assert LIP in rec["popular_now"] or rec["popular_now"] == [] or LIP not in rec["also_tried"]
    status, _, _ = await api.call("GET", "/api/recommendations?product=no-such")
    assert status == 404
    # Stored: the show's events in the database, with no token, session id or address in them.
    await tryme.close()
    server = live.server.app[SERVER_KEY]
    store = server.analytics.sink.store
    await asyncio.sleep(0.5)
    events = await store.events(sid)
    kinds = [e.type for e in events]
    for expected in ("showing", "try_start", "like", "comment", "buy_click", "watch"):
        assert expected in kinds, (expected, kinds)
    text = json.dumps([e.to_json() for e in events])
    assert token not in text
    assert tryme.session is not None
    assert tryme.session not in text
    assert "127.0.0.1" not in text
    await viewer.close()
    await host.close()
    # Deleting a show deletes its events: the server host key, once the show has ended.
    path = f"/api/analytics/shows/{sid}"
    status, _, _ = await api.call("DELETE", path, None, bearer(key))
    assert status == 403
    status, _, _ = await api.call("DELETE", path, None, bearer(HOST_KEY))
    assert status == 409  # still live
    status, _, _ = await api.call("DELETE", f"/api/shows/{sid}", None, bearer(key))
    assert status == 204
    await asyncio.sleep(0.3)  # the end's own events (the try-on's try_stop) reach the store
    status, body, _ = await api.call("DELETE", path, None, bearer(HOST_KEY))
    assert status == 200
    assert body["deleted"] >= len(events)
    assert await store.count(sid) == 0


async def test_page_events_are_checked_and_rate_limited(live: Live) -> None:
    api = ShowClient(live.http, live.url)
    show = await api.create()
    viewer = await api.push(show["id"])
    token = viewer.hello["viewer"]
    status, _, _ = await api.call("POST", "/api/events", {"events": [{"type": "watch"}]})
    assert status == 401
    status, _, _ = await api.call(
        "POST", "/api/events", {"events": [{"type": "watch"}]}, viewer_headers("forged")
    )
    assert status == 403
    status, _, _ = await api.call(
        "POST", "/api/events", {"events": [{"type": "watch"}]}, {"X-TryOn-Session": "nope"}
    )
    assert status == 403
    status, body, _ = await api.call("POST", "/api/events", {"events": []}, viewer_headers(token))
    assert status == 400
    batch = [
        {"type": "watch"},
        {"type": "teleport"},
        {"type": "try_start", "product": LIP},  # the server records tries itself
        {"type": "buy_click", "product": "no-such-product"},
        {"type": "impression", "product": LIP, "client_at": 1},
    ]
    status, body, _ = await api.call("POST", "/api/events", {"events": batch}, viewer_headers(token))
    assert status == 202
    assert body["accepted"] == 1
    assert [r["reason"] for r in body["rejected"]] == ["type", "server_side", "product", "clock"]
    status, body, _ = await api.call(
        "POST", "/api/events", {"events": [{"type": "watch"}] * 51}, viewer_headers(token)
    )
    assert status == 429 or status == 400  # past the batch size or the rate
    # A flood: 20/s with bursts of 60.
    codes = []
    for _ in range(4):
        status, _, _ = await api.call(
            "POST", "/api/events", {"events": [{"type": "watch"}] * 20}, viewer_headers(token)
        )
        codes.append(status)
    assert 429 in codes
    _, metrics = await live.get("/metrics")
    text = metrics.decode()
    assert 'tryon_events_rejected_total{reason="type"}' in text
    assert 'tryon_events_total{type="watch"}' in text
    await viewer.close()


async def test_the_host_answers_a_question(live: Live) -> None:
    api = ShowClient(live.http, live.url)
    show = await api.create()
    sid, key = show["id"], show["key"]
    host = await api.push(sid, key)
    viewer = await api.push(sid)
    board = live.server.app[SERVER_KEY].analytics.boards[sid]
    from tryon.analytics.events import Event

    board.add(Event(sid, "v", "comment", time.time(), text="how much is it?"), question=True)
    snap = await host.wait("board", lambda b: len(b["questions"]) == 1, timeout=5)
    qid = snap["questions"][0]["id"]
    status, _, _ = await api.call(
        "POST", f"/api/shows/{sid}/questions/{qid}/answered", None, bearer(viewer.hello["viewer"])
    )
    assert status == 403
    status, _, _ = await api.call("POST", f"/api/shows/{sid}/questions/{qid}/answered", None, bearer(key))
    assert status == 204
    status, _, _ = await api.call("POST", f"/api/shows/{sid}/questions/{qid}/answered", None, bearer(key))
    assert status == 404
    await host.wait("board", lambda b: b["questions"] == [], timeout=5)
    await viewer.close()
    await host.close()
