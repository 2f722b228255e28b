"""Photo mode (``POST /api/photo``).

A shopper without a camera, or in bad light, uploads a photo; it comes back with the look on every
face, as PNG, and is not kept. Photos run one at a time on their own worker with an image-mode
pipeline (full-range face detector, up to 6 faces), never on the event loop. The request body is
read whole within ``max_photo_bytes`` and the image's header is checked before it is decoded.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
from aiohttp import web
from numpy.typing import NDArray

from tryon.catalog import Catalog
from tryon.errors import InputError, MediaError, TryOnError
from tryon.media import UPLOAD_FORMATS, ImageInfo, decode_image, encode_png, probe_image
from tryon.media.probe import describe_bytes, sniff_format
from tryon.pipeline import LookItem, PipelineConfig, TryOnPipeline, check_intensity, resolve_item
from webrtc.config import ServerConfig
from webrtc.guard import IMAGE_TYPES, REFUSAL_REASONS, BodyError, client_body
from webrtc.metrics import Metrics
from webrtc.responses import json_error

logger = logging.getLogger(__name__)

MIN_SIDE = 16
"""The smallest photo side the models can use."""


class PhotoService:
    """Photos in, try-on out: checked by their header on the event loop (a bomb is refused before
    a byte is decoded), decoded on a small pool (``photo_decoders`` at once), tried on one at a
    time on the photo worker. At most ``max_queued_photos`` are in progress; the next gets 503."""

    def __init__(self, config: ServerConfig, catalog: Catalog, metrics: Metrics) -> None:
        self.config = config
        self.catalog = catalog
        self.metrics = metrics
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="tryon-photo")
        self._decoders = ThreadPoolExecutor(config.photo_decoders, thread_name_prefix="tryon-decode")
        self._pipeline: TryOnPipeline | None = None
        self._queued = 0

    async def handle(self, request: web.Request) -> web.Response:
        config = self.config
        try:
            items = self._look(request)
        except TryOnError as exc:
            self.metrics.photos.labels("bad_request").inc()
            return json_error(400, str(exc))
        try:
            data = await client_body(request, config, IMAGE_TYPES, config.max_photo_bytes, "photo")
        except BodyError as exc:
            self.metrics.photos.labels(REFUSAL_REASONS.get(exc.status, "bad_request")).inc()
            return json_error(exc.status, exc.message)
        if not data:
            self.metrics.photos.labels("bad_request").inc()
            return json_error(400, "expected the photo as the request body (JPEG, PNG or WebP), got nothing")
        try:
            info = self.check(data)
        except BodyError as exc:
            self.metrics.photos.labels("too_many_pixels" if exc.status == 413 else "bad_image").inc()
            return json_error(exc.status, exc.message)
        if self._queued >= config.max_queued_photos:
            self.metrics.photos.labels("busy").inc()
            return json_error(503, "too many photos in progress; try again in a moment")
        self._queued += 1
        loop = asyncio.get_running_loop()
        try:
            image = await loop.run_in_executor(self._decoders, self._decode, data)
            out, seen = await loop.run_in_executor(self._executor, self._run, image, items)
        except TryOnError as exc:
            self.metrics.photos.labels("bad_image").inc()
            return json_error(400, str(exc))
        finally:
            self._queued -= 1
        self.metrics.photos.labels("ok").inc()
        logger.debug("photo %s %dx%d: %s", info.format, info.width, info.height, seen)
        # What was found, so the page can say what was not ("no body: the jacket was not drawn").
        headers = {f"X-TryOn-{name.title()}": str(n) for name, n in seen.items()}
        return web.Response(
            body=out, content_type="image/png", headers={**headers, "Cache-Control": "no-store"}
        )

    def check(self, data: bytes) -> ImageInfo:
        """The photo's header, or a :class:`BodyError`: 400 for bytes that are no image, 415 for a
        format the page does not offer, 413 past ``max_photo_pixels``, 400 for a side under 16 px.
        Reads the header only."""
        if sniff_format(data) is None:
            raise BodyError(
                400, f"photo: not an image: expected JPEG, PNG or WebP, got {describe_bytes(data)}"
            )
        try:
            info = probe_image(data, "photo")
        except MediaError as exc:
            raise BodyError(400, str(exc)) from None
        if info.format not in UPLOAD_FORMATS:
            raise BodyError(415, f"photo: expected a JPEG, PNG or WebP image, got {info.format.upper()}")
        if info.pixels > self.config.max_photo_pixels:
            raise BodyError(
                413,
                f"photo: expected at most {self.config.max_photo_pixels} pixels, "
                f"got {info.width}x{info.height} ({info.format.upper()})",
            )
        if min(info.width, info.height) < MIN_SIDE:
            raise BodyError(
                400, f"photo: expected at least {MIN_SIDE}x{MIN_SIDE} pixels, got {info.width}x{info.height}"
            )
        return info

    def _decode(self, data: bytes) -> NDArray[np.uint8]:
        config = self.config
        return decode_image(
            data,
            "photo",
            max_pixels=config.max_photo_pixels,
            formats=UPLOAD_FORMATS,
            max_side=config.max_photo_side,
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

    def _run(self, image: NDArray[np.uint8], items: list[LookItem]) -> tuple[bytes, dict[str, int]]:
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
        r = p.last_result
        seen: dict[str, int] = {"faces": 0, "bodies": 0, "hands": 0}
        if r is not None:
            seen = {"faces": len(r.faces), "bodies": len(r.poses), "hands": len(r.hands)}
        return encode_png(out), seen

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._decoders.shutdown(wait=False, cancel_futures=True)
