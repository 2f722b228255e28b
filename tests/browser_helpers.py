"""Shared scaffolding of the browser tests (tests/test_browser*.py): Debian's Chromium, headless and
driven by Playwright (its ``executable_path``; never ``playwright install``), with a fake camera
playing a y4m clip of the astronaut in motion (skimage.data.astronaut(), public domain); the
in-process server; pages that record their errors and Content-Security-Policy violations; small
screenshots for docs/.

A browser test module calls :func:`require_chromium` first: it skips the module when
/usr/bin/chromium is missing, unless TRYON_REQUIRE_BROWSER=1 (CI sets it: there a missing browser is
a failure).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Self

import numpy as np
import pytest
import pytest_asyncio
from aiohttp.test_utils import TestServer
from conftest import moving_frame
from live_helpers import lip_mask, shared_catalog
from numpy.typing import NDArray

from tryon.media import decode_image
from webrtc import ServerConfig, create_app
from webrtc.guard import runner_options
from webrtc.probe import draw_counter, read_counter, write_y4m

CHROMIUM = Path("/usr/bin/chromium")
DOCS = Path(__file__).resolve().parent.parent / "docs"
CLIP_FRAMES = 90

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
# Pages that play video at once, some of them in a background context.
BACKGROUND_ARGS = [
    "--autoplay-policy=no-user-gesture-required",
    "--disable-renderer-backgrounding",
    "--disable-background-timer-throttling",
    "--disable-backgrounding-occluded-windows",
]

CSP_LISTENER = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) =>
  window.__csp.push(`${e.effectiveDirective} blocked ${e.blockedURI} (${e.sourceFile}:${e.lineNumber})`));
"""


def require_chromium() -> None:
    """Skip the calling test module when Debian's chromium is missing (fail under
    TRYON_REQUIRE_BROWSER=1). Call it at module level, before anything needs the browser."""
    if CHROMIUM.exists():
        return
    if os.environ.get("TRYON_REQUIRE_BROWSER") == "1":
        raise RuntimeError(
            "the browser test needs Debian's chromium: apt-get install chromium chromium-driver"
        )
    pytest.skip("Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True)


def clip_frame(scene: NDArray[np.uint8], i: int) -> NDArray[np.uint8]:
    """Frame ``i`` of the clip: the scene in motion, its number drawn in the top-left corner."""
    frame = moving_frame(scene, i)
    draw_counter(frame, i)
    return frame


def clip_fixture(frames: int = CLIP_FRAMES, *, counter: bool = True) -> Any:
    """A module-scoped ``clip`` fixture: the y4m file the fake camera plays (looped by Chromium),
    ``frames`` frames of the moving ``camera_scene``, numbered (:func:`clip_frame`) with ``counter``."""

    @pytest.fixture(scope="module")
    def clip(tmp_path_factory: pytest.TempPathFactory, camera_scene: NDArray[np.uint8]) -> Path:
        path = tmp_path_factory.mktemp("camera") / "clip.y4m"
        draw = clip_frame if counter else moving_frame
        write_y4m(path, [draw(camera_scene, i) for i in range(frames)])
        return path

    return clip


@contextlib.asynccontextmanager
async def serving(config: ServerConfig) -> AsyncIterator[TestServer]:
    """The app with the shared catalog, served in process on 127.0.0.1."""
    srv = TestServer(create_app(config, catalog=shared_catalog()), host="127.0.0.1")
    await srv.start_server(**runner_options(config))
    try:
        yield srv
    finally:
        await srv.close()


@contextlib.asynccontextmanager
async def chromium(*args: str) -> AsyncIterator[Any]:
    """Debian's Chromium, headless, with a fake media device and ``args``."""
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=[*BASE_ARGS, *args])
        try:
            yield b
        finally:
            await b.close()


def camera_args(clip: Path) -> list[str]:
    """Every device granted, the camera playing ``clip``; loopback ICE candidates, and real addresses
    rather than mDNS names, so the server (on this machine, no STUN) can reach the page."""
    return [
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={clip}",
        "--allow-loopback-in-peer-connection",
        "--disable-features=WebRtcHideLocalIpsWithMdns",
    ]


def browser_fixture(*args: str) -> Any:
    """A ``browser`` fixture: :func:`chromium` with the fake camera playing the ``clip`` fixture
    (:func:`camera_args`) and ``args``."""

    @pytest_asyncio.fixture
    async def browser(clip: Path) -> AsyncIterator[Any]:
        async with chromium(*camera_args(clip), *args) as b:
            yield b

    return browser


async def wait_for(page: Any, expression: str, timeout: float = 10.0) -> Any:
    """Poll ``expression`` until it is truthy, and return it. Not ``page.wait_for_function``:
    Playwright runs its predicate through ``eval`` in the page, which the page's CSP (rightly) forbids."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not (value := await page.evaluate(expression)):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{expression!r} still false after {timeout:g} s")
        await asyncio.sleep(0.1)
    return value


class ContextPage:
    """A page in its own browser context, recording its page errors and CSP violations (from the
    console as they come, and from the DOM event through :data:`CSP_LISTENER`)."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.errors: list[str] = []
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on(
            "console", lambda m: self.errors.append(m.text) if "Content Security Policy" in m.text else None
        )

    @classmethod
    async def open(cls, browser: Any, *scripts: str, locale: str = "en-US", **kw: Any) -> Self:
        """A new context (``kw``: Playwright's options) and its page, running ``scripts`` first."""
        context = await browser.new_context(locale=locale, **kw)
        page = await context.new_page()
        for script in (CSP_LISTENER, *scripts):
            await page.add_init_script(script)
        return cls(page)

    async def problems(self) -> list[str]:
        """The page errors and CSP violations so far."""
        csp: list[str] = await self.page.evaluate("window.__csp")
        return self.errors + csp

    async def wait(self, expression: str, timeout: float = 10.0) -> Any:
        return await wait_for(self.page, expression, timeout)

    async def frame(self, selector: str) -> NDArray[np.uint8]:
        return await video_frame(self.page, selector)


async def video_frame(page: Any, selector: str) -> NDArray[np.uint8]:
    """The frame the <video> at ``selector`` shows now, as the page decoded it (unmirrored pixels)."""
    data_url = await page.evaluate(
        """(sel) => {
            const v = document.querySelector(sel);
            const c = document.createElement('canvas');
            c.width = v.videoWidth; c.height = v.videoHeight;
            c.getContext('2d').drawImage(v, 0, 0);
            return c.toDataURL('image/png');
        }""",
        selector,
    )
    return decode_image(base64.b64decode(data_url.split(",", 1)[1]))


def lipstick_on(frame: NDArray[np.uint8], scene: NDArray[np.uint8]) -> tuple[bool, str]:
    """Whether ``frame`` (a returned frame, counter readable) shows the ruby lipstick, compared
    with the camera frame of the same number (a clip of :data:`CLIP_FRAMES` numbered frames)."""
    assert frame.shape == (480, 640, 3), frame.shape
    n = read_counter(frame)
    if n is None:
        return False, "counter unreadable"
    sent = clip_frame(scene, n % CLIP_FRAMES)
    lips = lip_mask(sent)
    change = frame[lips].astype(np.float32).mean(0) - sent[lips].astype(np.float32).mean(0)
    return bool(change[1] < -25 and change[0] - change[1] > 20), f"frame {n}: lip colour change {change}"


async def wait_lipstick(
    page: Any, selector: str, scene: NDArray[np.uint8], tries: int = 30
) -> NDArray[np.uint8]:
    """The first frame of the <video> at ``selector`` that shows the lipstick (read every 0.2 s)."""
    why = ""
    for _ in range(tries):
        frame = await video_frame(page, selector)
        on, why = lipstick_on(frame, scene)
        if on:
            return frame
        await asyncio.sleep(0.2)
    raise AssertionError(f"{selector} never showed the lipstick: {why}")


async def screenshot(page: Any, name: str, tmp_path: Path, *, top: bool = False, **options: Any) -> None:
    """A small PNG (256 colours) of ``page`` (scrolled to its top with ``top``; ``options``: Playwright's
    screenshot options): into docs/ with TRYON_SCREENSHOTS=1, else the test's folder."""
    from PIL import Image

    raw = tmp_path / f"raw-{name}"
    if top:
        await page.evaluate("window.scrollTo(0, 0)")
    await page.screenshot(path=str(raw), **options)
    folder = DOCS if os.environ.get("TRYON_SCREENSHOTS") == "1" else tmp_path
    with Image.open(raw) as im:
        im.convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT).save(folder / name, optimize=True)
