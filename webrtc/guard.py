"""The server's HTTP edge: whole bodies within a limit, the Host/Origin/content-type checks, the
offer token, and the security headers every response carries.

Threat model (``docs/security.md`` has the table of attacks and the tests that cover them):

- *Any web page the shopper visits* can send simple cross-site requests (``text/plain`` or form
  bodies, no preflight) to ``127.0.0.1:8080``. State changes therefore need a JSON or image
  content type (which a cross-site page can only send after a CORS preflight this server never
  answers) and an ``Origin`` that is one of the server's own, when the browser sends one.
- *DNS rebinding* points a foreign name at loopback to read ``/api/config`` or ``/metrics``:
  every request's ``Host`` must be one of the configured names.
- *A client on another machine* (when the server is exposed) needs the offer token to open a
  session; loopback clients do not.
- *Slow clients*: headers must arrive within ``header_timeout`` (the HTTP keep-alive timer,
  armed at connect); a body must keep coming (``body_timeout`` between pieces) and be whole
  within ``body_deadline``, or the request gets 408.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging
import os
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiohttp import web
from aiohttp.web_exceptions import HTTPException
from aiohttp.web_protocol import RequestPayloadError

from webrtc.config import ServerConfig
from webrtc.responses import json_error

logger = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        # The page sets styles through the CSSOM (element.style), which style-src does not restrict.
        "style-src 'self'",
        "img-src 'self' blob: data:",
        "media-src 'self' blob: mediastream:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)
"""The pages' Content-Security-Policy: everything from this origin, nothing inline."""

SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(self), microphone=(self), geolocation=()",
    "Server": "tryon",
}

JSON_TYPES = ("application/json",)
IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp", "application/octet-stream")
"""Content types a photo upload may declare (the bytes are checked again by their header)."""

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class BodyError(Exception):
    """A request body that cannot be taken: the HTTP status and a message for the client."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


async def read_body(
    request: web.Request, limit: int, idle: float, deadline: float, what: str = "body"
) -> bytes:
    """The whole request body, however it arrives (in pieces, slowly, chunked), or a :class:`BodyError`:
    413 past ``limit`` bytes (declared or received); 408 when no byte comes for ``idle`` seconds or
    the whole takes longer than ``deadline``; 400 when the client breaks off or the chunked
    encoding is malformed."""
    declared = request.content_length
    if declared is not None and declared > limit:
        raise BodyError(413, f"{what} too large: expected at most {limit} bytes, got {declared}")
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(deadline):
            while True:
                try:
                    chunk = await asyncio.wait_for(request.content.readany(), idle)
                except TimeoutError:
                    raise BodyError(
                        408, f"{what} stalled: expected more within {idle:g} s, got {size} bytes so far"
                    ) from None
                if not chunk:
                    break
                size += len(chunk)
                if size > limit:
                    raise BodyError(413, f"{what} too large: expected at most {limit} bytes")
                chunks.append(chunk)
    except TimeoutError:
        raise BodyError(
            408, f"{what} too slow: expected it whole within {deadline:g} s, got {size} bytes"
        ) from None
    except (ConnectionError, RequestPayloadError) as exc:  # early EOF, bad chunk sizes
        raise BodyError(400, f"{what} incomplete or malformed: {exc}") from None
    if declared is not None and size != declared:
        raise BodyError(400, f"{what} incomplete: expected {declared} bytes, got {size}")
    return b"".join(chunks)


REFUSAL_REASONS = {401: "auth", 403: "auth", 408: "timeout", 413: "size", 415: "content_type"}
"""A :class:`BodyError`'s status as a metric label (anything else: ``malformed``)."""


async def client_body(
    request: web.Request,
    config: ServerConfig,
    types: Iterable[str],
    limit: int,
    what: str,
    *,
    check_token: bool = True,
) -> bytes:
    """A session-opening or costly request's body, after its checks: the token (for other
    machines; ``check_token=False`` when the caller authorised the request otherwise), the
    content type, then the whole body within ``limit``. Raises :class:`BodyError`."""
    if check_token:
        check_offer_token(request, config)
    check_content_type(request, types, what)
    return await read_body(request, limit, config.body_timeout, config.body_deadline, what)


def media_type(request: web.Request) -> str:
    return request.content_type.lower() if request.headers.get("Content-Type") else ""


def check_content_type(request: web.Request, allowed: Iterable[str], what: str) -> None:
    """415 unless the request declares one of ``allowed`` (cross-site pages cannot send those
    without a CORS preflight, which is never granted)."""
    allowed = tuple(allowed)
    got = media_type(request)
    if got not in allowed:
        raise BodyError(415, f"{what}: expected Content-Type {' or '.join(allowed)}, got {got or 'none'}")


def bearer_token(request: web.Request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def token_matches(given: str | None, expected: str) -> bool:
    """Constant-time comparison; ``None`` never matches."""
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


FRONT_SECRET_ENV = "TRYON_FRONT_SECRET"
"""Set by ``tryon serve --workers N``'s front in its workers' environment (:mod:`webrtc.front`)."""
FRONT_HEADER = "X-TryOn-Front"


def peer_address(request: web.Request) -> str:
    """The client's address: the connection's peer, or, for a request forwarded by this
    process's front (it carries the front's secret), the address the front saw."""
    secret = os.environ.get(FRONT_SECRET_ENV)
    if secret and token_matches(request.headers.get(FRONT_HEADER), secret):
        return request.headers.get("X-Forwarded-For", "")
    return request.remote or ""


def is_loopback_peer(request: web.Request) -> bool:
    remote = peer_address(request)
    try:
        return ipaddress.ip_address(remote.split("%")[0]).is_loopback
    except ValueError:
        return False


def check_offer_token(request: web.Request, config: ServerConfig) -> None:
    """Offers and photos from anywhere but loopback need ``Authorization: Bearer <offer token>``
    (401 without the right one; 403 when the server has no token and is not open to all)."""
    if is_loopback_peer(request) or config.open_offers:
        return
    if config.offer_token is None:
        raise BodyError(403, "offers from other machines are not accepted here (no offer token is set)")
    if not token_matches(bearer_token(request), config.offer_token):
        raise BodyError(401, "expected Authorization: Bearer <offer token> for offers from other machines")


def _host_name(host: str) -> str:
    """``Host`` header value → lower-case name without the port (IPv6 brackets kept)."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[: host.find("]") + 1] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


DEFAULT_PORTS = {"http": "80", "https": "443"}


def _split_authority(host: str) -> tuple[str, str | None]:
    """``host[:port]`` (a Host header or an origin's authority) as ``(name, port or None)``."""
    host = host.strip().lower()
    name = _host_name(host)
    return name, host[len(name) :].lstrip(":") or None


def same_origin(origin: str, host_header: str) -> bool:
    """Whether ``origin`` names this server as the request reached it (``Host``): the same name
    and port (another app on another port of this machine is another origin). A ``Host`` without
    a port (a proxy in front, TLS ended there) matches the origin scheme's default port."""
    scheme, sep, rest = origin.strip().lower().partition("://")
    if not sep or scheme not in DEFAULT_PORTS or not rest or "/" in rest:
        return False
    name, port = _split_authority(rest)
    host_name, host_port = _split_authority(host_header)
    if name != host_name:
        return False
    return (port or DEFAULT_PORTS[scheme]) == (host_port or DEFAULT_PORTS[scheme])


class Guard:
    """The checks every request goes through, as an aiohttp middleware (see the module's doc)."""

    def __init__(self, config: ServerConfig, refused: Callable[[str], None] | None = None) -> None:
        self.config = config
        self.hosts = config.allowed_host_names()
        self.origins = {o.lower().rstrip("/") for o in config.allowed_origins}
        self._refused = refused or (lambda _: None)

    def host_ok(self, request: web.Request) -> bool:
        if "*" in self.hosts:
            return True
        return _host_name(request.headers.get("Host", "")) in self.hosts

    def origin_ok(self, origin: str, request: web.Request) -> bool:
        """Same origin (scheme's host and port as the request's ``Host``: another app on another
        port of this machine is another origin), or one of ``allowed_origins``."""
        if origin.lower().rstrip("/") in self.origins:
            return True
        return same_origin(origin, request.headers.get("Host", ""))

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not self.host_ok(request):
            self._refused("host")
            return json_error(
                421, f"Host: expected one of this server's names ({', '.join(sorted(self.hosts))})"
            )
        origin = request.headers.get("Origin")
        fetch_site = request.headers.get("Sec-Fetch-Site", "")
        if request.method not in SAFE_METHODS:
            if origin is not None and not self.origin_ok(origin, request):
                self._refused("origin")
                return json_error(403, f"Origin: {origin[:100]!r} may not make requests to this server")
            if origin is None and fetch_site == "cross-site":
                self._refused("origin")
                return json_error(403, "cross-site requests are not accepted")
        return await handler(request)


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: the security headers on every response, no version banner."""
    for name, value in SECURITY_HEADERS.items():
        response.headers[name] = value


@web.middleware
async def errors_as_json(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refusals and unexpected failures become JSON (a 500 is logged); the server keeps serving.
    A 405 keeps its ``Allow`` header."""
    try:
        return await handler(request)
    except BodyError as exc:
        return json_error(exc.status, exc.message)
    except HTTPException as exc:
        if exc.status >= 400:
            response = json_error(exc.status, exc.reason)
            for name in ("Allow",):
                if name in exc.headers:
                    response.headers[name] = exc.headers[name]
            return response
        raise
    except Exception:
        logger.exception("%s %s failed", request.method, request.path)
        return json_error(500, "internal error; the server logged it")


def runner_options(config: ServerConfig) -> dict[str, Any]:
    """``web.AppRunner`` keyword arguments: the header timeout (aiohttp's keep-alive timer, armed
    when a connection opens and after each response, closes a connection still waiting for a
    whole request) and header size limits. Run it with ``handler_cancellation=True`` too, so a
    handler stops when its client goes away (aiohttp's test server sets it itself)."""
    return {
        "keepalive_timeout": config.header_timeout,
        "max_line_size": 8190,
        "max_field_size": 8190,
        "max_headers": 64,
    }
