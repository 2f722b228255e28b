"""HTTP responses the routes share: JSON refusals and PNG downloads."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import Executor

import numpy as np
from aiohttp import web
from numpy.typing import NDArray

from tryon.media import encode_png


def json_error(status: int, message: str) -> web.Response:
    """``{"error": message}`` with ``status``: every refusal the server makes."""
    return web.json_response({"error": message}, status=status)


async def png_download(image: NDArray[np.uint8], executor: Executor, stem: str) -> web.Response:
    """``image`` as a PNG download (encoded off the event loop, never written to disk)."""
    png = await asyncio.get_running_loop().run_in_executor(executor, encode_png, image)
    name = f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}.png"
    return web.Response(
        body=png,
        content_type="image/png",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )
