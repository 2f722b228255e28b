"""Recommendations from behaviour: "tried this, also tried" and "popular in this show now".

Co-occurrence counts pairs of products tried in the same session (a viewer's or shopper's page),
within a show and, when seeded from the store, across shows. Memory: one set of products per
session (bounded by the catalog) and one counter per pair of products tried together.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict, deque
from collections.abc import Iterable

from tryon.analytics.events import Event

POPULAR_WINDOW_S = 300.0
MAX_SESSIONS = 100_000
"""Sessions remembered for co-occurrence; the oldest are forgotten past this (their pairs stay)."""


class Recommender:
    def __init__(self) -> None:
        self.pairs: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self.tries: Counter[str] = Counter()
        self._sessions: dict[str, set[str]] = {}
        self._recent: deque[tuple[float, str]] = deque()

    def add(self, event: Event) -> None:
        if event.type != "try_start" or not event.product:
            return
        product = event.product
        self.tries[product] += 1
        self._recent.append((event.at, product))
        tried = self._sessions.setdefault(event.session, set())
        if product not in tried:
            for other in tried:
                self.pairs[product][other] += 1
                self.pairs[other][product] += 1
            tried.add(product)
        if len(self._sessions) > MAX_SESSIONS:
            self._sessions.pop(next(iter(self._sessions)))

    def seed(self, events: Iterable[Event]) -> None:
        """Learn from past shows' events (co-occurrence across shows)."""
        for event in events:
            self.add(event)

    def also_tried(self, product: str, k: int = 3, exclude: Iterable[str] = ()) -> list[str]:
        """Products most often tried in the same session as ``product`` (ties: the most tried)."""
        skip = {product, *exclude}
        ranked = sorted(
            ((n, self.tries[p], p) for p, n in self.pairs.get(product, Counter()).items() if p not in skip),
            key=lambda t: (-t[0], -t[1], t[2]),
        )
        return [p for _, _, p in ranked[:k]]

    def popular_now(self, now: float | None = None, k: int = 3, exclude: Iterable[str] = ()) -> list[str]:
        """The most tried products of the last :data:`POPULAR_WINDOW_S` seconds."""
        now = time.time() if now is None else now
        while self._recent and self._recent[0][0] < now - POPULAR_WINDOW_S:
            self._recent.popleft()
        skip = set(exclude)
        counts = Counter(p for _, p in self._recent if p not in skip)
        return [p for p, _ in sorted(counts.items(), key=lambda t: (-t[1], t[0]))[:k]]
