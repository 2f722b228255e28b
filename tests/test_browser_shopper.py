"""The shopper's page as a new shopper meets it (issue 20), in Debian's Chromium driven by
Playwright, at a desktop size (1280×800) and a phone size (390×844), with a fake camera:

- no "null" under a product's description; a clashing pick replaces the old product, says so and
  can be undone (the catalog's slots; the server's ack agrees); intensity only for makeup (per item
  and overall), none for a tee; swatches from each variant's ``swatch`` with the shade's name under
  it; Buy takes the chosen shade's own link (card, look and details);
- layout: the video and the chosen product's shades stay in view while browsing (a product at the
  end of the list at 1280×800; the page scrolled and the rail scrolled at 390×844), and the
  category row shows that it scrolls;
- the camera's hints from the stats' ``seen`` (nails in the look, no hand: "Show your hand");
  Pause freezes the picture (two reads of it are equal) and the snapshot is mirrored like the
  preview;
- photo errors in plain words on the stage, the Another photo / Close buttons uncovered; a photo
  with no face says which products could not be shown;
- no Stats switch without ``?hud=1``; the look kept across a reload and carried by the URL; long
  names in the look's chips cut with an ellipsis, whole in their tooltip; the catalog asked in the
  page's language, and the titles say try-on / my look.

TRYON_SCREENSHOTS=1 writes docs/shopper-desktop.png and docs/shopper-phone.png. Skipped when
/usr/bin/chromium is missing, unless TRYON_REQUIRE_BROWSER=1.
"""

from __future__ import annotations

import base64
import contextlib
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import pytest_asyncio
from aiohttp.test_utils import TestServer
from browser_helpers import (
    ContextPage,
    browser_fixture,
    clip_fixture,
    require_chromium,
    screenshot,
    serving,
    wait_for,
)

from tryon.media import decode_image, encode_png
from webrtc import ServerConfig

pytestmark = [pytest.mark.asyncio, pytest.mark.slow, pytest.mark.browser]
require_chromium()

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
TEE = "everyday-crew-tee"
DRESS = "garden-floral-wrap-dress"
LIPSTICK = "velvet-matte-lipstick"
NAILS = "lacquer-lab-cream-polish"
OPTICAL = "harbor-round-optical"
SUNGLASSES = "riviera-aviator-sunglasses"
LONG = "holiday-fair-isle-pyjama-top-adult"

# The portrait in slow motion (a face, no hand): 60 frames, looped by Chromium.
clip = clip_fixture(60, counter=False)
browser = browser_fixture()


@pytest_asyncio.fixture
async def server() -> AsyncIterator[TestServer]:
    async with serving(ServerConfig()) as srv:
        yield srv


@contextlib.asynccontextmanager
async def shopper(browser: Any, viewport: dict[str, int], **kw: Any) -> AsyncIterator[Any]:
    """A page (its own context: its own storage) that fails the test on a page error or a
    Content-Security-Policy violation."""
    p = await ContextPage.open(browser, viewport=viewport, **kw)
    try:
        yield p.page
        assert await p.problems() == []
    finally:
        await p.page.context.close()


async def look(page: Any) -> list[str]:
    return [str(s).split(":")[0] for s in await page.evaluate("window.tryon.look")]


async def pick(page: Any, product: str) -> None:
    await page.click(f'.product-card[data-product-id="{product}"] .card-select')


async def in_view(page: Any, selector: str) -> bool:
    """Whether the element is wholly inside the window."""
    return bool(
        await page.eval_on_selector(
            selector,
            """n => { const r = n.getBoundingClientRect();
                      return r.height > 0 && r.top >= -1 && r.left >= -1
                        && r.bottom <= innerHeight + 1 && r.right <= innerWidth + 1; }""",
        )
    )


async def uncovered(page: Any, selector: str) -> bool:
    """Whether a click at the element's centre lands on it (visible, nothing over it)."""
    return bool(
        await page.eval_on_selector(
            selector,
            """n => { const r = n.getBoundingClientRect();
                      if (!r.width || !r.height) return false;
                      const at = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
                      return !!at && (at === n || n.contains(at)); }""",
        )
    )


async def canvas_png(page: Any, selector: str) -> bytes:
    url = await page.eval_on_selector(selector, "c => c.toDataURL('image/png')")
    return base64.b64decode(url.split(",", 1)[1])


async def test_desktop_look_rules_shades_layout_and_kept_look(
    server: TestServer, browser: Any, tmp_path: Path
) -> None:
    async with shopper(browser, DESKTOP) as page:
        catalog_langs: list[str] = []
        page.on(
            "request",
            lambda r: catalog_langs.append(r.url.split("lang=")[-1]) if "/api/catalog" in r.url else None,
        )
        await page.goto(str(server.make_url(f"/?product={DRESS}")))
        await wait_for(page, "document.querySelectorAll('.product-card').length > 40")
        assert catalog_langs == ["en"]
        catalog = await page.evaluate("fetch('/api/catalog').then(r => r.json())")
        products = {p["id"]: p for p in catalog["products"]}
        assert await look(page) == [DRESS]

        # 12. No developer switch for shoppers; the titles speak of try-on and the look.
        assert not await page.is_visible("#stats-toggle")
        assert not await page.is_visible("#stats")
        assert await page.inner_text("#look-title") == "My look"

        # 1. No "null" under a garment's or a lipstick's description.
        for product in (DRESS, LIPSTICK):
            if product not in await look(page):
                await pick(page, product)
            await wait_for(
                page,
                f"document.querySelector('#product-detail h3')?.textContent"
                f" === {products[product]['name']!r}",
            )
            text = await page.inner_text(".detail-panel")
            assert not re.search(r"\bnull\b|\bundefined\b", text), text
        await page.click(f'.look-item[data-product-id="{LIPSTICK}"] .look-remove')

        # 2. A tee replaces the dress (they share the upper body): said, and undone.
        await pick(page, TEE)
        assert await look(page) == [TEE]
        message = await page.inner_text("#message")
        assert f"{products[TEE]['name']} replaced your {products[DRESS]['name']}" in message, message
        await page.click("#look-undo")
        assert await look(page) == [DRESS]
        assert await page.inner_text("#message") == ""
        # Sunglasses replace optical glasses; a jacket layers over a top (no clash).
        await pick(page, TEE)
        await pick(page, "classic-denim-jacket")
        await pick(page, OPTICAL)
        await pick(page, SUNGLASSES)
        assert await look(page) == [TEE, "classic-denim-jacket", SUNGLASSES]
        assert products[OPTICAL]["name"] in await page.inner_text("#message")

        # 3. No intensity for garments and accessories; makeup has its own and the overall one.
        await page.click(f'.product-card[data-product-id="{TEE}"] .card-select')
        assert not await page.is_visible("#intensity")
        assert not await page.is_visible("#item-intensity")
        await pick(page, LIPSTICK)
        assert await page.is_visible("#intensity")
        assert await page.is_visible("#item-intensity")
        await page.fill("#item-intensity", "40")
        assert await page.inner_text("#item-intensity-value") == "40%"

        # 5. Swatches from each variant's swatch, the shade's name under each; two sunglasses
        # shades differ. 8. Buy: the shade's own link, in the details and the look.
        await pick(page, SUNGLASSES)
        variants = products[SUNGLASSES]["variants"]
        swatches = await page.eval_on_selector_all(
            "#shades .shade",
            "ss => ss.map(s => [s.querySelector('.swatch').dataset.swatch,"
            " s.querySelector('.shade-name').textContent])",
        )
        assert [name for _, name in swatches] == [v["name"] for v in variants]
        assert [sw for sw, _ in swatches] == [v["swatch"] for v in variants]
        assert len({sw for sw, _ in swatches}) == len(variants), swatches
        await page.click(f'#shades .swatch[data-variant-id="{variants[1]["id"]}"]')
        assert await page.get_attribute(".detail-buy", "href") == variants[1]["buy_url"]
        chip = f'.look-item[data-product-id="{SUNGLASSES}"]'
        assert await page.get_attribute(f"{chip} a.buy", "href") == variants[1]["buy_url"]
        card_buy = f'.product-card[data-product-id="{SUNGLASSES}"] a.buy'
        assert await page.get_attribute(card_buy, "href") == variants[1]["buy_url"]

        # 13. A long name stays readable: cut with an ellipsis, whole in the tooltip.
        await pick(page, LONG)
        chip = f'.look-item[data-product-id="{LONG}"]'
        full = await page.get_attribute(chip, "title")
        assert full is not None
        assert full.startswith(products[LONG]["name"])
        assert (
            await page.eval_on_selector(f"{chip} .look-name", "n => getComputedStyle(n).textOverflow")
            == "ellipsis"
        )
        assert await page.eval_on_selector(
            chip, "n => n.getBoundingClientRect().right <= n.closest('.panel').getBoundingClientRect().right"
        )

        # 4. The last product of the list, picked: its shades and the video stay in view; the
        # category row shows it scrolls.
        last = await page.eval_on_selector_all(
            ".product-card:not(.is-disabled)", "cs => cs.at(-1).dataset.productId"
        )
        await page.eval_on_selector(f'.product-card[data-product-id="{last}"]', "n => n.scrollIntoView()")
        await pick(page, last)
        assert await page.eval_on_selector("#shades", "n => n.dataset.productId") == last
        assert await in_view(page, "#shades")
        assert await in_view(page, "#stage")
        assert await page.eval_on_selector("#kind-filters", "n => n.scrollWidth > n.clientWidth")
        assert "more-right" in (await page.get_attribute("#kind-filters", "class") or "")

        # 13. The URL carries the look; a reload (even of the bare page) keeps it.
        worn = await page.evaluate("window.tryon.look")
        assert re.search(r"[?&]product=([^&]+)", page.url).group(1).split(",") == worn  # type: ignore[union-attr]
        shared = page.url
        await page.goto(str(server.make_url("/")))
        await wait_for(page, "document.querySelectorAll('.product-card').length > 40")
        assert await page.evaluate("window.tryon.look") == worn
        assert page.url == shared
        assert await page.eval_on_selector(f'.look-item[data-product-id="{LIPSTICK}"]', "n => !!n")
        await page.click(f'.look-item[data-product-id="{LIPSTICK}"] .look-name')
        assert await page.input_value("#item-intensity") == "40"

        # 6. The catalog in the page's language, asked again on a switch; the Chinese titles.
        await page.select_option("#lang", "zh")
        await wait_for(page, "window.tryon.lang === 'zh'")
        await page.wait_for_load_state("networkidle")
        assert catalog_langs[-1] == "zh", catalog_langs
        assert await page.inner_text(".brand-title") == "虚拟试穿"
        assert await page.inner_text("#look-title") == "我的搭配"
        zh = await page.evaluate("fetch('/api/catalog?lang=zh').then(r => r.json())")
        name = next(p["name"] for p in zh["products"] if p["id"] == LIPSTICK)
        assert name != products[LIPSTICK]["name"]
        card_name = f'.product-card[data-product-id="{LIPSTICK}"] .card-name'
        await wait_for(page, f"document.querySelector({card_name!r}).textContent === {name!r}")
        assert name in await page.inner_text("#look")
        await page.select_option("#lang", "en")

        # 12. ?hud=1: the Stats switch, on.
        await page.goto(str(server.make_url("/?hud=1")))
        await wait_for(page, "document.querySelectorAll('.product-card').length > 40")
        assert await page.is_visible("#stats-toggle")
        assert await page.is_checked("#stats-toggle")

        await page.goto(shared)
        await wait_for(page, "document.querySelectorAll('.product-card').length > 40")
        await page.click(f'.look-item[data-product-id="{SUNGLASSES}"] .look-name')
        await page.click("#start-camera")
        await wait_for(page, "document.body.dataset.state === 'live'", 30)
        await page.wait_for_timeout(1500)
        await screenshot(page, "shopper-desktop.png", tmp_path)


async def test_phone_hints_pause_and_video_in_view(server: TestServer, browser: Any, tmp_path: Path) -> None:
    async with shopper(browser, PHONE, accept_downloads=True) as page:
        # A catalog without slots (an older server's): the page cannot tell that sunglasses replace
        # glasses, the server's ack says so and the page follows it.
        async def no_slots(route: Any) -> None:
            response = await route.fetch()
            body = await response.json()
            body.pop("slots", None)
            await route.fulfill(response=response, json=body)

        await page.route("**/api/catalog*", no_slots)
        await page.goto(str(server.make_url(f"/?product={NAILS}:cherry-red")))
        await wait_for(page, "document.querySelectorAll('.product-card').length > 40")

        # 4. The page scrolled to its end and the rail scrolled sideways: the video stays in view,
        # and the shades under the rail with it.
        await page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
        await page.eval_on_selector("#products", "n => { n.scrollLeft = n.scrollWidth; }")
        await page.wait_for_timeout(100)
        assert await page.evaluate("scrollY") > 200
        assert await in_view(page, "#stage")
        # A card picked on the rail as a thumb would (the rail scrolled to it, no page jump): the rail
        # comes up under the video, the shades under it: all three in view.
        card = f'.product-card[data-product-id="{LIPSTICK}"]'
        await page.eval_on_selector(card, "n => { n.parentNode.scrollLeft = n.offsetLeft - 20; }")
        await page.eval_on_selector(f"{card} .card-select", "n => n.click()")
        await page.wait_for_timeout(900)  # the smooth scroll
        assert await page.eval_on_selector("#shades", "n => n.dataset.productId") == LIPSTICK
        for part in ("#stage", card, "#shades"):
            assert await in_view(page, part), part
        assert await page.eval_on_selector(
            "#stage",
            "(s, c) => s.getBoundingClientRect().bottom"
            " <= document.querySelector(c).getBoundingClientRect().top",
            card,
        )
        await page.click(f'.look-item[data-product-id="{LIPSTICK}"] .look-remove')
        await page.evaluate("window.scrollTo(0, 0)")

        # 9. Nails in the look and no hand in view: "Show your hand to the camera".
        await page.click("#start-camera")
        await wait_for(page, "document.body.dataset.state === 'live'", 30)
        await wait_for(page, "window.tryon.hint === 'hint.hand'", 15)
        assert await page.is_visible("#hint")
        assert await page.inner_text("#hint") == "Show your hand to the camera"
        seen = await page.evaluate("window.tryon.lastStats.seen")
        assert seen["hands"] == 0, seen
        # 2. The server's rule, from its ack: the sunglasses replace the glasses, said with an Undo.
        await pick(page, OPTICAL)
        await pick(page, SUNGLASSES)
        await wait_for(page, f"!window.tryon.look.some(s => s.startsWith({OPTICAL!r}))", 10)
        assert await look(page) == [NAILS, SUNGLASSES]
        assert "Riviera Aviator Sunglasses replaced your Harbor Round Optical" in await page.inner_text(
            "#message"
        )
        await page.click(f'.look-item[data-product-id="{SUNGLASSES}"] .look-remove')
        # Lipstick instead of the polish: the face is in view, no hint.
        await pick(page, LIPSTICK)
        await page.click(f'.look-item[data-product-id="{NAILS}"] .look-remove')
        await wait_for(page, "window.tryon.lastStats?.look?.length === 1 && window.tryon.hint === null", 15)
        assert not await page.is_visible("#hint")

        # 10. Pause freezes the picture: two reads of it a moment apart are the same.
        await page.click("#pause")
        await wait_for(page, "window.tryon.frozen === true")
        assert await page.is_visible("#freeze")
        first = await canvas_png(page, "#freeze")
        await page.wait_for_timeout(600)
        assert await canvas_png(page, "#freeze") == first
        assert await page.inner_text("#badge") == "Paused"
        # The snapshot is the frozen picture, mirrored as the preview is.
        async with page.expect_download() as info:
            await page.click("#snapshot")
        path = tmp_path / "paused.png"
        await (await info.value).save_as(str(path))
        shot = decode_image(path.read_bytes())
        frozen = decode_image(first)
        assert shot.shape == frozen.shape
        assert np.abs(shot.astype(int) - frozen[:, ::-1].astype(int)).mean() < 1.0
        await page.click("#pause")
        await wait_for(page, "window.tryon.frozen === false")
        assert not await page.is_visible("#freeze")
        # The picture for docs/: the rail brought up under the video by a pick, the shades under it.
        await page.eval_on_selector(f"{card} .card-select", "n => n.click()")
        await page.wait_for_timeout(1200)
        assert await in_view(page, "#stage")
        assert await in_view(page, "#shades")
        await screenshot(page, "shopper-phone.png", tmp_path)


async def test_photo_problems_in_plain_words(server: TestServer, browser: Any) -> None:
    async with shopper(browser, PHONE) as page:
        await page.goto(str(server.make_url(f"/?product={LIPSTICK}")))
        await wait_for(page, "document.querySelectorAll('.product-card').length > 40")

        async def photo(name: str, mime: str, data: bytes) -> str:
            await page.set_input_files(
                "#photo-input", files=[{"name": name, "mimeType": mime, "buffer": data}]
            )
            await page.wait_for_selector("#stage-note", state="visible", timeout=15_000)
            text = await page.inner_text("#stage-note")
            assert not re.search(r"photo:|OpenCV|expected|HTTP|\bgot\b", text), text
            assert await uncovered(page, "#photo-change")
            assert await uncovered(page, "#stop")
            return str(text)

        assert "not a JPEG, PNG or WebP image" in await photo(
            "a.png", "image/png", b"this is no image at all"
        )
        await page.click(".stage-note-close")
        assert not await page.is_visible("#stage-note")
        broken = encode_png(np.full((64, 64, 3), 128, np.uint8))[:80]
        assert "could not be opened" in await photo("b.png", "image/png", broken)
        # A photo without a face: which products could not be shown, and why.
        blank = encode_png(np.full((240, 320, 3), 170, np.uint8))
        text = await photo("c.png", "image/png", blank)
        assert text.startswith("No face found in this photo, so Velvet Matte Lipstick could not be shown"), (
            text
        )
        await page.click("#stop")
        assert not await page.is_visible("#stage-note")
