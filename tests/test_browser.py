"""The shopper's page in Debian's Chromium (headless, driven by Playwright), with a fake camera
playing a y4m clip of a portrait in motion: the page connects (camera only: no microphone in its
offer), a product is clicked, the remote video shows the try-on, the snapshot downloads, the
language switches, a deep link works.

Skipped when /usr/bin/chromium is missing, unless TRYON_REQUIRE_BROWSER=1 (CI sets it: there a
missing browser is a failure). Never uses `playwright install`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import pytest_asyncio
from aiohttp.test_utils import TestServer
from conftest import moving_frame
from live_helpers import LIPSTICK, lip_mask, shared_catalog
from numpy.typing import NDArray

from tryon.media import decode_image
from webrtc import ServerConfig, create_app
from webrtc.guard import runner_options
from webrtc.probe import draw_counter, read_counter, write_y4m

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [pytest.mark.asyncio, pytest.mark.slow, pytest.mark.browser]

if not CHROMIUM.exists():
    if os.environ.get("TRYON_REQUIRE_BROWSER") == "1":
        raise RuntimeError(
            "the browser test needs Debian's chromium: apt-get install chromium chromium-driver"
        )
    pytest.skip("Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True)

CLIP_FRAMES = 90


def clip_frame(scene: NDArray[np.uint8], i: int) -> NDArray[np.uint8]:
    frame = moving_frame(scene, i)
    draw_counter(frame, i)
    return frame


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory, camera_scene: NDArray[np.uint8]) -> Path:
    path = tmp_path_factory.mktemp("camera") / "clip.y4m"
    write_y4m(path, [clip_frame(camera_scene, i) for i in range(CLIP_FRAMES)])
    return path


@pytest_asyncio.fixture
async def server() -> AsyncIterator[TestServer]:
    config = ServerConfig()
    app = create_app(config, catalog=shared_catalog())
    srv = TestServer(app, host="127.0.0.1")
    await srv.start_server(**runner_options(config))
    yield srv
    await srv.close()


CSP_LISTENER = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) =>
  window.__csp.push(`${e.effectiveDirective} blocked ${e.blockedURI} (${e.sourceFile}:${e.lineNumber})`));
"""


async def csp_page(browser: Any, **kw: Any) -> tuple[Any, list[str]]:
    """A new page that records every Content-Security-Policy violation, from the DOM event and
    from the console (``violations`` is filled as they come)."""
    page = await browser.new_page(**kw)
    violations: list[str] = []
    await page.add_init_script(CSP_LISTENER)
    page.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    return page, violations


async def csp_violations(page: Any, console: list[str]) -> list[str]:
    found: list[str] = await page.evaluate("window.__csp")
    return found + console


BASE_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-device-for-media-stream",
]


@contextlib.asynccontextmanager
async def chromium(*args: str) -> AsyncIterator[Any]:
    """Debian's Chromium, headless, with a fake camera device and ``args``."""
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=[*BASE_ARGS, *args])
        try:
            yield b
        finally:
            await b.close()


@pytest_asyncio.fixture
async def browser(clip: Path) -> AsyncIterator[Any]:
    async with chromium(
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={clip}",
        # Loopback ICE candidates, and real addresses rather than mDNS names, so the server
        # (on this machine, no STUN) can reach the page.
        "--allow-loopback-in-peer-connection",
        "--disable-features=WebRtcHideLocalIpsWithMdns",
    ) as b:
        yield b


async def remote_frame(page: Any) -> NDArray[np.uint8]:
    """The frame the remote <video> shows now, as the page decoded it (unmirrored pixels)."""
    data_url = await page.evaluate(
        """() => {
            const v = document.querySelector('#remote-video');
            const c = document.createElement('canvas');
            c.width = v.videoWidth; c.height = v.videoHeight;
            c.getContext('2d').drawImage(v, 0, 0);
            return c.toDataURL('image/png');
        }"""
    )
    return decode_image(base64.b64decode(data_url.split(",", 1)[1]))


def lipstick_on(frame: NDArray[np.uint8], scene: NDArray[np.uint8]) -> tuple[bool, str]:
    """Whether ``frame`` (a returned frame, counter readable) shows the ruby lipstick, compared
    with the camera frame of the same number."""
    assert frame.shape == (480, 640, 3), frame.shape
    n = read_counter(frame)
    if n is None:
        return False, "counter unreadable"
    sent = clip_frame(scene, n % CLIP_FRAMES)
    lips = lip_mask(sent)
    change = frame[lips].astype(np.float32).mean(0) - sent[lips].astype(np.float32).mean(0)
    return bool(change[1] < -25 and change[0] - change[1] > 20), f"frame {n}: lip colour change {change}"


async def wait_for(page: Any, expression: str, timeout: float = 10.0) -> None:
    """Poll ``expression`` until it is truthy. Not ``page.wait_for_function``: Playwright runs its
    predicate through ``eval`` in the page, which the page's CSP (rightly) forbids."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await page.evaluate(expression):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{expression!r} still false after {timeout:g} s")
        await asyncio.sleep(0.1)


async def wait_live(page: Any) -> None:
    await wait_for(page, "document.body.dataset.state === 'live'", 30)


async def wait_lipstick(page: Any, scene: NDArray[np.uint8], tries: int = 30) -> NDArray[np.uint8]:
    why = ""
    for _ in range(tries):
        frame = await remote_frame(page)
        on, why = lipstick_on(frame, scene)
        if on:
            return frame
        await page.wait_for_timeout(200)
    raise AssertionError(f"the remote video never showed the lipstick: {why}")


async def test_page_tries_a_product_on_the_fake_camera_and_downloads_a_snapshot(
    server: TestServer, browser: Any, camera_scene: NDArray[np.uint8], tmp_path: Path
) -> None:
    page, console = await csp_page(browser, accept_downloads=True, locale="en-US")
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    # ?hud=1: the developers' Stats switch and overlay (hidden from shoppers otherwise).
    response = await page.goto(str(server.make_url("/?hud=1")))
    assert response is not None
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "'unsafe-inline'" not in csp
    async with page.expect_request(lambda r: r.url.endswith("/offer")) as sent:
        await page.click("#start-camera")
    offer = json.loads((await sent.value).post_data)
    assert "m=video" in offer["sdp"]
    assert "m=audio" not in offer["sdp"], "the shopper's page offers a microphone"
    await wait_live(page)
    frame = await remote_frame(page)
    assert not lipstick_on(frame, camera_scene)[0], "lipstick before any product was picked"

    await page.click('.product-card[data-product-id="velvet-matte-lipstick"]')
    await page.click('.swatch[data-variant-id="ruby-red"]')
    await wait_lipstick(page, camera_scene)
    await page.screenshot(path=str(tmp_path / "page.png"))
    # The server pushes stats about once a second: wait for one sent after the look changed.
    await wait_for(page, "window.tryon.lastStats?.look?.length === 1", 5)
    stats = await page.evaluate("window.tryon.lastStats")
    assert stats["look"] == [LIPSTICK]
    assert stats["frames_out"] > 0

    shown = read_counter(await remote_frame(page))
    async with (
        page.expect_response(lambda r: "/snapshot.png" in r.url) as answer,
        page.expect_download() as info,
    ):
        await page.click("#snapshot")
    response = await answer.value
    # The page names the frame on screen by its RTP timestamp; the server had it.
    assert "rtp=" in response.url
    assert response.headers["x-tryon-frame"] == "shown"
    download = await info.value
    assert download.suggested_filename.endswith(".png")
    path = tmp_path / "snapshot.png"
    await download.save_as(str(path))
    # Saved as the preview shows it: mirrored (the Mirror switch is on by default).
    snap = np.ascontiguousarray(decode_image(path.read_bytes())[:, ::-1])
    on, why = lipstick_on(snap, camera_scene)
    assert on, why
    taken = read_counter(snap)
    assert shown is not None
    assert taken is not None
    # Reading the screen back (canvas → PNG → here) takes a moment, during which the video moves
    # on; the exact match is the header's. This only checks the frame is from that moment.
    assert 0 <= (taken - shown) % CLIP_FRAMES <= 10, (shown, taken)

    # The language switch re-labels the page without dropping the session.
    english = await page.inner_text("#snapshot")
    await page.select_option("#lang", "fr")
    assert await page.inner_text("#snapshot") != english
    assert await page.evaluate("document.documentElement.lang") == "fr"
    assert await page.evaluate("window.tryon.state") == "live"
    assert errors == []
    # The whole visit (camera, product, shades, snapshot, language) ran under the page's policy.
    assert await csp_violations(page, console) == []
    # And the policy is enforced, and its violations are seen: an injected inline script is blocked.
    await page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.__ran = 1';"
        " document.body.append(s); }"
    )
    await wait_for(page, "window.__csp.length > 0", 5)
    assert await page.evaluate("window.__ran") is None
    assert "script-src" in (await csp_violations(page, console))[0]


async def test_deep_link_opens_wearing_the_product(
    server: TestServer, browser: Any, camera_scene: NDArray[np.uint8]
) -> None:
    page = await browser.new_page(locale="fr-FR")
    await page.goto(str(server.make_url(f"/?product={LIPSTICK}")))
    assert await page.evaluate("document.documentElement.lang") == "fr"
    await page.click("#start-camera")
    await wait_live(page)
    await wait_lipstick(page, camera_scene)


async def test_refused_camera_gets_a_clear_message(server: TestServer) -> None:
    async with chromium("--deny-permission-prompts") as b:
        page = await b.new_page(locale="en-US")
        await page.goto(str(server.make_url("/")))
        await page.click("#start-camera")
        await page.wait_for_selector('#message[data-kind="error"]', state="visible", timeout=15_000)
        text = await page.inner_text("#message")
        assert "camera" in text.lower()


async def test_garment_detail_shows_its_size_chart(server: TestServer, browser: Any) -> None:
    """A garment's size chart comes from the catalog data and is shown, in the page's language,
    with the product's details; a product without one shows none."""
    page = await browser.new_page(locale="en-US")
    await page.goto(str(server.make_url("/?product=holiday-fair-isle-pyjama-top-child")))
    await page.wait_for_selector(".size-chart", timeout=15_000)
    rows = await page.eval_on_selector_all(
        ".size-chart tr", "rows => rows.map(r => [...r.cells].map(c => c.textContent))"
    )
    assert rows[0] == ["Size", "Chest", "Length"], rows
    assert rows[1:] == [
        ["4-5y", "62", "42"],
        ["6-8y", "68", "45"],
        ["9-11y", "76", "50"],
        ["12-13y", "82", "55"],
    ]
    assert await page.inner_text(".size-chart caption") == "Size chart (cm)"
    await page.goto(str(server.make_url(f"/?product={LIPSTICK}")))
    await page.wait_for_selector(".detail-desc", timeout=15_000)
    assert await page.query_selector(".size-chart") is None


async def test_product_groups_and_kind_names_come_from_the_registry(server: TestServer, browser: Any) -> None:
    """The filter chips are the registry's groups, named in the page's language, watches and
    bracelets included; a card's kind is named from the registry too."""
    from tryon.catalog.kinds import GROUPS, REGISTRY

    page = await browser.new_page(locale="fr-FR")
    await page.goto(str(server.make_url("/")))
    await page.wait_for_selector(".kind-chip", timeout=15_000)
    chips = await page.eval_on_selector_all(
        ".kind-chip", "cs => cs.map(c => [c.dataset.group, c.textContent])"
    )
    names = dict(chips)
    for group in GROUPS:
        assert names.get(group.id) == group.names["fr"], (group.id, names)
    await page.click('.kind-chip[data-group="wrist"]')
    shown = await page.eval_on_selector_all(
        ".product-card:not([hidden]) .card-kind", "ks => ks.map(k => k.textContent)"
    )
    assert shown, "no product under the wrist group"
    assert set(shown) <= {REGISTRY["watch"].names["fr"], REGISTRY["bracelet"].names["fr"]}, shown
