"""The host's live board: per product, what the audience does with it, updated as events arrive.

Pure and incremental: :meth:`Board.add` takes each event (with its comment's analysis), and
:meth:`Board.snapshot` returns the board at ``now`` in O(products). Memory is bounded by the
catalog (one row per product), :data:`SPARK_MINUTES` buckets per row and :data:`QUESTIONS`
waiting questions.
"""

from __future__ import annotations

import statistics
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tryon.analytics.events import Event

TREND_WINDOW_S = 300.0
"""The trend compares the tries of the last 5 minutes with the show's rate so far."""
SPARK_MINUTES = 15
QUESTIONS = 50
MAX_DWELLS = 2000
"""Dwell times kept per product for its median (the latest)."""


@dataclass
class ProductRow:
    product: str
    tries: int = 0
    buys: int = 0
    likes_showing: int = 0
    mentions: int = 0
    shares: int = 0
    snapshots: int = 0
    dwells: deque[float] = field(default_factory=lambda: deque(maxlen=MAX_DWELLS))
    try_times: deque[float] = field(default_factory=deque)
    """When each recent try started (the last :data:`TREND_WINDOW_S` and the sparkline's span)."""

    def add_dwell(self, seconds: float) -> None:
        self.dwells.append(seconds)


@dataclass
class Question:
    id: int
    text: str
    products: tuple[str, ...]
    at: float
    author: str | None


class Board:
    def __init__(self, started_at: float) -> None:
        self.started_at = started_at
        self.rows: dict[str, ProductRow] = {}
        self.showing: str | None = None
        self.questions: deque[Question] = deque(maxlen=QUESTIONS)
        self.likes = 0
        self.comments = 0
        self._next_question = 1

    def row(self, product: str) -> ProductRow:
        row = self.rows.get(product)
        if row is None:
            row = self.rows[product] = ProductRow(product)
        return row

    def add(
        self,
        event: Event,
        mentions: Sequence[str] = (),
        question: bool = False,
        author: str | None = None,
    ) -> None:
        """Count one event; a comment's ``mentions`` (product ids) and ``question`` come from its
        analysis (a question without a product names the one showing)."""
        kind, product = event.type, event.product
        if kind == "showing":
            self.showing = product
        elif kind == "try_start" and product:
            row = self.row(product)
            row.tries += 1
            row.try_times.append(event.at)
            horizon = event.at - max(TREND_WINDOW_S, SPARK_MINUTES * 60.0)
            while row.try_times and row.try_times[0] < horizon:
                row.try_times.popleft()
        elif kind == "try_stop" and product and event.dwell_s is not None:
            self.row(product).add_dwell(event.dwell_s)
        elif kind == "buy_click" and product:
            self.row(product).buys += 1
        elif kind == "share" and product:
            self.row(product).shares += 1
        elif kind == "snapshot" and product:
            self.row(product).snapshots += 1
        elif kind == "like":
            self.likes += 1
            if self.showing:
                self.row(self.showing).likes_showing += 1
        elif kind == "comment":
            self.comments += 1
            for pid in dict.fromkeys(mentions):
                self.row(pid).mentions += 1
            if question and event.text:
                about = tuple(mentions) or ((self.showing,) if self.showing else ())
                self.questions.append(Question(self._next_question, event.text, about, event.at, author))
                self._next_question += 1

    def answer(self, question_id: int) -> bool:
        """Take a question off the queue (the host answered it); ``False`` if it is not there."""
        for q in self.questions:
            if q.id == question_id:
                self.questions.remove(q)
                return True
        return False

    def snapshot(self, now: float, viewers: int = 0, peak: int = 0, top: int = 5) -> dict[str, Any]:
        """The board as the studio shows it: rows sorted by tries, then buys, then mentions."""
        elapsed = max(now - self.started_at, 1.0)
        rows: list[dict[str, Any]] = []
        for row in self.rows.values():
            recent = sum(1 for t in row.try_times if t >= now - TREND_WINDOW_S)
            window = min(TREND_WINDOW_S, elapsed)
            rate_recent = recent / window
            rate_all = row.tries / elapsed
            trend = rate_recent / rate_all if rate_all > 0 else 0.0
            rows.append(
                {
                    "product": row.product,
                    "tries": row.tries,
                    "median_dwell_s": round(statistics.median(row.dwells), 1) if row.dwells else None,
                    "buys": row.buys,
                    "conversion": round(row.buys / row.tries, 3) if row.tries else None,
                    "likes_showing": row.likes_showing,
                    "mentions": row.mentions,
                    "shares": row.shares,
                    "snapshots": row.snapshots,
                    "trend": round(trend, 2),
                    "trend_label": "up"
                    if trend >= 1.25
                    else "down"
                    if row.tries and trend <= 0.8
                    else "flat",
                    "spark": _spark(row.try_times, now),
                }
            )
        rows.sort(key=lambda r: (-r["tries"], -r["buys"], -r["mentions"], r["product"]))
        return {
            "at": round(now, 3),
            "showing": self.showing,
            "viewers": viewers,
            "peak": peak,
            "likes": self.likes,
            "comments": self.comments,
            "top": [r["product"] for r in rows[:top] if r["tries"] or r["buys"] or r["mentions"]],
            "products": rows,
            "questions": [
                {
                    "id": q.id,
                    "text": q.text,
                    "products": list(q.products),
                    "at": round(q.at, 3),
                    "author": q.author,
                }
                for q in self.questions
            ],
        }


def _spark(times: deque[float], now: float) -> list[int]:
    """Tries per minute over the last :data:`SPARK_MINUTES` minutes, oldest first."""
    counts = [0] * SPARK_MINUTES
    for t in times:
        minute = int((now - t) // 60)
        if 0 <= minute < SPARK_MINUTES:
            counts[SPARK_MINUTES - 1 - minute] += 1
    return counts
