"""Promotions triggered by behaviour: rules are data (JSON), validated at load, fired at most once
per session and never more often than one promotion per session every :data:`QUIET_S` seconds.

A rule::

    {"id": "ruby10", "code": "RUBY10", "discount_pct": 10,
     "target": {"product": "velvet-matte-lipstick"}  or  {"kind": "lipstick"},
     "trigger": {"tried_s": 20, "not_bought": true}  or  {"watched_s": 600},
     "message": {"en": "...", "fr": "...", "zh": "..."}}

``tried_s``: the session wore a target product that long (in one go or in total) and, with
``not_bought``, has not clicked Buy on it. ``watched_s``: the session watched the show that long
(its ``watch`` heartbeats). A rule whose target is a kind applies to every product of that kind.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tryon.analytics.events import Event
from tryon.errors import InputError

QUIET_S = 300.0
WATCH_HEARTBEAT_S = 30.0
"""Seconds of watching one ``watch`` heartbeat stands for (the pages send one every 30 s)."""
RULE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


class PromotionError(InputError):
    pass


@dataclass(frozen=True)
class Promotion:
    id: str
    code: str
    discount_pct: float
    target_product: str | None
    target_kind: str | None
    tried_s: float | None
    not_bought: bool
    watched_s: float | None
    message: Mapping[str, str]

    def to_json(self, product: str | None = None) -> dict[str, Any]:
        return {
            "id": self.id,
            "code": self.code,
            "discount_pct": self.discount_pct,
            "product": product or self.target_product,
            "kind": self.target_kind,
            "message": dict(self.message),
        }


def parse_rule(raw: object, where: str, kinds: Sequence[str], products: Callable[[str], bool]) -> Promotion:
    """One rule, or :class:`PromotionError` naming ``where`` and the field at fault."""

    def fail(name: str, expected: str, got: object) -> PromotionError:
        return PromotionError(f"{where}: {name}: expected {expected}, got {got!r}"[:300])

    if not isinstance(raw, Mapping):
        raise fail("rule", "a JSON object", raw)
    extra = set(raw) - {"id", "code", "discount_pct", "target", "trigger", "message"}
    if extra:
        raise fail("rule", "only id, code, discount_pct, target, trigger, message", sorted(extra))
    rid, code, pct = raw.get("id"), raw.get("code"), raw.get("discount_pct")
    if not isinstance(rid, str) or not RULE_ID.match(rid):
        raise fail("id", "lower-case letters, digits and dashes (1-40)", rid)
    if not isinstance(code, str) or not re.match(r"^[A-Z0-9-]{3,20}$", code):
        raise fail(f"{rid}.code", "3-20 upper-case letters, digits or dashes", code)
    if isinstance(pct, bool) or not isinstance(pct, int | float) or not 0 < pct <= 90:
        raise fail(f"{rid}.discount_pct", "a percentage in (0, 90]", pct)
    target, trigger, message = raw.get("target"), raw.get("trigger"), raw.get("message")
    if not isinstance(target, Mapping) or len(target) != 1 or not set(target) <= {"product", "kind"}:
        raise fail(f"{rid}.target", '{"product": id} or {"kind": kind}', target)
    product, kind = target.get("product"), target.get("kind")
    if product is not None and (not isinstance(product, str) or not products(product)):
        raise fail(f"{rid}.target.product", "a product of the catalog", product)
    if kind is not None and kind not in kinds:
        raise fail(f"{rid}.target.kind", f"one of {', '.join(kinds)}", kind)
    if not isinstance(trigger, Mapping) or not trigger:
        raise fail(f"{rid}.trigger", '{"tried_s": s, "not_bought"?: bool} or {"watched_s": s}', trigger)
    extra = set(trigger) - {"tried_s", "not_bought", "watched_s"}
    if extra or ("tried_s" in trigger) == ("watched_s" in trigger):
        raise fail(
            f"{rid}.trigger",
            "exactly one of tried_s or watched_s (and not_bought with tried_s)",
            dict(trigger),
        )
    seconds = trigger.get("tried_s", trigger.get("watched_s"))
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 0 < seconds <= 4 * 3600:
        raise fail(f"{rid}.trigger", "seconds in (0, 14400]", seconds)
    not_bought = trigger.get("not_bought", False)
    if not isinstance(not_bought, bool) or (not_bought and "tried_s" not in trigger):
        raise fail(f"{rid}.trigger.not_bought", "true or false, with tried_s", not_bought)
    if not isinstance(message, Mapping) or "en" not in message:
        raise fail(f"{rid}.message", 'texts by language, with "en" at least', message)
    for lang, text in message.items():
        if lang not in ("en", "fr", "zh") or not isinstance(text, str) or not 0 < len(text) <= 140:
            raise fail(f"{rid}.message.{lang}", "en/fr/zh texts of 1-140 characters", text)
    return Promotion(
        rid,
        code,
        float(pct),
        product,
        kind,
        float(seconds) if "tried_s" in trigger else None,
        not_bought,
        float(seconds) if "watched_s" in trigger else None,
        dict(message),
    )


def load_rules(path: Path, kinds: Sequence[str], products: Callable[[str], bool]) -> list[Promotion]:
    """The rules of a JSON file (a list), each validated; errors name the file and the field."""
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise PromotionError(f"{path}: expected a JSON list of promotion rules: {exc}") from None
    if not isinstance(raw, list):
        raise PromotionError(f"{path}: expected a JSON list of promotion rules, got {type(raw).__name__}")
    rules = [parse_rule(r, f"{path}[{i}]", kinds, products) for i, r in enumerate(raw)]
    ids = [r.id for r in rules]
    if len(set(ids)) != len(ids):
        raise PromotionError(f"{path}: id: expected unique rule ids, got {ids}")
    return rules


@dataclass
class _Session:
    wearing: dict[str, float] = field(default_factory=dict)
    """Product → when the session put it on (still wearing)."""
    worn: dict[str, float] = field(default_factory=dict)
    """Product → seconds worn before (finished tries)."""
    bought: set[str] = field(default_factory=set)
    watched_s: float = 0.0
    fired: set[str] = field(default_factory=set)
    last_fired: float = -1e18


class PromotionEngine:
    """Which promotion each session should see now (see the module's doc)."""

    def __init__(self, rules: Sequence[Promotion], kind_of: Callable[[str], str | None]) -> None:
        self.rules = list(rules)
        self._kind_of = kind_of
        self._sessions: dict[str, _Session] = {}

    def add(self, event: Event) -> None:
        s = self._sessions.setdefault(event.session, _Session())
        p = event.product
        if event.type == "try_start" and p:
            s.wearing.setdefault(p, event.at)
        elif event.type == "try_stop" and p:
            start = s.wearing.pop(p, None)
            worn = event.dwell_s if event.dwell_s is not None else (event.at - start if start else 0.0)
            s.worn[p] = s.worn.get(p, 0.0) + max(worn, 0.0)
        elif event.type == "buy_click" and p:
            s.bought.add(p)
        elif event.type == "watch":
            s.watched_s += WATCH_HEARTBEAT_S

    def forget(self, session: str) -> None:
        self._sessions.pop(session, None)

    def due(self, now: float) -> list[tuple[str, dict[str, Any]]]:
        """``(session, promotion)`` for each session a rule fires for now (at most one each)."""
        out = []
        for sid, s in self._sessions.items():
            if now - s.last_fired < QUIET_S:
                continue
            for rule in self.rules:
                if rule.id in s.fired:
                    continue
                product = self._fires(rule, s, now)
                if product is None:
                    continue
                s.fired.add(rule.id)
                s.last_fired = now
                out.append((sid, rule.to_json(product or None)))
                break
        return out

    def _fires(self, rule: Promotion, s: _Session, now: float) -> str | None:
        """The product the rule fires for ("" for a watch rule), or ``None``."""
        if rule.watched_s is not None:
            return "" if s.watched_s >= rule.watched_s else None
        assert rule.tried_s is not None
        for product in set(s.worn) | set(s.wearing):
            if rule.target_product not in (None, product):
                continue
            if rule.target_kind is not None and self._kind_of(product) != rule.target_kind:
                continue
            if rule.not_bought and product in s.bought:
                continue
            worn = s.worn.get(product, 0.0) + (now - s.wearing[product] if product in s.wearing else 0.0)
            if worn >= rule.tried_s:
                return product
        return None
