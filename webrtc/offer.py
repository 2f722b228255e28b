"""An offer as the page posts it (``POST /offer``): JSON ``{sdp, type, products}`` checked field by
field before aiortc sees the SDP. Every refusal names what was expected and what was received."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aiortc import RTCSessionDescription
from aiortc.sdp import SessionDescription

from tryon.errors import TryOnError
from tryon.look import resolve_look
from tryon.pipeline import LookItem


class OfferRefusedError(Exception):
    """An offer the server will not negotiate: the metric's reason, the client's message, the status."""

    def __init__(self, reason: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.reason, self.message, self.status = reason, message, status


def malformed(message: str, reason: str = "malformed") -> OfferRefusedError:
    return OfferRefusedError(reason, message)


def load_json(body: bytes, expected: str) -> Any:
    """``body`` as JSON; invalid text, bad UTF-8 and nesting too deep for the parser are refusals."""
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise malformed(f"{expected}, got invalid JSON ({exc})"[:300]) from None
    except RecursionError:
        raise malformed(f"{expected}, got JSON nested too deeply") from None


def parse_offer(
    body: bytes, resolve: Callable[[str], LookItem], max_look: int
) -> tuple[RTCSessionDescription, list[LookItem]]:
    """The offer's description and its look, or :class:`OfferRefusedError` (400)."""
    expected = "expected a JSON object {sdp, type, products}"
    msg = load_json(body, expected)
    if not isinstance(msg, dict):
        raise malformed(f"{expected}, got {type(msg).__name__}")
    sdp, kind, products = msg.get("sdp"), msg.get("type"), msg.get("products", [])
    if kind != "offer":
        raise malformed(f'type: expected "offer", got {kind!r}'[:200])
    if not isinstance(sdp, str) or not sdp.strip():
        raise malformed("sdp: expected the offer's SDP text, got " + repr(sdp)[:40])
    if not isinstance(products, list) or not all(isinstance(p, str) for p in products):
        raise malformed(f'products: expected a list of "ID[:variant]", got {products!r}'[:200])
    if len(products) > max_look:
        raise malformed(f"products: expected at most {max_look}, got {len(products)}")
    check_offer_sdp(sdp)
    try:
        items = [resolve(p) for p in products]
    except TryOnError as exc:
        raise malformed(str(exc)[:300], "product") from None
    # Products worn in the same place: the later one (the session's hello says the look worn).
    kept, _ = resolve_look(items)
    return RTCSessionDescription(sdp=sdp, type="offer"), kept


def check_offer_sdp(sdp: str, directions: tuple[str, ...] = ("sendrecv",)) -> None:
    """The checks an offer's SDP passes before aiortc sees it: it parses, has a video m-line in
    one of ``directions`` (a camera), ICE credentials and a DTLS fingerprint. Raises
    :class:`OfferRefusedError` (400) saying what is missing."""
    try:
        parsed = SessionDescription.parse(sdp)
    except Exception as exc:  # aiortc's parser raises assorted exceptions on bad SDP
        raise malformed(f"malformed SDP: {type(exc).__name__}: {exc}"[:300]) from None
    video = [m for m in parsed.media if m.kind == "video" and m.direction in directions]
    if not video:
        expected = " or ".join(directions)
        raise malformed(f"the offer has no camera track: expected a {expected} video m-line")
    ice, dtls = video[0].ice, video[0].dtls
    if ice is None or not ice.usernameFragment or not ice.password:
        raise malformed("the offer's video has no ICE credentials: expected a=ice-ufrag and a=ice-pwd")
    if dtls is None or not dtls.fingerprints:
        raise malformed("the offer's video has no DTLS fingerprint: expected a=fingerprint")
