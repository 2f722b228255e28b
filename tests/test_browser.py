"""The shopper's page in Debian's Chromium (headless, driven by Playwright), with a fake camera
playing a y4m clip of a portrait in motion: the page connects (camera only: no microphone in its
offer), a product is clicked, the remote video shows the try-on, the snapshot downloads, the
language switches, a deep link works.

Skipped when /usr/bin/chromium is missing, unless TRYON_REQUIRE_BROWSER=1 (CI sets it: there a
missing browser is a failure). Never uses `playwright install`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import pytest_asyncio
from aiohttp.test_utils import TestServer
from browser_helpers import (
    CLIP_FRAMES,
    ContextPage,
    browser_fixture,
    chromium,
    clip_fixture,
    lipstick_on,
    require_chromium,
    serving,
    video_frame,
    wait_for,
    wait_lipstick,
)
from live_helpers import LIPSTICK
from numpy.typing import NDArray

from tryon.media import decode_image
from webrtc import ServerConfig
from webrtc.probe import read_counter

pytestmark = [pytest.mark.asyncio, pytest.mark.slow, pytest.mark.browser]
require_chromium()

clip = clip_fixture()
browser = browser_fixture()


@pytest_asyncio.fixture
async def server() -> AsyncIterator[TestServer]:
    async with serving(ServerConfig()) as srv:
        yield srv


async def wait_live(page: Any) -> None:
    await wait_for(page, "document.body.dataset.state === 'live'", 30)


async def test_page_tries_a_product_on_the_fake_camera_and_downloads_a_snapshot(
    server: TestServer, browser: Any, camera_scene: NDArray[np.uint8], tmp_path: Path
) -> None:
    p = await ContextPage.open(browser, accept_downloads=True)
    page = p.page
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
    frame = await video_frame(page, "#remote-video")
    assert not lipstick_on(frame, camera_scene)[0], "lipstick before any product was picked"

    await page.click('.product-card[data-product-id="velvet-matte-lipstick"]')
    await page.click('.swatch[data-variant-id="ruby-red"]')
    await wait_lipstick(page, "#remote-video", camera_scene)
    await page.screenshot(path=str(tmp_path / "page.png"))
    # The server pushes stats about once a second: wait for one sent after the look changed.
    await wait_for(page, "window.tryon.lastStats?.look?.length === 1", 5)
    stats = await page.evaluate("window.tryon.lastStats")
    assert stats["look"] == [LIPSTICK]
    assert stats["frames_out"] > 0

    shown = read_counter(await video_frame(page, "#remote-video"))
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
    # The whole visit (camera, product, shades, snapshot, language) ran under the page's policy,
    # without a page error.
    assert await p.problems() == []
    # And the policy is enforced, and its violations are seen: an injected inline script is blocked.
    await page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.__ran = 1';"
        " document.body.append(s); }"
    )
    await wait_for(page, "window.__csp.length > 0", 5)
    assert await page.evaluate("window.__ran") is None
    assert "script-src" in (await page.evaluate("window.__csp"))[0]


async def test_deep_link_opens_wearing_the_product(
    server: TestServer, browser: Any, camera_scene: NDArray[np.uint8]
) -> None:
    page = await browser.new_page(locale="fr-FR")
    await page.goto(str(server.make_url(f"/?product={LIPSTICK}")))
    assert await page.evaluate("document.documentElement.lang") == "fr"
    await page.click("#start-camera")
    await wait_live(page)
    await wait_lipstick(page, "#remote-video", camera_scene)


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
