"""The server's own log lines (logger ``tryon.server``, shown by ``tryon serve`` without ``-v``):
one per request (method, path without its query, status, milliseconds) and one per session's start
and end (:mod:`webrtc.app`, :mod:`webrtc.session`).

A path segment that looks like a capability (a session, watch or output id: 16 or more URL-safe
characters with an upper-case letter, a digit or ``_``, or no hyphen) is cut to its first 6
characters, as the session lines name sessions; product and show ids read in full. The query is
never logged (tokens and keys may ride in it).
"""

from __future__ import annotations

import logging
import re

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

server_log = logging.getLogger("tryon.server")

TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{16,}$")
WORDS_RE = re.compile(r"^[a-z]+(-[a-z0-9]+)+$")


def redact_path(path: str) -> str:
    """``path`` with capability-like segments cut to 6 characters and ``…``."""
    return "/".join(
        f"{seg[:6]}…" if TOKEN_RE.match(seg) and not WORDS_RE.match(seg) else seg for seg in path.split("/")
    )


class AccessLog(AbstractAccessLogger):
    """``GET /api/catalog 200 12 ms``: aiohttp's access log, short and without secrets."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info(
            "%s %s %d %.0f ms", request.method, redact_path(request.path), response.status, time * 1e3
        )
