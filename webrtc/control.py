"""The control channel's messages: JSON objects in, validated into typed requests.

Page → server (each may carry an ``id`` the reply echoes):

- ``{"type": "look", "products": ["ID[:variant]" | {"product": "ID[:variant]", "intensity": x}, ...],
  "intensity": x}``: replace the look (``intensity`` optional, 0..1, for the whole look);
- ``{"type": "split", "position": 0..1 | null, "before": "left" | "right"}``: before/after view;
- ``{"type": "pause", "paused": true | false}``: the camera passes through untouched while paused;
- ``{"type": "ping"}``: answered by ``{"type": "pong"}``;
- ``{"type": "trace", "seconds": s}``: record the session's frames for ``s`` seconds (at most
  :data:`MAX_TRACE_SECONDS`) into the server's trace folder (``tryon serve --trace-dir``); the
  ack names the file, a ``{"type": "trace", "file": ..., "frames": n}`` message follows once it
  is written.

Server → page: ``hello`` on open, ``ack`` after each request, ``error`` with a message for a bad
one (the session goes on), ``stats`` about once a second.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tryon.errors import InputError

MessageId = int | str | None


@dataclass(frozen=True)
class LookRequest:
    id: MessageId
    products: tuple[tuple[str, float], ...]
    """``(spec, per-item intensity)``."""
    intensity: float | None


@dataclass(frozen=True)
class SplitRequest:
    id: MessageId
    position: float | None
    before: str = "left"


@dataclass(frozen=True)
class PauseRequest:
    id: MessageId
    paused: bool


@dataclass(frozen=True)
class PingRequest:
    id: MessageId


@dataclass(frozen=True)
class TraceRequest:
    id: MessageId
    seconds: float


MAX_TRACE_SECONDS = 30.0
Request = LookRequest | SplitRequest | PauseRequest | PingRequest | TraceRequest
TYPES = ("look", "split", "pause", "ping", "trace")


class ControlError(InputError):
    """A control message that cannot be applied; ``id`` is the message's, when it had one."""

    def __init__(self, message: str, id: MessageId = None) -> None:
        super().__init__(message)
        self.id = id


def _fraction(value: Any, name: str, id: MessageId) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= float(value) <= 1.0:
        raise ControlError(f"{name}: expected a number in [0, 1], got {value!r}", id)
    return float(value)


def _look(msg: dict[str, Any], id: MessageId, max_look: int) -> LookRequest:
    products = msg.get("products")
    if not isinstance(products, list):
        raise ControlError(f"look.products: expected a list of product specs, got {products!r}", id)
    if len(products) > max_look:
        raise ControlError(f"look.products: expected at most {max_look} products, got {len(products)}", id)
    items: list[tuple[str, float]] = []
    for i, item in enumerate(products):
        if isinstance(item, str):
            items.append((item, 1.0))
        elif isinstance(item, dict) and isinstance(item.get("product"), str):
            items.append((item["product"], _fraction(item.get("intensity", 1.0), f"look.products[{i}]", id)))
        else:
            raise ControlError(
                f'look.products[{i}]: expected "ID[:variant]" or {{"product": ..., "intensity": ...}}, '
                f"got {item!r}",
                id,
            )
    intensity = msg.get("intensity")
    return LookRequest(id, tuple(items), None if intensity is None else _fraction(intensity, "intensity", id))


def parse_message(raw: str | bytes, max_bytes: int = 4096, max_look: int = 12) -> Request:
    """One message from the page as a request, or :class:`ControlError` saying what is wrong."""
    if isinstance(raw, bytes):
        raise ControlError(f"expected a JSON text message, got {len(raw)} bytes of binary")
    if len(raw.encode()) > max_bytes:
        raise ControlError(f"message too large: expected at most {max_bytes} bytes, got {len(raw.encode())}")
    try:
        msg = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ControlError(f"expected a JSON object, got invalid JSON ({exc.msg} at {exc.pos})") from None
    except RecursionError:
        raise ControlError("expected a JSON object, got JSON nested too deeply") from None
    if not isinstance(msg, dict):
        raise ControlError(f"expected a JSON object, got {type(msg).__name__}")
    id = msg.get("id")
    if not (id is None or isinstance(id, str) or (isinstance(id, int) and not isinstance(id, bool))):
        raise ControlError(f"id: expected a number or a string, got {id!r}")
    kind = msg.get("type")
    if kind == "look":
        return _look(msg, id, max_look)
    if kind == "split":
        position = msg.get("position")
        before = msg.get("before", "left")
        if before not in ("left", "right"):
            raise ControlError(f'split.before: expected "left" or "right", got {before!r}', id)
        return SplitRequest(
            id, None if position is None else _fraction(position, "split.position", id), before
        )
    if kind == "pause":
        paused = msg.get("paused")
        if not isinstance(paused, bool):
            raise ControlError(f"pause.paused: expected true or false, got {paused!r}", id)
        return PauseRequest(id, paused)
    if kind == "ping":
        return PingRequest(id)
    if kind == "trace":
        seconds = msg.get("seconds", 10)
        if (
            isinstance(seconds, bool)
            or not isinstance(seconds, int | float)
            or not 0 < seconds <= MAX_TRACE_SECONDS
        ):
            raise ControlError(
                f"trace.seconds: expected a number in (0, {MAX_TRACE_SECONDS:g}], got {seconds!r}", id
            )
        return TraceRequest(id, float(seconds))
    raise ControlError(f"type: expected one of {', '.join(TYPES)}, got {kind!r}", id)


def error_message(message: str, id: MessageId = None) -> str:
    return json.dumps({"type": "error", "id": id, "message": message})


def reply(kind: str, id: MessageId = None, **fields: Any) -> str:
    return json.dumps({"type": kind, "id": id, **fields})
