"""Photo mode (``POST /api/photo``).

A shopper without a camera, or in bad light, uploads a photo; it comes back with the look on every
face, as PNG, and is not kept. Photos run one at a time on their own worker with an image-mode
pipeline (full-range face detector, up to 6 faces), never on the event loop.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
from aiohttp import web

from tryon.catalog import Catalog
from tryon.errors import InputError, MediaError, TryOnError
from tryon.media import decode_image, encode_png
from tryon.pipeline import LookItem, PipelineConfig, TryOnPipeline, check_intensity, resolve_item
from webrtc.config import ServerConfig
from webrtc.metrics import Metrics
from webrtc.responses import json_error

logger = logging.getLogger(__name__)

MAX_QUEUED_PHOTOS = 4


class PhotoService:
    def __init__(self, config: ServerConfig, catalog: Catalog, metrics: Metrics) -> None:
        self.config = config
        self.catalog = catalog
        self.metrics = metrics
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="tryon-photo")
        self._pipeline: TryOnPipeline | None = None
        self._queued = 0

    async def handle(self, request: web.Request) -> web.Response:
        limit = self.config.max_photo_bytes
        try:
            items = self._look(request)
        except TryOnError as exc:
            self.metrics.photos.labels("bad_request").inc()
            return json_error(400, str(exc))
        if request.content_length is not None and request.content_length > limit:
            self.metrics.photos.labels("too_large").inc()
            return json_error(
                413, f"photo too large: expected at most {limit} bytes, got {request.content_length}"
            )
        data = await request.content.read(limit + 1)
        if len(data) > limit:
            self.metrics.photos.labels("too_large").inc()
            return json_error(413, f"photo too large: expected at most {limit} bytes")
        if not data:
            self.metrics.photos.labels("bad_request").inc()
            return json_error(400, "expected the photo as the request body (JPEG, PNG or WebP), got nothing")
        if self._queued >= MAX_QUEUED_PHOTOS:
            self.metrics.photos.labels("busy").inc()
            return json_error(503, "too many photos in progress; try again in a moment")
        self._queued += 1
        try:
            out, faces = await asyncio.get_running_loop().run_in_executor(
                self._executor, self._run, data, items
            )
        except MediaError as exc:
            self.metrics.photos.labels("bad_image").inc()
            return json_error(400, str(exc))
        finally:
            self._queued -= 1
        self.metrics.photos.labels("ok").inc()
        return web.Response(
            body=out,
            content_type="image/png",
            headers={"X-TryOn-Faces": str(faces), "Cache-Control": "no-store"},
        )

    def _look(self, request: web.Request) -> list[LookItem]:
        raw = request.query.get("products", "")
        specs = [s.strip() for s in raw.split(",") if s.strip()]
        if len(specs) > self.config.max_look:
            raise InputError(f"products: expected at most {self.config.max_look}, got {len(specs)}")
        text = request.query.get("intensity", "1")
        try:
            value = float(text)
        except ValueError:
            raise InputError(f"intensity: expected a number in [0, 1], got {text!r}") from None
        intensity = check_intensity(value)
        return [resolve_item(self.catalog, s, intensity) for s in specs]

    def _run(self, data: bytes, items: list[LookItem]) -> tuple[bytes, int]:
        image = decode_image(data, "photo")
        side = self.config.max_photo_side
        h, w = image.shape[:2]
        if max(h, w) > side:
            s = side / max(h, w)
            size = (round(w * s), round(h * s))
            image = np.ascontiguousarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), np.uint8)
        if self._pipeline is None:
            self._pipeline = TryOnPipeline(
                catalog=self.catalog,
                config=PipelineConfig(max_faces=6, static_image_mode=True, face_detector="full"),
            )
        p = self._pipeline
        p.set_look(items)
        p.last_result = None
        out = p.process(image)
        faces = len(p.last_result.faces) if p.last_result is not None else 0
        return encode_png(out), faces

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
