"""Engagement events: one typed schema for what shoppers and viewers do, validated whole.

An event names a show (``None`` outside a show), a pseudonymous session (a random id the server
gives each page: never a name, an address or an image), its type, the server's clock, and where it
applies a product and shade, a dwell time, the page's language and a comment's text. Anything
else is refused with a reason (:class:`EventRejectedError`), counted by the caller, never stored
half-formed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from tryon.errors import InputError

EVENT_TYPES = (
    "impression",
    "try_start",
    "try_stop",
    "shade_change",
    "snapshot",
    "buy_click",
    "share",
    "like",
    "comment",
    "watch",
    "showing",
)
"""``showing`` is the host's (now showing changed); the others are viewers' and shoppers'."""
PRODUCT_TYPES = frozenset(
    {"impression", "try_start", "try_stop", "shade_change", "snapshot", "buy_click", "share"}
)
"""Types that must name a product (``showing`` may name none: nothing shown)."""
LANGUAGES = ("en", "fr", "zh")
MAX_TEXT = 200
MAX_DWELL_S = 6 * 3600.0
ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class EventRejectedError(InputError):
    """An event that is not stored; ``reason`` is the metric's label."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Event:
    show: str | None
    session: str
    type: str
    at: float
    """Server clock, Unix seconds."""
    product: str | None = None
    shade: str | None = None
    dwell_s: float | None = None
    """``try_stop``: seconds the product was worn."""
    language: str | None = None
    text: str | None = None
    """``comment``: the plain text (at most :data:`MAX_TEXT` characters)."""

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


def parse_event(
    raw: object,
    *,
    show: str | None,
    session: str,
    now: float,
    known_product: Callable[[str, str | None], bool],
) -> Event:
    """One event a page sent (``{"type", "product"?, "shade"?, "dwell_s"?, "language"?, "text"?}``)
    as an :class:`Event` stamped by the server (``show``, ``session`` and ``now`` are the server's:
    a page cannot write another session's events or choose the time). Raises
    :class:`EventRejectedError` naming what was expected and what was received."""
    if not isinstance(raw, Mapping):
        raise EventRejectedError("malformed", f"event: expected a JSON object, got {type(raw).__name__}")
    unknown = set(raw) - {"type", "product", "shade", "dwell_s", "language", "text", "client_at"}
    if unknown:
        raise EventRejectedError("malformed", f"event: unexpected fields {sorted(unknown)}")
    kind = raw.get("type")
    if kind not in EVENT_TYPES or kind == "showing":
        raise EventRejectedError(
            "type", f"type: expected one of {', '.join(EVENT_TYPES[:-1])}, got {kind!r}"[:200]
        )
    product, shade = raw.get("product"), raw.get("shade")
    for name, value in (("product", product), ("shade", shade)):
        if value is not None and (not isinstance(value, str) or not ID.match(value)):
            raise EventRejectedError("malformed", f"{name}: expected an id, got {value!r}"[:120])
    if kind in PRODUCT_TYPES and product is None:
        raise EventRejectedError("malformed", f"{kind}: expected a product")
    if product is not None and not known_product(product, shade):
        raise EventRejectedError("product", f"product: {product!r} (shade {shade!r}) is not in the catalog")
    dwell = raw.get("dwell_s")
    if kind == "try_stop":
        if isinstance(dwell, bool) or not isinstance(dwell, int | float) or not math.isfinite(dwell):
            raise EventRejectedError(
                "malformed", f"try_stop: expected dwell_s in seconds, got {dwell!r}"[:120]
            )
        if not 0 <= dwell <= MAX_DWELL_S:
            raise EventRejectedError("clock", f"dwell_s: expected 0..{MAX_DWELL_S:g} s, got {dwell}")
        dwell = float(dwell)
    elif dwell is not None:
        raise EventRejectedError("malformed", f"dwell_s: only try_stop has a dwell, got one on {kind}")
    client_at = raw.get("client_at")
    # The page's clock is only checked for nonsense (the server's clock is the one stored).
    if client_at is not None and (
        isinstance(client_at, bool) or not isinstance(client_at, int | float) or abs(client_at - now) > 86400
    ):
        message = f"client_at: expected the page's Unix time near {now:.0f}, got {client_at!r}"
        raise EventRejectedError("clock", message[:160])
    language = raw.get("language")
    if language is not None and language not in LANGUAGES:
        raise EventRejectedError(
            "malformed", f"language: expected one of {LANGUAGES}, got {language!r}"[:120]
        )
    text = raw.get("text")
    if kind == "comment":
        if not isinstance(text, str) or not text.strip():
            raise EventRejectedError("malformed", "comment: expected text")
        if len(text) > MAX_TEXT:
            raise EventRejectedError(
                "oversize", f"text: expected at most {MAX_TEXT} characters, got {len(text)}"
            )
    elif text is not None:
        raise EventRejectedError("malformed", f"text: only comments have text, got some on {kind}")
    return Event(show, session, kind, now, product, shade, dwell, language, text)
