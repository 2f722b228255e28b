"""The developers' HUD (issue 21) in Debian's Chromium (headless, Playwright), with a fake camera
playing a y4m clip: none without ``?hud=1``; with it, the HUD's numbers are the stats message's
(fps out, server latency, the stages by name, the provider and threads), its frame-rate graph grows,
Shift+D toggles it (remembered in the tab), and "Record" (``?trace=2``: 2 s) writes a trace into the
server's ``--trace-dir`` whose file name the HUD shows. The studio shows the HUD with ``?hud=1`` too;
its server keeps no traces, and the HUD says so plainly. No CSP violation, no page error.

Skipped when /usr/bin/chromium is missing, unless TRYON_REQUIRE_BROWSER=1. TRYON_SCREENSHOTS=1
writes docs/hud.png.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
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
from live_helpers import LIPSTICK
from show_helpers import HOST_KEY
from test_profile import check_trace

from tryon.trace import load_events
from webrtc import ServerConfig

pytestmark = [pytest.mark.asyncio, pytest.mark.slow, pytest.mark.browser]
require_chromium()

# Everything the HUD shows and the stats message it came from, read at one instant.
SNAPSHOT = """() => {
  const text = (sel) => document.querySelector(sel)?.textContent ?? null;
  return {
    stats: window.tryon.lastStats,
    fpsOut: text('#hud-fps-out'), fpsIn: text('#hud-fps-in'), latency: text('#hud-latency'),
    runtime: text('#hud-runtime'), drops: text('#hud-drops'), e2e: text('#hud-e2e'),
    stages: [...document.querySelectorAll('#hud-stages li')].map((li) => li.dataset.stage),
    bar: [...document.querySelectorAll('#hud-bar .hud-seg')].map((s) => s.dataset.stage),
    points: (document.querySelector('#hud-graph .hud-line-out')?.getAttribute('points') || '')
      .split(' ').filter(Boolean).length,
  };
}"""


clip = clip_fixture()
browser = browser_fixture()


def shown_number(text: str) -> float:
    """The number at the end of a HUD label such as "out 23.4" or "12.0 ms"."""
    return float(text.replace("ms", "").split()[-1])


def leaves(stages: dict[str, float]) -> set[str]:
    """The stages the HUD draws: the innermost ones ("render" holds "render.makeup")."""
    return {k for k in stages if k != "total" and not any(o.startswith(f"{k}.") for o in stages)}


async def test_the_developer_hud_on_the_shopper_page_and_the_studio(browser: Any, tmp_path: Path) -> None:
    traces = tmp_path / "traces"
    traces.mkdir()
    async with (
        serving(ServerConfig(trace_dir=str(traces))) as server,
        serving(ServerConfig(host_key=HOST_KEY)) as studio_server,  # no --trace-dir
    ):
        await shopper(browser, server, traces, tmp_path)
        await studio(browser, studio_server)


async def shopper(browser: Any, server: TestServer, traces: Path, tmp_path: Path) -> None:
    p = await ContextPage.open(browser, viewport={"width": 1280, "height": 800})
    page = p.page

    # No HUD for shoppers.
    await page.goto(str(server.make_url("/")))
    await wait_for(page, "document.querySelectorAll('.product-card').length > 0", 15)
    assert await page.is_hidden("#stats")
    assert await page.is_hidden("#stats-toggle")
    assert not (await page.evaluate("window.tryon.hud"))["on"]

    # ?hud=1: the HUD, live, with a lipstick on; ?trace=2 records 2 s rather than 10.
    await page.goto(str(server.make_url(f"/?hud=1&trace=2&product={LIPSTICK}")))
    await wait_for(page, "document.querySelectorAll('.product-card').length > 0", 15)
    assert await page.is_visible("#stats")
    assert await page.is_checked("#stats-toggle")
    assert await page.inner_text("#hud-record") == "Record 2 s"
    assert await page.is_disabled("#hud-record"), "a trace before any session"
    await page.click("#start-camera")
    await wait_for(page, "document.body.dataset.state === 'live'", 30)
    # Stats of the look, processed frames flowing, and the browser's own numbers (the e2e sum).
    await wait_for(
        page, "window.tryon.lastStats?.look?.length === 1 && window.tryon.lastStats.fps_out > 2", 15
    )
    await wait_for(page, "document.querySelector('#hud-e2e').textContent.startsWith('≈')", 10)
    hud = await page.evaluate(SNAPSHOT)
    s = hud["stats"]
    assert abs(shown_number(hud["fpsOut"]) - s["fps_out"]) <= 0.1, hud
    assert abs(shown_number(hud["fpsIn"]) - s["fps_in"]) <= 0.1, hud
    assert abs(shown_number(hud["latency"]) - s["latency_ms"]) <= 0.1, hud
    assert s["provider"] == "CPUExecutionProvider"
    assert isinstance(s["threads"], int)
    assert s["threads"] >= 1
    assert hud["runtime"] == f"CPU · {s['threads']} threads", hud
    assert hud["drops"] == f"{s['dropped']} / {s['failures']}"
    drawn = leaves(s["stages"])
    assert {"faces.landmarks", "render.makeup"} <= drawn, s["stages"]
    assert drawn <= set(hud["stages"]), (drawn, hud["stages"])
    assert set(hud["bar"]) == set(hud["stages"])
    assert shown_number(hud["e2e"]) >= s["latency_ms"]

    # The graph grows: one point per stats message (about one a second).
    before = hud["points"]
    assert before >= 1
    await wait_for(page, f"({SNAPSHOT})().points >= {before + 2}", 8)

    # Shift+D hides it and shows it again, remembered in the tab.
    await page.keyboard.press("Shift+D")
    assert await page.is_hidden("#stats")
    assert await page.evaluate("sessionStorage.getItem('tryon.hud')") == "0"
    await page.keyboard.press("Shift+D")
    assert await page.is_visible("#stats")
    assert await page.evaluate("sessionStorage.getItem('tryon.hud')") == "1"

    # Record: the ack names the file, the trace message says it is written; the HUD shows its name.
    await page.click("#hud-record")
    await wait_for(page, "window.tryon.hud.trace.state === 'recording'", 5)
    assert await page.is_disabled("#hud-record")
    name = (await page.evaluate("window.tryon.hud.trace"))["file"]
    assert name.endswith(".json")
    assert name in await page.inner_text("#hud-trace")
    await wait_for(page, "window.tryon.hud.trace.state === 'saved'", 15)
    status = await page.inner_text("#hud-trace")
    assert status.startswith(f"Saved {name} ("), status
    assert [p.name for p in traces.iterdir()] == [name]
    frames = check_trace(load_events(traces / name))
    assert frames, "no frame in the trace"
    assert await page.is_enabled("#hud-record")
    await page.wait_for_timeout(1200)  # a stats message after the trace: the graph and bars drawn
    await screenshot(page, "hud.png", tmp_path, top=True)

    # The language switch re-labels it.
    await page.select_option("#lang", "fr")
    assert (await page.inner_text("#stats .hud-head h3")).upper() == "HUD DÉVELOPPEUR"
    assert (await page.inner_text("#hud-record")) == "Enregistrer 2 s"
    await page.select_option("#lang", "en")

    # Remembered: this tab, without ?hud=1, opens with the HUD on.
    await page.goto(str(server.make_url("/")))
    await wait_for(page, "document.querySelectorAll('.product-card').length > 0", 15)
    assert await page.is_visible("#stats")
    assert await p.problems() == []
    await page.context.close()


async def studio(browser: Any, server: TestServer) -> None:
    p = await ContextPage.open(browser, viewport={"width": 1280, "height": 800})
    page = p.page
    await page.goto(str(server.make_url("/studio")))
    await wait_for(page, "document.querySelectorAll('.product-card').length > 0", 15)
    assert await page.is_hidden("#stats")
    await page.goto(str(server.make_url("/studio?hud=1")))
    await wait_for(page, "document.querySelectorAll('.product-card').length > 0", 15)
    assert await page.is_visible("#stats")
    await page.fill("#key-input", HOST_KEY)
    await page.click("#start-show")
    await wait_for(page, "window.studio.status === 'ready'", 10)
    product, shade = LIPSTICK.split(":")
    await page.click(f'.product-card[data-product-id="{product}"]')
    await page.click(f'.swatch[data-variant-id="{shade}"]')
    await page.click("#start-camera")
    await wait_for(page, "document.body.dataset.state === 'live'", 30)
    await wait_for(page, "window.tryon.lastStats?.fps_out > 0", 15)
    hud = await page.evaluate(SNAPSHOT)
    assert abs(shown_number(hud["fpsOut"]) - hud["stats"]["fps_out"]) <= 0.1, hud
    assert hud["runtime"].startswith("CPU · "), hud
    assert "render.makeup" in hud["stages"], hud
    # This server keeps no traces: the server's refusal, shown as it is.
    await page.click("#hud-record")
    await wait_for(page, "window.tryon.hud.trace.state === 'error'", 5)
    status = await page.inner_text("#hud-trace")
    assert "--trace-dir" in status, status
    assert await page.is_enabled("#hud-record")
    assert await page.evaluate("document.querySelector('#message').textContent") == ""
    assert await p.problems() == []
    await page.context.close()
