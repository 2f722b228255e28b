"""The live show in Debian's Chromium (headless, driven by Playwright), through the embedded relay:
the host's studio (one browser context) starts a show and goes live wearing a lipstick, with its
microphone (Chromium's fake device: a beep); a phone-sized viewer page (a second context) plays the
host's processed video (the lips coloured) and, after "Tap for sound", the host's beep; its product
card follows "now showing", its comments reach the studio (an HTML-looking one stays text), "Try it on
me" opens the viewer's own camera wearing the product shown (the show's sound muted meanwhile) and
"Back to the show" returns; the studio's mute toggle, its "Stream from OBS" panel (WHIP URL copied,
the key masked), a refused microphone (the show goes on without sound); ending the show shows the
viewer that it ended. Both fake cameras play the same y4m clip of the astronaut
(skimage.data.astronaut(), public domain).

Skipped when /usr/bin/chromium is missing, unless TRYON_REQUIRE_BROWSER=1 (CI sets it). Never uses
`playwright install`. TRYON_SCREENSHOTS=1 writes the pair docs/studio.png and docs/viewer.png.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
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
    wait_lipstick,
)
from live_helpers import LIPSTICK
from numpy.typing import NDArray
from show_helpers import HOST_KEY

from webrtc import ServerConfig
from webrtc.app import SERVER_KEY

pytestmark = [pytest.mark.asyncio, pytest.mark.slow, pytest.mark.browser]
require_chromium()

PRODUCT, SHADE = LIPSTICK.split(":")
OTHER_SHADE = "plum-noir"
XSS = "<img src=x onerror=alert(1)>"

clip = clip_fixture()
# Two pages play video at once, one of them in a background context.
browser = browser_fixture(*BACKGROUND_ARGS)


@pytest_asyncio.fixture
async def server() -> AsyncIterator[TestServer]:
    async with serving(ServerConfig(host_key=HOST_KEY, relay_viewers=4)) as srv:
        yield srv


# The browser grants every device (--use-fake-ui-for-media-stream): a page of the test refuses the
# microphone, as a person would, once the test sets window.__denyMic.
DENY_MIC = """
const gum = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
navigator.mediaDevices.getUserMedia = (c) => (window.__denyMic && c?.audio
  ? Promise.reject(new DOMException("Permission denied", "NotAllowedError")) : gum(c));
"""

SHOW_MUTED = "document.querySelector('#show-video').muted"
SHOW_AUDIO_TRACKS = "document.querySelector('#show-video').srcObject.getAudioTracks().length"

# The loudest sample of the show's sound on the viewer's page over `seconds` (Web Audio on the
# <video>'s own stream: what the viewer hears once unmuted).
SOUND_PEAK = """async (seconds) => {
  const v = document.querySelector('#show-video');
  const ctx = new AudioContext();
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 2048;
  ctx.createMediaStreamSource(new MediaStream(v.srcObject.getAudioTracks())).connect(analyser);
  const buf = new Float32Array(analyser.fftSize);
  let peak = 0;
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    analyser.getFloatTimeDomainData(buf);
    for (const x of buf) peak = Math.max(peak, Math.abs(x));
    await new Promise((r) => setTimeout(r, 20));
  }
  await ctx.close();
  return peak;
}"""


class Page(ContextPage):
    """A page in its own browser context, recording its errors and CSP violations."""

    async def playing(self, selector: str) -> None:
        """Frames arrive in the <video> at ``selector``: it has a size and its time moves on."""
        await self.wait(f"document.querySelector('{selector}').videoWidth > 0", 30)
        before = await self.page.evaluate(f"document.querySelector('{selector}').currentTime")
        await self.wait(f"document.querySelector('{selector}').currentTime > {before} + 0.3", 10)

    async def lipstick(self, selector: str, scene: NDArray[np.uint8], tries: int = 30) -> None:
        await wait_lipstick(self.page, selector, scene, tries)


async def comment(viewer: Any, text: str) -> None:
    await viewer.fill("#comment-input", text)
    await viewer.click("#comment-send")


async def test_a_live_show_from_the_studio_to_a_phone(
    server: TestServer, browser: Any, camera_scene: NDArray[np.uint8], tmp_path: Path
) -> None:
    # -- the studio starts a show and goes live wearing the lipstick ------------------------------
    s = await Page.open(
        browser,
        DENY_MIC,
        viewport={"width": 1280, "height": 800},
        permissions=["clipboard-read", "clipboard-write"],
    )
    studio = s.page
    response = await studio.goto(str(server.make_url("/studio")))
    assert response is not None
    assert response.status == 200
    assert "'unsafe-inline'" not in response.headers["content-security-policy"]
    await studio.fill("#key-input", HOST_KEY)
    await studio.fill("#title-input", "Spring looks")
    await studio.click("#start-show")
    await s.wait("window.studio.status === 'ready'")
    show_id = await studio.evaluate("window.studio.id")
    saved = await studio.evaluate("JSON.parse(sessionStorage.getItem('tryon.show'))")
    assert saved["id"] == show_id
    assert len(saved["key"]) >= 32
    assert await studio.input_value("#key-input") == "", "the server's key stays in the field"
    assert saved["key"] not in studio.url
    assert HOST_KEY not in studio.url
    link = await studio.input_value("#viewer-link")
    assert link == str(server.make_url(f"/show/{show_id}"))

    # -- "Stream from OBS": the WHIP URL (copied), the show's key as bearer token (masked), WHEP ---
    assert await studio.is_visible("#obs-panel")
    assert await studio.is_hidden("#obs-whip"), "the OBS panel is collapsed until opened"
    await studio.click("#obs-panel summary")
    whip = await studio.input_value("#obs-whip")
    assert whip == str(server.make_url("/whip"))
    await studio.click("#copy-whip")
    assert await studio.evaluate("navigator.clipboard.readText()") == whip
    assert await studio.inner_text("#copy-whip") == "Copied!"
    assert await studio.input_value("#obs-whep") == str(server.make_url(f"/whep/{show_id}"))
    assert await studio.get_attribute("#obs-key", "type") == "password"
    assert await studio.input_value("#obs-key") == saved["key"]
    await studio.click("#reveal-key")
    assert await studio.get_attribute("#obs-key", "type") == "text"
    assert await studio.get_attribute("#reveal-key", "aria-pressed") == "true"
    await studio.click("#reveal-key")
    assert await studio.get_attribute("#obs-key", "type") == "password"
    await studio.click("#copy-key")
    assert await studio.evaluate("navigator.clipboard.readText()") == saved["key"]
    assert saved["key"] not in studio.url
    await studio.click("#obs-panel summary")

    # -- a phone opens the viewer link before the host is live: it waits --------------------------
    v = await Page.open(browser, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    viewer = v.page
    await viewer.goto(link)
    await v.wait("window.show.status === 'waiting'")
    await s.wait("window.studio.counts.viewers === 1", 5)

    await studio.click(f'.product-card[data-product-id="{PRODUCT}"]')
    await studio.click(f'.swatch[data-variant-id="{SHADE}"]')
    await studio.click("#start-camera")
    await s.wait("document.body.dataset.state === 'live'", 30)
    await s.wait("window.studio.status === 'live'", 10)
    await s.lipstick("#remote-video", camera_scene)
    # The host's microphone goes with the camera: the studio's connection sends audio packets.
    await s.wait("window.studio.mic?.state === 'on'", 5)
    await s.wait("window.studio.mic.packetsSent > 0", 10)
    assert await studio.is_visible("#mic-toggle")
    assert "viewers hear you" in await studio.inner_text("#mic-status")
    assert await studio.is_hidden("#mic-badge")

    # -- the host goes live: the waiting viewer's page plays the host's processed video -----------
    await v.wait("window.show.status === 'live'", 30)
    await v.wait("window.show.watch === 'playing'", 30)
    await v.playing("#show-video")
    # The answer left once ICE gathering was complete (or timed out), with its candidates in it.
    answer = await viewer.evaluate("window.show.answer")
    assert answer["gathering"] == "complete", answer
    assert answer["candidates"] > 0, answer
    await v.lipstick("#show-video", camera_scene)
    assert await viewer.is_hidden("#showing-card"), "a product card before anything was shown"
    # The show comes with its sound, muted for autoplay until the viewer asks for it.
    assert await viewer.evaluate(SHOW_AUDIO_TRACKS) == 1
    assert await viewer.evaluate(SHOW_MUTED) is True
    await viewer.wait_for_selector("#sound", state="visible", timeout=5000)
    assert await viewer.inner_text("#sound") == "Tap for sound"

    # -- "now showing": the picker, then "show what I'm wearing"; the viewer's card follows -------
    await studio.select_option("#showing-product", PRODUCT)
    await studio.select_option("#showing-shade", OTHER_SHADE)
    await studio.click("#showing-set")
    await v.wait(f"window.show.showing?.spec === '{PRODUCT}:{OTHER_SHADE}'", 5)
    await studio.click("#showing-wearing")
    await v.wait(f"window.show.showing?.spec === '{LIPSTICK}'", 5)
    assert await viewer.is_visible("#showing-card")
    assert await viewer.inner_text("#showing-name") == "Velvet Matte Lipstick"
    assert await viewer.inner_text("#showing-shade") == "Ruby Red"
    assert "24" in await viewer.inner_text("#showing-price")
    buy = await viewer.eval_on_selector("#buy", "a => [a.href, a.target, a.rel]")
    assert buy[0].startswith("https://"), buy
    assert buy[1:] == ["_blank", "noopener"], buy

    # -- likes and comments reach the studio; a comment that looks like HTML stays text -----------
    await viewer.click("#like")
    await s.wait("window.studio.counts.likes >= 1", 5)
    await comment(viewer, "Love this shade!")
    await s.wait("window.studio.comments.includes('Love this shade!')", 5)
    await comment(viewer, XSS)
    await v.wait(f"window.show.comments.includes({XSS!r})", 5)
    await s.wait(f"window.studio.comments.includes({XSS!r})", 5)
    for page in (viewer, studio):
        texts = await page.eval_on_selector_all("#comments .comment-text", "ns => ns.map(n => n.textContent)")
        assert XSS in texts, texts
        assert await page.query_selector("#comments img") is None
    # Comments are rate-limited (bursts of 3): a flood gets a gentle "slow down".
    await comment(viewer, "Third")
    await comment(viewer, "Fourth")
    await viewer.wait_for_selector("#message[data-kind]", timeout=5000)
    assert "slow down" in (await viewer.inner_text("#message")).lower()
    await viewer.click("#message .message-close")
    await s.wait("window.studio.host?.fps > 0", 10)
    await screenshot(studio, "studio.png", tmp_path, top=True)
    await screenshot(viewer, "viewer.png", tmp_path, top=True)

    # -- sound: one tap unmutes the show; the viewer hears the host's microphone (the fake beep) --
    await viewer.click("#sound")
    assert await viewer.evaluate(SHOW_MUTED) is False
    assert await viewer.get_attribute("#sound", "aria-label") == "Mute the show"
    peak = await viewer.evaluate(SOUND_PEAK, 2.5)
    assert peak > 0.05, f"the viewer hears silence (peak {peak:.4f}), not the host's microphone"
    # The host mutes: the studio says so, on the stage too, and viewers hear nothing.
    await studio.click("#mic-toggle")
    assert await studio.get_attribute("#mic-toggle", "aria-pressed") == "true"
    assert await studio.evaluate("window.studio.mic.state") == "muted"
    assert await studio.is_visible("#mic-badge")
    assert "muted" in (await studio.inner_text("#mic-status")).lower()
    # What was already on its way still comes (more of it on a loaded machine): a second of silence.
    heard: list[float] = []
    while len(heard) < 2 or max(heard[-2:]) > peak / 20:
        assert len(heard) < 20, f"the viewer still hears the muted host: {heard}"
        heard.append(await viewer.evaluate(SOUND_PEAK, 0.5))
    await studio.click("#mic-toggle")
    await s.wait("window.studio.mic.state === 'on'", 2)
    assert await studio.is_hidden("#mic-badge")

    # -- "Try it on me": the viewer's own camera wears the product shown; the show goes on ---------
    sessions = app_sessions(server)
    before = len(sessions)
    await viewer.click("#try-on")
    await v.wait("window.show.tryState === 'live'", 30)
    hello = await viewer.evaluate("window.show.tryHello")
    assert hello["look"] == [LIPSTICK], hello
    assert len(sessions) == before + 1
    await v.playing("#try-video")
    await v.lipstick("#try-video", camera_scene)
    assert await viewer.evaluate("document.body.dataset.view") == "try"
    await v.playing("#show-video")  # the show, in its corner
    assert await viewer.evaluate(SHOW_MUTED) is True, "the show talks over the try-on"
    assert await viewer.is_hidden("#sound")
    await viewer.screenshot(path=str(tmp_path / "viewer-try.png"))
    await viewer.click("#back-to-show")
    await v.wait("window.show.tryState === 'none'")
    assert await viewer.is_hidden("#try-video")
    for _ in range(50):
        if len(sessions) == before:
            break
        await asyncio.sleep(0.1)
    assert len(sessions) == before, "the try-on session outlived 'Back to the show'"
    await v.playing("#show-video")
    assert await viewer.evaluate(SHOW_MUTED) is False, "the sound did not come back"

    # -- the host goes live again and refuses the microphone: the show goes on, without sound ------
    await studio.evaluate("window.__denyMic = true")
    await studio.click("#stop")
    await studio.click("#start-camera")
    await s.wait("document.body.dataset.state === 'live'", 30)
    assert await studio.evaluate("window.studio.mic.state") == "refused"
    assert "without sound" in await studio.inner_text("#message")
    assert "without sound" in await studio.inner_text("#mic-status")
    assert await studio.is_visible("#mic-badge")
    assert await studio.is_hidden("#mic-toggle")
    await v.playing("#show-video")

    # -- the host ends the show -------------------------------------------------------------------
    await studio.click("#end-show")
    await s.wait("window.studio.status === 'ended'")
    await v.wait("window.show.status === 'ended'", 5)
    assert await viewer.is_visible("#ended-screen")
    assert await studio.evaluate("sessionStorage.getItem('tryon.show')") is None
    assert await s.problems() == []
    assert await v.problems() == []
    with contextlib.suppress(Exception):
        await viewer.context.close()
        await studio.context.close()


def app_sessions(server: TestServer) -> dict[str, Any]:
    """The server's live camera sessions (the host's, a viewer's try-on)."""
    return server.app[SERVER_KEY].sessions
