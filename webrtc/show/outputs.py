"""A show's outputs to the platforms where shows happen: RTMP(S) or SRT uplinks of the show's
processed video with the host's sound (``tryon.media.uplink``), started and stopped by the host.

``POST /api/shows/<id>/outputs`` ``{"url", "video_bitrate"?, "keyframe_interval_s"?}`` → 201;
``GET`` lists them with their counters; ``DELETE /api/shows/<id>/outputs/<oid>`` stops one. All
with the show's key. The stream key is part of the URL: only ``scheme://host:port`` is ever
answered or logged. When the server is exposed, outputs to loopback, private or link-local
addresses are refused (a host key must not become a way to reach the server's own network).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import secrets
import socket
import urllib.parse
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from tryon.errors import TryOnError
from tryon.media.uplink import Uplink, redact
from webrtc.egress import TrackUplink
from webrtc.show.service import ShowRefusedError

if TYPE_CHECKING:
    from webrtc.show.service import ShowService
    from webrtc.show.state import Show

logger = logging.getLogger(__name__)

MAX_OUTPUTS = 4
"""Uplinks per show (each costs an H.264 encode)."""


@dataclass
class Output:
    id: str
    target: str
    uplink: Uplink
    feeder: TrackUplink

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "target": self.target, **asdict(self.uplink.stats)}


class OutputsService:
    def __init__(self, core: ShowService) -> None:
        self.core = core
        self.outputs: dict[str, dict[str, Output]] = {}
        core.on_finish.append(self.stop_all)
        core.host_extras.append(lambda show: {"outputs": self.stats(show)})

    def routes(self, router: web.UrlDispatcher) -> None:
        g = self.core.guarded
        router.add_post("/api/shows/{id}/outputs", g(self.start))
        router.add_get("/api/shows/{id}/outputs", g(self.listing))
        router.add_delete("/api/shows/{id}/outputs/{oid}", g(self.stop))

    def of(self, show: Show) -> dict[str, Output]:
        return self.outputs.setdefault(show.id, {})

    async def start(self, request: web.Request) -> web.StreamResponse:
        show = self.core.host_show(request)
        msg = await self.core.json_object(request, "output")
        url = msg.get("url")
        if not isinstance(url, str) or len(url) > 2048:
            raise ShowRefusedError(
                400, "url: expected rtmp://, rtmps:// or srt:// (at most 2048 characters)", "malformed"
            )
        outputs = self.of(show)
        if len(outputs) >= MAX_OUTPUTS:
            raise ShowRefusedError(
                409, f"a show has at most {MAX_OUTPUTS} outputs; stop one first", "outputs"
            )
        options: dict[str, Any] = {}
        for name in ("video_bitrate", "keyframe_interval_s"):
            if name in msg:
                options[name] = msg[name]
        bitrate = options.get("video_bitrate", 2_500_000)
        if isinstance(bitrate, bool) or not isinstance(bitrate, int) or not 200_000 <= bitrate <= 20_000_000:
            raise ShowRefusedError(
                400, f"video_bitrate: expected 200000..20000000 bits/s, got {bitrate!r}", "malformed"
            )
        keyint = options.get("keyframe_interval_s", 2.0)
        if isinstance(keyint, bool) or not isinstance(keyint, int | float) or not 0.5 <= keyint <= 10:
            raise ShowRefusedError(
                400, f"keyframe_interval_s: expected 0.5..10 s, got {keyint!r}", "malformed"
            )
        try:
            uplink = Uplink(
                url, size=self.core.config.output_size, video_bitrate=bitrate, keyframe_interval_s=keyint
            )
        except TryOnError as exc:
            raise ShowRefusedError(400, str(exc), "malformed") from None
        await self.check_destination(url)
        oid = secrets.token_urlsafe(6)
        feeder = TrackUplink(uplink, show.output(), show.audio_output())
        uplink.start()
        feeder.start()
        output = outputs[oid] = Output(oid, redact(url), uplink, feeder)
        logger.info("show %s: output %s to %s started", show.id, oid, output.target)
        return web.json_response(output.to_json(), status=201)

    async def check_destination(self, url: str) -> None:
        """Refuse loopback, private and link-local destinations when the server is exposed."""
        if self.core.config.loopback:
            return
        host = urllib.parse.urlsplit(url).hostname or ""
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise ShowRefusedError(400, f"url: cannot resolve {host!r}: {exc}", "malformed") from None
        for info in infos:
            address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
            if address.is_loopback or address.is_private or address.is_link_local or address.is_multicast:
                raise ShowRefusedError(
                    403,
                    f"url: {host} is a local or private address; outputs go to public hosts",
                    "destination",
                )

    async def listing(self, request: web.Request) -> web.StreamResponse:
        show = self.core.host_show(request)
        return web.json_response([o.to_json() for o in self.of(show).values()])

    async def stop(self, request: web.Request) -> web.StreamResponse:
        show = self.core.host_show(request)
        output = self.of(show).pop(request.match_info["oid"], None)
        if output is None:
            raise ShowRefusedError(404, "no output with this id", "unknown_output")
        await self._close(output)
        return web.Response(status=204)

    async def _close(self, output: Output) -> None:
        await output.feeder.stop()
        await asyncio.get_running_loop().run_in_executor(None, output.uplink.close)
        logger.info("output %s to %s stopped: %s", output.id, output.target, output.uplink.stats)

    async def stop_all(self, show: Show) -> None:
        for output in list(self.outputs.pop(show.id, {}).values()):
            await self._close(output)

    def stats(self, show: Show) -> list[dict[str, Any]]:
        return [o.to_json() for o in self.outputs.get(show.id, {}).values()]
