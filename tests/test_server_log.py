"""The server's log: one short line per request (no query, capabilities cut), one per session's
start and end (with its duration), and no raw libpng warnings from a PNG's colour profile."""

from __future__ import annotations

import asyncio
import logging
import struct
import zlib

import aiohttp
import cv2
import numpy as np
import pytest
from aiohttp.test_utils import TestServer
from conftest import moving_frame
from numpy.typing import NDArray

from tryon.catalog import Catalog
from tryon.media.images import decode_image
from tryon.media.png import without_noisy_chunks
from webrtc import ServerConfig, create_app
from webrtc.access_log import AccessLog, redact_path, server_log
from webrtc.probe import PassThroughPipeline, ProbeClient


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_with_a_bad_profile(rgb: NDArray[np.uint8]) -> bytes:
    """``rgb`` as a PNG carrying the colour chunks libpng complains about (a broken iCCP profile,
    a gAMA and an all-zero cHRM)."""
    ok, buf = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    assert ok
    png = bytes(buf)
    at = 8 + 12 + struct.unpack(">I", png[8:12])[0]  # after IHDR
    extra = [
        _chunk(b"iCCP", b"Bogus\x00\x00" + zlib.compress(b"not a profile" * 20)),
        _chunk(b"gAMA", struct.pack(">I", 45455)),
        _chunk(b"cHRM", b"\x00" * 32),
    ]
    return png[:at] + b"".join(extra) + png[at:]


def test_a_png_colour_profile_makes_no_libpng_noise(capfd: pytest.CaptureFixture[str]) -> None:
    rgb = (np.random.default_rng(1).random((24, 32, 3)) * 255).astype(np.uint8)
    noisy = png_with_a_bad_profile(rgb)
    cv2.imdecode(np.frombuffer(noisy, np.uint8), cv2.IMREAD_COLOR)
    assert "libpng warning" in capfd.readouterr().err, "the test's PNG no longer upsets libpng"

    quiet = without_noisy_chunks(noisy)
    assert b"iCCP" not in quiet
    assert b"cHRM" not in quiet
    assert np.array_equal(decode_image(noisy, "photo.png"), rgb)
    assert "libpng" not in capfd.readouterr().err
    # Not a PNG, a clean PNG, a truncated one: unchanged.
    assert without_noisy_chunks(b"GIF89a...") == b"GIF89a..."
    clean = without_noisy_chunks(quiet)
    assert clean is quiet
    assert without_noisy_chunks(noisy[:60]) == noisy[:60]


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        ("/api/catalog", "/api/catalog"),
        ("/api/sessions/Xk3_pQ9aZr-7bLmN0qW2eA/snapshot.png", "/api/sessions/Xk3_pQ…/snapshot.png"),
        ("/whip/0123456789abcdef0123", "/whip/012345…"),
        ("/api/products/holiday-fair-isle-pyjama-top-adult/assets/front", None),
        ("/show/Ab3dEf", "/show/Ab3dEf"),
    ],
)
def test_capabilities_in_paths_are_cut(path: str, logged: str | None) -> None:
    assert redact_path(path) == (logged or path)


@pytest.mark.asyncio
@pytest.mark.slow
async def test_one_line_per_request_and_per_session(
    caplog: pytest.LogCaptureFixture, camera_scene: NDArray[np.uint8]
) -> None:
    app = create_app(ServerConfig(), catalog=Catalog.load(), pipeline_factory=PassThroughPipeline)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server(access_log=server_log, access_log_class=AccessLog)
    try:
        with caplog.at_level(logging.INFO, logger="tryon.server"):
            async with aiohttp.ClientSession() as http:
                async with http.get(server.make_url("/api/catalog?lang=fr&token=s3cret")) as r:
                    assert r.status == 200
                async with http.get(server.make_url("/api/products/nope/assets/x")) as r:
                    assert r.status == 404
                c = ProbeClient(str(server.make_url("/")), lambda i: moving_frame(camera_scene, i))
                await c.connect(http)
                await c.wait_frames(5)
                await c.close()
                for _ in range(100):
                    if any("closed" in r.getMessage() for r in caplog.records):
                        break
                    await asyncio.sleep(0.1)
    finally:
        await server.close()
    lines = [r.getMessage() for r in caplog.records if r.name == "tryon.server"]
    requests = [x for x in lines if not x.startswith("session ")]
    assert requests[0].startswith("GET /api/catalog 200 ")
    assert requests[0].endswith(" ms")
    assert requests[1].startswith("GET /api/products/nope/assets/x 404 ")
    assert any(x.startswith("POST /offer 200 ") for x in requests)
    assert not any("s3cret" in x or "?" in x for x in lines)
    sid = (c.session or "")[:6]
    started = [x for x in lines if x.startswith(f"session {sid} started")]
    closed = [x for x in lines if x.startswith(f"session {sid} closed")]
    assert len(started) == len(closed) == 1, lines
    assert " after " in closed[0]
    assert " frames in, " in closed[0]
    assert " dropped" in closed[0]
