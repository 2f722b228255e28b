"""The server's HTTP edge under hostile and ordinary-but-large input: whole bodies however they
arrive, photos of real people at phone sizes in every accepted format, decompression bombs,
cross-site requests, DNS rebinding, slow clients, security headers. Each refusal has its status
and message, and afterwards the server still serves."""

from __future__ import annotations

import asyncio
import json
import resource
import time
from collections.abc import AsyncIterator

import cv2
import numpy as np
import pytest
import pytest_asyncio
from bombs import jpeg_bomb, png_bomb, webp_lossless_bomb
from http_raw import post, read_response, split
from live_helpers import LIPSTICK, Live, live_fixture
from numpy.typing import NDArray

from tryon.media import decode_image

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]

live = pytest_asyncio.fixture(live_fixture(max_photo_bytes=16_000_000, header_timeout=1.0, body_timeout=1.0))
live_deadline = pytest_asyncio.fixture(live_fixture(body_timeout=1.0, body_deadline=2.0))


def host_port(live: Live) -> tuple[str, int]:
    url = live.server.make_url("/")
    assert url.host is not None
    assert url.port is not None
    return url.host, url.port


def encode(rgb: NDArray[np.uint8], ext: str, params: list[int]) -> bytes:
    ok, buf = cv2.imencode(ext, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), params)
    assert ok
    return buf.tobytes()


@pytest.fixture(scope="module")
def phone_photos(real_photos: dict[str, NDArray[np.uint8]]) -> dict[str, tuple[str, bytes]]:
    """Phone-sized encodings (several MB each) of the two photos of real people, one per format
    the page accepts."""
    rng = np.random.default_rng(0)
    out = {}
    for name, photo in real_photos.items():
        h, w = photo.shape[:2]
        s = 4000 / max(h, w)
        big = cv2.resize(photo, (round(w * s), round(h * s)), interpolation=cv2.INTER_CUBIC)
        # Sensor noise, as a phone photo has: it is what makes the files megabytes.
        noisy = np.clip(big.astype(np.int16) + rng.integers(-6, 7, big.shape), 0, 255).astype(np.uint8)
        out[f"{name}.jpg"] = ("image/jpeg", encode(noisy, ".jpg", [cv2.IMWRITE_JPEG_QUALITY, 97]))
        small = cv2.resize(noisy, (noisy.shape[1] * 3 // 4, noisy.shape[0] * 3 // 4))
        out[f"{name}.png"] = ("image/png", encode(small, ".png", [cv2.IMWRITE_PNG_COMPRESSION, 9]))
        out[f"{name}.webp"] = ("image/webp", encode(noisy, ".webp", [cv2.IMWRITE_WEBP_QUALITY, 95]))
    return out


@pytest.fixture(scope="module")
def bombs() -> dict[str, bytes]:
    return {"webp": webp_lossless_bomb(), "png": png_bomb(), "jpeg": jpeg_bomb()}


async def test_phone_photos_of_every_format_in_slow_pieces(
    live: Live, phone_photos: dict[str, tuple[str, bytes]]
) -> None:
    host, port = host_port(live)
    path = f"/api/photo?products={LIPSTICK}"
    results: dict[str, NDArray[np.uint8]] = {}
    for i, (name, (ctype, data)) in enumerate(sorted(phone_photos.items())):
        assert len(data) > 2_000_000, f"{name} is {len(data)} bytes: expected a multi-megabyte photo"
        pieces = split(data, 200_000)
        # Alternate: declared length, and chunked with no length; both arrive in slow pieces.
        chunked = i % 2 == 1
        r = await post(
            host, port, path, pieces, {"Content-Type": ctype},
            chunked=chunked, content_length=None if chunked else len(data), delay=0.03, timeout=120,
        )  # fmt: skip
        assert r.status == 200, (name, r.status, r.body[:200])
        assert int(r.headers["x-tryon-faces"]) >= 1, name
        out = decode_image(r.body)
        assert max(out.shape[:2]) == 2048, (name, out.shape)  # scaled to max_photo_side
        results[name] = out
    # The whole photo was read: every format of one photo gives the same try-on, up to coding.
    for stem in ("zidane.jpg", "bus.jpg"):
        png, webp, jpg = (results[f"{stem}.{ext}"] for ext in ("png", "webp", "jpg"))
        for other in (webp, jpg):
            resized = cv2.resize(other, (png.shape[1], png.shape[0]), interpolation=cv2.INTER_AREA)
            assert np.abs(resized.astype(np.float32) - png).mean() < 6, stem
    await live.works()


async def test_an_offer_in_pieces_is_read_whole(live: Live) -> None:
    from test_server_faults import real_offer_sdp

    host, port = host_port(live)
    body = json.dumps({"sdp": await real_offer_sdp(), "type": "offer", "products": [LIPSTICK]}).encode()
    r = await post(
        host, port, "/offer", split(body, 97), {"Content-Type": "application/json"},
        content_length=len(body), delay=0.01,
    )  # fmt: skip
    assert r.status == 200, r.body[:300]
    assert r.json()["type"] == "answer"


async def test_oversized_bodies_get_413_declared_or_chunked(live: Live) -> None:
    host, port = host_port(live)

    async def endless() -> AsyncIterator[bytes]:
        for _ in range(1600):  # 100 MB, stopped at the first answer
            yield b"\xff" * 65536

    for path, ctype in (("/api/photo?products=" + LIPSTICK, "image/jpeg"), ("/offer", "application/json")):
        t = time.monotonic()
        r = await post(host, port, path, endless(), {"Content-Type": ctype}, chunked=True)
        assert r.status == 413, (path, r.status, r.body)
        assert "too large" in r.json()["error"]
        assert time.monotonic() - t < 30
        r = await post(host, port, path, [b"x"], {"Content-Type": ctype}, content_length=100_000_000)
        assert r.status == 413
        assert "100000000" in r.json()["error"]
    await live.works()


async def test_bombs_are_refused_before_decoding_and_memory_stays_flat(
    live: Live, bombs: dict[str, bytes], portrait: NDArray[np.uint8]
) -> None:
    url = live.server.make_url("/api/photo")
    params = {"products": LIPSTICK}
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    for fmt, data in bombs.items():
        t = time.monotonic()
        async with live.http.post(
            url, params=params, data=data, headers={"Content-Type": "image/" + fmt}
        ) as r:
            assert r.status == 413, (fmt, await r.text())
            assert "pixels" in (await r.json())["error"]
        assert time.monotonic() - t < 5
    # A burst of bombs does not deny photo mode to a shopper sending a real photo at the same time.
    jpeg = encode(portrait, ".jpg", [cv2.IMWRITE_JPEG_QUALITY, 90])

    async def send(data: bytes, ctype: str) -> int:
        async with live.http.post(url, params=params, data=data, headers={"Content-Type": ctype}) as r:
            await r.read()
            return r.status

    statuses = await asyncio.gather(
        *[send(bombs[f], "image/" + f) for f in ("webp", "png", "jpeg") * 4], send(jpeg, "image/jpeg")
    )
    assert statuses[:-1] == [413] * 12
    assert statuses[-1] == 200
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak) / 1024
    assert grown_mb < 150, f"peak memory grew by {grown_mb:.0f} MB while refusing bombs"


async def test_photos_of_the_wrong_kind_or_size(live: Live) -> None:
    url = live.server.make_url("/api/photo")
    grey = np.full((120, 160, 3), 128, np.uint8)
    cases = [
        (encode(grey, ".bmp", []), "image/jpeg", 415, "got BMP"),
        (encode(grey, ".tiff", []), "image/png", 415, "got TIFF"),
        (encode(np.zeros((8, 8, 3), np.uint8), ".png", []), "image/png", 400, "at least 16x16"),
        (encode(grey, ".png", [])[:40], "image/png", 400, "photo"),
        (encode(grey, ".png", []), "text/plain", 415, "Content-Type"),
        (encode(grey, ".png", []), "application/x-www-form-urlencoded", 415, "Content-Type"),
    ]
    for data, ctype, status, expected in cases:
        async with live.http.post(
            url, params={"products": LIPSTICK}, data=data, headers={"Content-Type": ctype}
        ) as r:
            body = await r.json()
            assert r.status == status, (expected, r.status, body)
            assert expected in body["error"], body
    await live.works()


async def test_cross_site_requests_and_dns_rebinding_are_refused(live: Live) -> None:
    from test_server_faults import real_offer_sdp

    offer = {"sdp": await real_offer_sdp(), "type": "offer", "products": [LIPSTICK]}
    own = live.url.rstrip("/")
    # Simple cross-site bodies (no preflight): refused by content type.
    for ctype in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
        status, reply = await live.post_offer(json.dumps(offer).encode(), {"Content-Type": ctype})
        assert status == 415, (ctype, reply)
        assert "application/json" in reply["error"]
    # Another site's page, or a sandboxed one ("null"): refused by origin, whatever the body.
    other_app = f"http://127.0.0.1:{host_port(live)[1] + 1}"  # another app on this machine
    for origin in ("https://evil.example", "null", "http://127.0.0.1.evil.example", other_app):
        status, reply = await live.post_offer(offer, {"Origin": origin})
        assert status == 403, (origin, reply)
    status, reply = await live.post_offer(b"{}", {"Sec-Fetch-Site": "cross-site"})
    assert status == 403
    # The server's own page passes the origin check (and then is judged on its body).
    status, reply = await live.post_offer(b"{}", {"Origin": own})
    assert status == 400, reply
    # DNS rebinding: a foreign name pointed at loopback reads nothing.
    for path in ("/api/config", "/metrics", "/healthz", "/"):
        async with live.http.get(live.server.make_url(path), headers={"Host": "rebind.evil.example"}) as r:
            assert r.status == 421, path
    for host in ("localhost", f"127.0.0.1:{host_port(live)[1]}", "[::1]:8080"):
        async with live.http.get(live.server.make_url("/api/config"), headers={"Host": host}) as r:
            assert r.status == 200, host
    status, metrics = await live.get("/metrics")
    text = metrics.decode()
    assert 'tryon_offers_rejected_total{reason="origin"} 5.0' in text
    assert 'tryon_offers_rejected_total{reason="host"} 4.0' in text
    assert 'tryon_offers_rejected_total{reason="content_type"} 3.0' in text
    await live.works()


async def test_unexpected_input_never_gets_a_500(live: Live) -> None:
    for body in (b"[" * 5000 + b"]" * 5000, b'{"a":' * 3000 + b"1" + b"}" * 3000):
        status, reply = await live.post_offer(body)
        assert status == 400, reply
        assert "nested too deeply" in reply["error"]
    await live.works()


async def test_security_headers_and_no_version_banner(live: Live) -> None:
    for path in ("/", "/static/app.js", "/api/config", "/api/catalog", "/nope"):
        async with live.http.get(live.server.make_url(path)) as r:
            h = r.headers
            assert h["Server"] == "tryon", path
            assert "frame-ancestors 'none'" in h["Content-Security-Policy"]
            assert "script-src 'self'" in h["Content-Security-Policy"]
            assert h["X-Content-Type-Options"] == "nosniff"
            assert h["Referrer-Policy"] == "no-referrer"
            assert h["X-Frame-Options"] == "DENY"
    async with live.http.get(live.server.make_url("/offer")) as r:
        assert r.status == 405
        assert r.headers["Allow"] == "POST"
        assert "error" in await r.json()
    async with live.http.delete(live.server.make_url("/api/photo")) as r:
        assert r.status == 405
        assert r.headers["Allow"] == "POST"


async def test_slow_headers_and_slow_bodies_are_cut_off(live: Live) -> None:
    host, port = host_port(live)
    # Headers trickled a byte at a time: the connection is closed after the header timeout (1 s).
    conns = [await asyncio.open_connection(host, port) for _ in range(20)]
    t = time.monotonic()
    request = f"GET /api/config HTTP/1.1\r\nHost: {host}\r\nX-Slow: {'a' * 200}\r\n\r\n".encode()
    closed_at: list[float] = []

    async def trickle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            for b in request:
                writer.write(bytes([b]))
                await writer.drain()
                await asyncio.sleep(0.05)
                if reader.at_eof():
                    break
            await asyncio.wait_for(reader.read(), 5)
        except (ConnectionError, TimeoutError):
            pass
        closed_at.append(time.monotonic() - t)
        writer.close()

    await asyncio.gather(*(trickle(r, w) for r, w in conns))
    assert max(closed_at) < 4, f"slow-header connections held for {max(closed_at):.1f} s"
    # A body that stalls for longer than the body timeout (1 s): 408, with a message.
    r = await post(
        host, port, "/offer", [b"{" + b" " * 9] * 3, {"Content-Type": "application/json"},
        content_length=400, delay=1.6,
    )  # fmt: skip
    assert r.status == 408, r.body
    assert "stalled" in r.json()["error"]
    # A connection that closes halfway through its body is no 500 (nothing to answer: just no crash).
    _, writer = await asyncio.open_connection(host, port)
    writer.write(
        f"POST /offer HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        "Content-Length: 1000\r\n\r\n{".encode()
    )
    await writer.drain()
    writer.close()
    await live.works()


async def test_an_idle_connection_is_closed_and_keep_alive_still_works(live: Live) -> None:
    host, port = host_port(live)
    reader, writer = await asyncio.open_connection(host, port)
    for _ in range(2):  # two requests on one connection
        writer.write(f"GET /healthz HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        await writer.drain()
        r = await asyncio.wait_for(read_response(reader), 5)
        assert r.status == 200
    t = time.monotonic()
    assert await asyncio.wait_for(reader.read(), 5) == b""
    assert time.monotonic() - t < 3
    writer.close()


async def test_a_body_trickled_past_the_deadline_gets_408(live_deadline: Live) -> None:
    host, port = host_port(live_deadline)
    t = time.monotonic()
    r = await post(
        host, port, "/offer", [b" " * 10] * 40, {"Content-Type": "application/json"},
        content_length=400, delay=0.25,
    )  # fmt: skip
    assert r.status == 408, r.body
    assert "too slow" in r.json()["error"]
    assert time.monotonic() - t < 6
    await live_deadline.works()
