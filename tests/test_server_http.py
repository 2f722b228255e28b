"""The server's HTTP side: snapshots of the exact frame sent, photo mode, catalog, health, metrics."""

from __future__ import annotations

import asyncio

import cv2
import numpy as np
import pytest
import pytest_asyncio
from live_helpers import LIPSTICK, Live, lip_mask, live_fixture
from numpy.typing import NDArray

from tryon.media import decode_image, encode_png
from tryon.render.compare import DIVIDER

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]

live = pytest_asyncio.fixture(live_fixture(max_photo_bytes=2_000_000))


def lips_redder(image: NDArray[np.uint8], reference: NDArray[np.uint8]) -> float:
    """How much greener the lips are in ``reference`` than in ``image`` (the ruby lipstick
    darkens green the most)."""
    lips = lip_mask(reference)
    return float(
        reference[lips][:, 1].astype(np.float32).mean() - image[lips][:, 1].astype(np.float32).mean()
    )


async def test_snapshot_is_the_processed_frame_and_the_pair_on_request(live: Live) -> None:
    c = await live.client([LIPSTICK])
    status, _ = await live.get(f"/api/sessions/{c.session}/snapshot.png")
    assert status in (200, 409)  # 409 only if asked before the first frame: then it says so
    await c.wait_frames(20)
    async with live.http.get(live.server.make_url(f"/api/sessions/{c.session}/snapshot.png")) as r:
        assert r.status == 200
        assert r.headers["Content-Type"] == "image/png"
        assert "attachment" in r.headers["Content-Disposition"]
        assert r.headers["Cache-Control"] == "no-store"
        after = decode_image(await r.read())
    assert after.shape == (480, 640, 3)
    # The snapshot is lossless and exactly a returned frame: its counter reads back, and the
    # lipstick is on, compared with the camera frame of that number.
    from webrtc.probe import read_counter

    n = read_counter(after)
    assert n is not None
    assert lips_redder(after, live.frame(n)) > 30
    status, png = await live.get(f"/api/sessions/{c.session}/snapshot.png?pair=1")
    assert status == 200
    pair = decode_image(png)
    assert pair.shape == (480, 2 * 640 + DIVIDER, 3)
    m = read_counter(pair)
    assert m is not None
    before_half, after_half = pair[:, :640], pair[:, 640 + DIVIDER :]
    # "Before" is the camera frame as the server decoded it: the sent one up to video coding.
    coding = np.abs(before_half[100:, 100:].astype(np.float32) - live.frame(m)[100:, 100:]).mean()
    assert coding < 4
    assert lips_redder(after_half, before_half) > 30
    status, err = await live.get("/api/sessions/not-a-session/snapshot.png")
    assert status == 404
    assert "session" in err["error"]


async def test_snapshot_of_the_frame_shown_by_its_rtp_timestamp(live: Live) -> None:
    from webrtc.probe import read_counter

    c = await live.client([LIPSTICK])
    await c.wait_frames(20)
    for back in (1, 4, 8):  # frames the page may still be showing (the screen lags the network)
        shown = [r for r in c.received if r.counter is not None][-back]
        url = f"/api/sessions/{c.session}/snapshot.png?rtp={shown.rtp_timestamp}"
        async with live.http.get(live.server.make_url(url)) as r:
            assert r.status == 200
            assert r.headers["X-TryOn-Frame"] == "shown"
            assert read_counter(decode_image(await r.read())) == shown.counter
    # A frame no longer kept (or an unknown timestamp): the last one sent, and the header says so.
    async with live.http.get(live.server.make_url(f"/api/sessions/{c.session}/snapshot.png?rtp=1")) as r:
        assert r.status == 200
        assert r.headers["X-TryOn-Frame"] == "latest"
    status, err = await live.get(f"/api/sessions/{c.session}/snapshot.png?rtp=-5")
    assert status == 400
    assert "RTP timestamp" in err["error"]


async def test_split_and_pause_change_what_is_sent(live: Live) -> None:
    c = await live.client([LIPSTICK], keep=lambda n: True, still=True)
    await c.wait_frames(10)
    # Split through the middle of the mouth: before on the left of it, after on the right.
    lips = lip_mask(live.scene)
    xs = np.nonzero(lips)[1]
    x_split = int(xs.mean())
    await c.request({"type": "split", "position": x_split / 640, "before": "left"})
    await c.wait_frames(12)
    n = [r.counter for r in c.received if r.counter is not None][-1]
    got, sent = c.images[n].astype(np.float32), live.scene.astype(np.float32)
    cols = np.arange(640)[None, :]
    left, right = lips & (cols < x_split - 6), lips & (cols > x_split + 6)
    assert left.sum() > 40
    assert right.sum() > 40
    assert np.abs(got[left].mean(0) - sent[left].mean(0)).max() < 15, "before side changed"
    assert sent[right][:, 1].mean() - got[right][:, 1].mean() > 30, "after side lacks the lipstick"
    assert got[150:350, x_split - 1 : x_split + 1].mean() > 200, "no divider line at the split"

    ack = await c.request({"type": "pause", "paused": True})
    assert ack["paused"] is True
    await c.request({"type": "split", "position": None})
    await c.wait_frames(12)
    # Paused: the camera comes back unprocessed (up to video coding).
    n = [r.counter for r in c.received if r.counter is not None][-1]
    change = c.images[n][lips].astype(np.float32).mean(0) - sent[lips].mean(0)
    assert np.abs(change).max() < 15, change
    status, png = await live.get(f"/api/sessions/{c.session}/snapshot.png")
    assert status == 200
    assert lips_redder(decode_image(png), live.scene) < 15, "a snapshot while paused is the plain frame"


async def test_photo_mode(live: Live, portrait: NDArray[np.uint8]) -> None:
    url = live.server.make_url("/api/photo")
    jpeg = cv2.imencode(".jpg", cv2.cvtColor(portrait, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 95])[1]
    async with live.http.post(url, params={"products": LIPSTICK, "intensity": "1"}, data=jpeg.tobytes()) as r:
        assert r.status == 200, await r.text()
        assert r.headers["X-TryOn-Faces"] == "1"
        out = decode_image(await r.read())
    sent = decode_image(jpeg.tobytes())
    assert out.shape == sent.shape
    assert lips_redder(out, sent) > 30
    # A top: the body it needs is found, and counted.
    async with live.http.post(url, params={"products": "everyday-crew-tee"}, data=jpeg.tobytes()) as r:
        assert r.status == 200
        assert r.headers["X-TryOn-Bodies"] == "1"
    # No face: the photo comes back unchanged and says so.
    blank = encode_png(np.full((240, 320, 3), 200, np.uint8))
    async with live.http.post(url, params={"products": LIPSTICK}, data=blank) as r:
        assert r.status == 200
        assert r.headers["X-TryOn-Faces"] == "0"
        assert r.headers["X-TryOn-Bodies"] == "0"  # the page says what was not found
        np.testing.assert_array_equal(decode_image(await r.read()), np.full((240, 320, 3), 200, np.uint8))
    for params, data, status, expected in [
        ({"products": LIPSTICK}, b"", 400, "got nothing"),
        ({"products": LIPSTICK}, b"not an image", 400, "not an image"),
        ({"products": "nope"}, blank, 400, "unknown product"),
        ({"products": LIPSTICK, "intensity": "2"}, blank, 400, "intensity"),
        ({"products": LIPSTICK}, b"x" * 2_100_000, 413, "too large"),
    ]:
        async with live.http.post(url, params=params, data=data) as r:
            assert r.status == status, (params, await r.text())
            assert expected in (await r.json())["error"]
    await live.works()


async def test_catalog_config_health_and_metrics(live: Live) -> None:
    status, catalog = await live.get("/api/catalog")
    assert status == 200
    ids = [p["id"] for p in catalog["products"]]
    assert "velvet-matte-lipstick" in ids
    lipstick = next(p for p in catalog["products"] if p["id"] == "velvet-matte-lipstick")
    assert lipstick["renderable"] is True
    assert lipstick["variants"][0]["color"].startswith("#")
    assert {"price", "currency", "buy_url", "brand"} <= set(lipstick)
    status, config = await live.get("/api/config")
    assert config["camera"] == {"width": 640, "height": 480}
    assert config["ice_servers"] == []
    status, index = await live.get("/")
    assert status == 200
    assert b"<html" in index.lower()
    status, _ = await live.get("/api/products/nope/assets/thumbnail")
    assert status == 404
    c = await live.client([LIPSTICK])
    await c.wait_frames(10)
    await asyncio.sleep(1.2)
    status, health = await live.get("/healthz")
    assert (status, health["status"], health["sessions"]) == (200, "ok", 1)
    status, metrics = await live.get("/metrics")
    text = metrics.decode()
    values = {
        line.split()[0]: float(line.split()[1])
        for line in text.splitlines()
        if line and not line.startswith("#")
    }
    assert values["tryon_sessions_active"] == 1
    assert values["tryon_frames_out_total"] >= 10
    assert values['tryon_stage_seconds_count{stage="render"}'] >= 5
    assert values["tryon_frame_latency_seconds_count"] >= 10
    assert c.stats, "the server pushes stats on the channel about once a second"
    s = c.stats[-1]
    assert s["fps_in"] > 10
    assert {"faces.landmarks", "render", "total"} <= set(s["stages"])
