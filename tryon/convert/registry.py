"""Operator handler registry: each handler is registered by a decorator beside its code."""

from __future__ import annotations

from collections.abc import Callable

from tryon.convert.graph import GraphBuilder
from tryon.convert.tflite_reader import Operator

Handler = Callable[[GraphBuilder, Operator], None]

HANDLERS: dict[str, Handler] = {}


def register(*opcodes: str) -> Callable[[Handler], Handler]:
    """Register ``fn`` as the converter of TFLite ``opcodes`` (``CUSTOM:<code>`` for custom ops)."""

    def wrap(fn: Handler) -> Handler:
        for code in opcodes:
            if code in HANDLERS:
                raise RuntimeError(f"two handlers registered for {code}")
            HANDLERS[code] = fn
        return fn

    return wrap
