"""Screenshot of the shopper's page with a live try-on, for the README: ``docs/live-page.png``.

Starts the server on a free loopback port, plays skimage.data.astronaut() (public domain) in slow
motion as Chromium's fake camera, picks a look on the page and takes a screenshot. Needs Debian's
chromium (/usr/bin/chromium) and the test extras (scikit-image, playwright).

    python docs/live_screenshot.py [--out docs/live-page.png] [--compare] [--stats]
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import tempfile
from pathlib import Path

import cv2
import numpy as np
from aiohttp import web
from playwright.async_api import async_playwright
from skimage.data import astronaut

from tryon.testing import Transform
from webrtc import ServerConfig, create_app
from webrtc.probe import write_y4m

LOOK = [
    ("everyday-matte-eyeshadow", "soft-caramel"),
    ("precision-liquid-eyeliner", "jet-black"),
    ("soft-focus-matte-blush", "ballet-pink"),
    ("velvet-matte-lipstick", "berry-crush"),
]


def clip(n: int = 90) -> list[np.ndarray]:
    face = np.ascontiguousarray(astronaut()[0:400, 40:440])
    scene = cv2.copyMakeBorder(cv2.resize(face, (480, 480)), 0, 0, 80, 80, cv2.BORDER_REPLICATE)
    return [Transform(angle=3 * np.sin(i / 14), dx=6 * np.sin(i / 20)).apply(scene) for i in range(n)]


async def shoot(out: Path, compare: bool, stats: bool) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    runner = web.AppRunner(create_app(ServerConfig(port=port)))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    with tempfile.TemporaryDirectory() as tmp:
        y4m = Path(tmp) / "camera.y4m"
        write_y4m(y4m, clip())
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(
                executable_path="/usr/bin/chromium",
                args=[
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--use-fake-ui-for-media-stream",
                    "--use-fake-device-for-media-stream",
                    f"--use-file-for-fake-video-capture={y4m}",
                    "--allow-loopback-in-peer-connection",
                    "--disable-features=WebRtcHideLocalIpsWithMdns",
                ],
            )
            page = await browser.new_page(viewport={"width": 1280, "height": 860}, locale="en-US")
            await page.goto(f"http://127.0.0.1:{port}/" + ("?debug=1" if stats else ""))
            await page.click("#start-camera")
            # Polled: wait_for_function evaluates its predicate with eval, which the page's CSP forbids.
            for _ in range(300):
                if await page.evaluate("document.body.dataset.state === 'live'"):
                    break
                await asyncio.sleep(0.1)
            for product, shade in LOOK:
                await page.click(f'.product-card[data-product-id="{product}"]')
                if shade:
                    await page.click(f'.swatch[data-variant-id="{shade}"]')
            if compare:
                await page.click("#compare-toggle")
            await page.wait_for_timeout(4000)
            await page.evaluate("window.scrollTo(0, 0)")
            await page.screenshot(path=str(out))
            await browser.close()
    await runner.cleanup()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=Path("docs/live-page.png"))
    parser.add_argument("--compare", action="store_true", help="with the before/after split on")
    parser.add_argument("--stats", action="store_true", help="with the developers' stats overlay")
    args = parser.parse_args()
    asyncio.run(shoot(args.out, args.compare, args.stats))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
