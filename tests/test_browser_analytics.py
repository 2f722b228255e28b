"""Engagement analytics in Debian's Chromium (headless, driven by Playwright), through the embedded
relay (docs/show.md, "Engagement analytics").

The show: the studio (one browser context) starts a show and sets "now showing"; a phone-sized viewer
(a second context) sees the card (an impression), likes, asks "does it come in red?", clicks Buy (the
shop's tab is intercepted) and tries the product on with its fake camera; within seconds the studio's
board shows that product on top with its try, its buy and the like while it showed, the question in
the queue (and marked in the comments); "Answered" removes it for good. A behaviour rule (worn 2 s)
sends the viewer's try-on a promotion: one banner, its code copied, dismissed. The host shows a
second product, the viewer tries that one: two rows, a median dwell for the first.

The shopper's page: a live session wears the lipstick; opening another product's details counts an
impression (X-TryOn-Session), Buy counts a buy_click, "Tried this, also tried" names the lipstick and
a click on it selects it; a promotion on the control channel shows its banner.

No CSP violation, no page error. Skipped when /usr/bin/chromium is missing, unless
TRYON_REQUIRE_BROWSER=1 (CI sets it). Never uses `playwright install`. TRYON_SCREENSHOTS=1 writes
docs/board.png (the studio's board and questions).
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Self

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestServer
from browser_helpers import (
    BACKGROUND_ARGS,
    ContextPage,
    browser_fixture,
    clip_fixture,
    require_chromium,
    screenshot,
    serving,
)
from live_helpers import LIPSTICK
from show_helpers import HOST_KEY

from webrtc import ServerConfig
from webrtc.app import SERVER_KEY

pytestmark = [pytest.mark.asyncio, pytest.mark.slow, pytest.mark.browser]
require_chromium()

PRODUCT, SHADE = LIPSTICK.split(":")
SECOND = "lit-glow-blush"
QUESTION = "does it come in red?"
CLIP_FRAMES = 60
RULES = [
    {
        "id": "lips-tried",
        "code": "LIPS10",
        "discount_pct": 10,
        "target": {"kind": "lipstick"},
        "trigger": {"tried_s": 2},
        "message": {
            "en": "10% off the lipstick you just tried",
            "fr": "10 % sur le rouge à lèvres essayé",
            "zh": "您刚试过的口红九折",
        },
    }
]

clip = clip_fixture(CLIP_FRAMES, counter=False)
browser = browser_fixture(*BACKGROUND_ARGS)


@pytest_asyncio.fixture
async def server(tmp_path: Path) -> AsyncIterator[TestServer]:
    rules = tmp_path / "promotions.json"
    rules.write_text(json.dumps(RULES))
    async with serving(ServerConfig(host_key=HOST_KEY, relay_viewers=4, promotions=str(rules))) as srv:
        yield srv


class Page(ContextPage):
    """A page in its own browser context, recording its errors and CSP violations; requests to
    other sites (the shop behind Buy) answered by the test, never sent."""

    @classmethod
    async def open(cls, browser: Any, *scripts: str, locale: str = "en-US", **kw: Any) -> Self:
        p = await super().open(
            browser, *scripts, locale=locale, permissions=["clipboard-read", "clipboard-write"], **kw
        )
        await p.page.context.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/])"), shop)
        return p


async def shop(route: Any) -> None:
    await route.fulfill(status=200, content_type="text/html", body="<!doctype html><title>shop</title>")


def row_of(product: str) -> str:
    return f"window.studio.board?.products.find((r) => r.product === {product!r})"


async def board_screenshot(page: Any, tmp_path: Path) -> None:
    """The studio's questions and board (a 256-colour PNG): docs/board.png with TRYON_SCREENSHOTS=1."""
    box = await page.evaluate(
        """() => {
            const a = document.querySelector('.studio-row').getBoundingClientRect();
            const b = document.querySelector('.board-panel').getBoundingClientRect();
            const left = Math.min(a.left, b.left);
            return {x: left - 8, y: a.top - 8 + window.scrollY,
                    width: Math.max(a.right, b.right) - left + 16, height: b.bottom - a.top + 16};
        }"""
    )
    await screenshot(page, "board.png", tmp_path, clip=box, full_page=True)


async def test_the_board_shows_what_viewers_try_like_ask_and_buy(
    server: TestServer, browser: Any, tmp_path: Path
) -> None:
    # -- the studio starts a show and shows the lipstick (no camera needed for the board) ---------
    s = await Page.open(browser, viewport={"width": 1400, "height": 1000})
    studio = s.page
    await studio.goto(str(server.make_url("/studio")))
    await studio.fill("#key-input", HOST_KEY)
    await studio.click("#start-show")
    await s.wait("window.studio.status === 'ready'")
    assert await studio.is_hidden("#board")
    assert await studio.is_visible("#board-empty")
    assert await studio.is_visible("#questions-empty")
    await s.wait("document.querySelectorAll('#showing-product option').length > 1")
    await studio.select_option("#showing-product", PRODUCT)
    await studio.select_option("#showing-shade", SHADE)
    await studio.click("#showing-set")
    link = await studio.input_value("#viewer-link")

    # -- a viewer sees the card (an impression), likes, asks, clicks Buy -------------------------
    v = await Page.open(browser, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    viewer = v.page
    await viewer.goto(link)
    await v.wait(f"window.show.showing?.product === {PRODUCT!r}")
    await v.wait("document.querySelector('#comment-input').disabled === false")
    await viewer.click("#like")
    await viewer.fill("#comment-input", QUESTION)
    await viewer.click("#comment-send")
    # The server understands the first comment of its life after loading its analyser: a few seconds.
    await v.wait(f"window.show.comments.includes({QUESTION!r})", 15)
    buy_url = await viewer.get_attribute("#buy", "href")
    async with viewer.expect_popup() as popup_info:
        await viewer.click("#buy")
    popup = await popup_info.value
    assert popup.url.rstrip("/") == buy_url.rstrip("/")
    await popup.close()
    # The impression and the buy click were accepted (the Buy click leaves at once, keepalive).
    await v.wait("window.show.events.accepted >= 2", 8)
    assert await viewer.evaluate("window.show.events.rejected") == 0

    # -- "Try it on me": the viewer's camera wears the lipstick ----------------------------------
    await viewer.click("#try-on")
    await v.wait("window.show.tryState === 'live'", 30)

    # -- the board: the lipstick on top with its try, its buy, the like; the question waiting ----
    row = await s.wait(f"(() => {{ const r = {row_of(PRODUCT)}; return r && r.tries >= 1 && r; }})()", 10)
    assert row["buys"] >= 1, row
    assert row["likes_showing"] >= 1, row
    assert row["conversion"] == pytest.approx(row["buys"] / row["tries"], abs=1e-3)
    assert await studio.evaluate("window.studio.board.showing") == PRODUCT
    assert await studio.evaluate("window.studio.board.products[0].product") == PRODUCT
    sel = f'#board-rows tr[data-product-id="{PRODUCT}"]'
    assert "is-showing" in (await studio.get_attribute(sel, "class") or "")
    assert await studio.inner_text(f"{sel} .board-name") == "Velvet Matte Lipstick"
    assert int(await studio.inner_text(f'{sel} [data-stat="tries"]')) >= 1
    assert int(await studio.inner_text(f'{sel} [data-stat="buys"]')) >= 1
    assert int(await studio.inner_text(f'{sel} [data-stat="likes"]')) >= 1
    assert await studio.get_attribute(f"{sel} .board-trend", "data-trend") in ("up", "flat", "down")
    assert (
        await studio.eval_on_selector(
            f"{sel} svg.spark polyline", "p => p.getAttribute('points').split(' ').length"
        )
        == 15
    )
    await s.wait(f"window.studio.questions.some((q) => q.text === {QUESTION!r})", 5)
    question = await studio.evaluate(f"window.studio.questions.find((q) => q.text === {QUESTION!r})")
    assert question["products"] == [PRODUCT], question
    item = f'#questions .question[data-question-id="{question["id"]}"]'
    assert await studio.inner_text(f"{item} .question-text") == QUESTION
    assert await studio.inner_text(f"{item} .question-product") == "Velvet Matte Lipstick"
    assert re.search(r"ago|now", await studio.inner_text(f"{item} .question-ago")), "no 'how long ago'"
    assert await studio.inner_text("#questions-count") == "1"
    # The comment itself is marked as a question in the studio's list.
    marked = await studio.eval_on_selector_all(
        "#comments .comment.is-question .comment-text", "ns => ns.map((n) => n.textContent)"
    )
    assert marked == [QUESTION], marked
    assert await studio.query_selector("#comments .comment.is-question .question-mark") is not None

    # -- a promotion: the lipstick worn 2 s; its banner once, the code copied, dismissed ----------
    await v.wait("document.querySelector('.promo') !== null", 10)
    assert await viewer.inner_text(".promo .promo-code") == "LIPS10"
    assert "10% off the lipstick you just tried" in await viewer.inner_text(".promo .promo-message")
    assert "10% off" in await viewer.inner_text(".promo .promo-about")
    await viewer.screenshot(path=str(tmp_path / "viewer-promotion.png"))
    await viewer.click(".promo .promo-copy")
    assert await viewer.evaluate("navigator.clipboard.readText()") == "LIPS10"
    assert await viewer.inner_text(".promo .promo-copy") == "Copied!"
    assert await viewer.evaluate("document.querySelectorAll('.promo').length") == 1
    await viewer.click(".promo .promo-close")
    assert await viewer.query_selector(".promo") is None
    assert await viewer.evaluate("window.show.promotions().seen") == ["lips-tried"]

    # -- the host shows a second product; the viewer tries it: two rows, the first one's dwell ----
    await studio.select_option("#showing-product", SECOND)
    await studio.click("#showing-set")
    await v.wait(f"window.show.showing?.product === {SECOND!r}", 5)
    await viewer.click("#try-on")  # "Try this one": the look follows the card
    second = await s.wait(f"(() => {{ const r = {row_of(SECOND)}; return r && r.tries >= 1 && r; }})()", 10)
    assert second["buys"] == 0, second
    first = await s.wait(
        f"(() => {{ const r = {row_of(PRODUCT)}; return r && r.median_dwell_s !== null && r; }})()", 6
    )
    assert first["median_dwell_s"] > 0, first
    assert await studio.inner_text(f'{sel} [data-stat="dwell"]') != "–"
    assert "is-showing" in (
        await studio.get_attribute(f'#board-rows tr[data-product-id="{SECOND}"]', "class") or ""
    )
    assert "is-showing" not in (await studio.get_attribute(sel, "class") or "")
    await board_screenshot(studio, tmp_path)

    # -- "Answered": the question leaves the queue, and stays gone after the next boards ---------
    await studio.click(f"{item} .question-done")
    await s.wait(f"document.querySelector('{item}') === null", 5)
    assert await studio.is_visible("#questions-empty")
    boards = await studio.evaluate("window.studio.events")
    await s.wait(f"window.studio.events >= {boards} + 2", 8)  # a board or two later
    assert await studio.query_selector(item) is None
    assert await studio.evaluate("window.studio.questions.length") == 0

    # -- the studio in French: the board's words follow --------------------------------------------
    await studio.select_option("#lang", "fr")
    assert await studio.inner_text("#board-title") == "Produits phares"
    assert await studio.inner_text(f"{sel} .board-name") == "Velvet Matte Lipstick"

    await viewer.click("#back-to-show")
    await v.wait("window.show.tryState === 'none'")
    assert await s.problems() == []
    assert await v.problems() == []
    with contextlib.suppress(Exception):
        await viewer.context.close()
        await studio.context.close()


async def test_the_shopper_page_counts_impressions_and_buys_and_recommends(
    server: TestServer, browser: Any
) -> None:
    # No show exists: a shopper on their own gets promotions too (the server's own timer).
    p = await Page.open(browser, viewport={"width": 1280, "height": 900})
    page = p.page
    await page.goto(str(server.make_url(f"/?product={LIPSTICK}")))
    await p.wait("window.tryon.events !== undefined")
    await page.click("#start-camera")
    await p.wait("window.tryon.state === 'live'", 30)
    session = await page.evaluate("window.tryon.session")
    assert session in server.app[SERVER_KEY].sessions

    # Another product's details: an impression; the shopper puts it on (a second try in the session).
    await page.click(f'.product-card[data-product-id="{SECOND}"]')
    await p.wait("window.tryon.events.accepted >= 2", 8)  # the lipstick's details, then the blush's
    requests: list[dict[str, str]] = []
    page.on("request", lambda r: requests.append(r.headers) if r.url.endswith("/api/events") else None)
    card = f'.product-card[data-product-id="{SECOND}"]'
    async with page.expect_popup() as popup_info:
        await page.click(f"{card} a.buy")
    await (await popup_info.value).close()
    await p.wait("window.tryon.events.accepted >= 3", 8)
    assert requests, "Buy sent no event"
    assert requests[-1].get("x-tryon-session") == session, requests
    assert await page.evaluate("window.tryon.events.rejected") == 0

    # "Tried this, also tried": the lipstick, tried in the same session; a click selects it.
    await p.wait(f"window.tryon.recs?.also_tried?.includes({PRODUCT!r})", 10)
    assert await page.is_visible("#recs")
    assert await page.inner_text('#recs [data-recs="also_tried"] .recs-title') == "Tried this, also tried"
    rec = f'#recs [data-recs="also_tried"] .rec[data-product-id="{PRODUCT}"]'
    assert await page.query_selector(rec) is not None
    await page.click(rec)
    await p.wait(f"document.querySelector('#shades').dataset.productId === {PRODUCT!r}")

    # The lipstick worn past 2 s: its promotion arrives on the control channel, as a banner.
    await p.wait("document.querySelector('.promo') !== null", 10)
    assert await page.inner_text(".promo .promo-code") == "LIPS10"
    await page.select_option("#lang", "zh")
    assert "九折" in await page.inner_text(".promo .promo-message")
    assert await page.inner_text(".promo .promo-copy") == "复制优惠码"
    await page.click(".promo .promo-close")
    assert await page.query_selector(".promo") is None
    assert await p.problems() == []
    with contextlib.suppress(Exception):
        await page.context.close()
