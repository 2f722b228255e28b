"""A show's report: its stored events in, a :class:`Report` out (pure: no I/O, no clock).

The per-product numbers (tries, median dwell, buys, conversion, likes while showing, mentions)
are the live board's: the events are replayed through :class:`tryon.analytics.board.Board` (with
every dwell and every question kept, where the live board keeps the latest), so the report and
the studio's board count the same way. On top of it the report adds what a board does not keep:

- the funnel impression → try → buy, each stage the number of distinct sessions with at least one
  event of that type (any product); the stages are not nested (a viewer's page may buy without
  trying on), so a later stage can in principle exceed an earlier one;
- viewers over time: per minute since the show's first event, the distinct sessions that sent a
  ``watch`` heartbeat (every 30 s per watching page) in that minute;
- the timeline of what was showing when, from the host's ``showing`` events (a segment lasts until
  the next ``showing`` or the show's last event);
- the questions asked, the comments the analyzer flags as questions.

Mentions: the store keeps a comment's text but not its analysis, so the report analyses the
stored texts again with :class:`tryon.analytics.comments.CommentAnalyzer` and resolves them as
the server does (products pinned by a name, brand or shade; a kind named alone, "the lipstick",
is the product showing then, known from the replayed ``showing`` events). The analyzer is
deterministic, so with the catalog the show ran with these are the numbers the board showed; with
a catalog changed since, they follow the new catalog. Without an analyzer, ``mentions`` and the
questions are left out (``None`` and empty) rather than guessed.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from tryon.analytics.board import Board, ProductRow
from tryon.analytics.events import Event

Progress = Callable[[int, int], None]
"""``(done, total)`` events replayed: for a progress bar."""


@dataclass(frozen=True)
class ProductStats:
    product: str
    name: str
    impressions: int
    tries: int
    median_dwell_s: float | None
    buys: int
    conversion: float | None
    """Buys / tries (``None`` without tries), as on the board."""
    likes_showing: int
    mentions: int | None
    """``None``: comments not analysed."""
    shares: int
    snapshots: int
    showing_s: float
    """Seconds it was the product showing."""
    try_times: tuple[float, ...]
    buy_times: tuple[float, ...]


@dataclass(frozen=True)
class Funnel:
    """Distinct sessions at each stage."""

    impression: int
    tried: int
    bought: int

    @property
    def try_rate(self) -> float | None:
        return round(self.tried / self.impression, 3) if self.impression else None

    @property
    def buy_rate(self) -> float | None:
        return round(self.bought / self.tried, 3) if self.tried else None


@dataclass(frozen=True)
class Showing:
    product: str
    start: float
    end: float

    @property
    def seconds(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class QuestionAsked:
    at: float
    text: str
    """The viewer's text, as typed: untrusted (escape it wherever it is shown)."""
    products: tuple[str, ...]
    """What it mentions, else the product showing when it was asked."""
    language: str | None


@dataclass(frozen=True)
class Report:
    show: str
    start: float
    """The show's first event (server clock, Unix seconds)."""
    end: float
    """Its last event."""
    events: int
    sessions: int
    likes: int
    comments: int
    products: tuple[ProductStats, ...]
    """Sorted as the board sorts: by tries, then buys, then mentions."""
    funnel: Funnel
    viewers: tuple[int, ...]
    """Distinct sessions watching, per minute since :attr:`start`."""
    timeline: tuple[Showing, ...]
    questions: tuple[QuestionAsked, ...]
    comments_analysed: bool

    @property
    def duration_s(self) -> float:
        return self.end - self.start

    @property
    def peak_viewers(self) -> int:
        return max(self.viewers, default=0)

    def product(self, pid: str) -> ProductStats:
        for p in self.products:
            if p.product == pid:
                return p
        raise KeyError(pid)

    def rows(self) -> list[dict[str, Any]]:
        """One row per product with its numbers (the CSV's and the table's)."""
        return [
            {
                "product": p.product,
                "name": p.name,
                "impressions": p.impressions,
                "tries": p.tries,
                "median_dwell_s": p.median_dwell_s,
                "buys": p.buys,
                "conversion": p.conversion,
                "likes_showing": p.likes_showing,
                "mentions": p.mentions,
                "shares": p.shares,
                "snapshots": p.snapshots,
                "showing_s": round(p.showing_s, 1),
            }
            for p in self.products
        ]


class _ReportBoard(Board):
    """The live board keeping everything: every dwell (the median of all) and every question."""

    def __init__(self, started_at: float) -> None:
        super().__init__(started_at)
        self.questions = deque()

    def row(self, product: str) -> ProductRow:
        row = self.rows.get(product)
        if row is None:
            row = self.rows[product] = ProductRow(product, dwells=deque())
        return row


def resolve_mentions(
    products: Iterable[str],
    kinds: Iterable[str],
    showing: str | None,
    known: Callable[[str], bool],
    kind_of: Callable[[str], str | None],
) -> list[str]:
    """A comment's products as the server counts them: those of the catalog it pins, else the one
    showing when the comment names its kind alone ("the lipstick" while the lipstick shows)."""
    mentions = [p for p in products if known(p)]
    if not mentions and showing and kind_of(showing) in set(kinds):
        mentions = [showing]
    return mentions


def build_report(
    show: str,
    events: Sequence[Event],
    *,
    analyzer: Any | None = None,
    names: Callable[[str], str] | None = None,
    progress: Progress | None = None,
) -> Report:
    """The report of ``show`` from its ``events`` in time order (as
    :meth:`tryon.analytics.store.EventStore.events` returns them). ``analyzer``: a
    :class:`tryon.analytics.comments.CommentAnalyzer` (its catalog names the products and their
    kinds) for mentions and questions; ``names``: a product's display name (default: the
    analyzer's catalog, else the id)."""
    catalog = analyzer.catalog if analyzer is not None else None
    if names is None:

        def names(pid: str) -> str:
            p = catalog.products.get(pid) if catalog is not None else None
            return p.name if p is not None else pid

    def kind_of(pid: str) -> str | None:
        p = catalog.products.get(pid) if catalog is not None else None
        return p.kind if p is not None else None

    start = events[0].at if events else 0.0
    end = events[-1].at if events else 0.0
    board = _ReportBoard(start)
    impressions: dict[str, int] = {}
    try_times: dict[str, list[float]] = {}
    buy_times: dict[str, list[float]] = {}
    stage: dict[str, set[str]] = {"impression": set(), "try_start": set(), "buy_click": set()}
    minutes = int((end - start) // 60) + 1 if events else 0
    watching: list[set[str]] = [set() for _ in range(minutes)]
    sessions: set[str] = set()
    timeline: list[Showing] = []
    showing: str | None = None
    since = start
    languages: list[str | None] = []  # of the questions, in the board's order
    total = len(events)
    for i, event in enumerate(events):
        sessions.add(event.session)
        kind, product = event.type, event.product
        mentions: list[str] = []
        question = False
        if kind == "comment" and event.text and analyzer is not None:
            analysis = analyzer.analyze(event.text)
            known = catalog.products.__contains__ if catalog is not None else (lambda _p: False)
            mentions = resolve_mentions(analysis.products, analysis.kinds, showing, known, kind_of)
            question = bool(analysis.question)
            if question:
                languages.append(event.language)
        board.add(event, mentions, question)
        if kind in stage:
            stage[kind].add(event.session)
        if kind == "impression" and product:
            impressions[product] = impressions.get(product, 0) + 1
        elif kind == "try_start" and product:
            try_times.setdefault(product, []).append(event.at)
        elif kind == "buy_click" and product:
            buy_times.setdefault(product, []).append(event.at)
        elif kind == "watch":
            watching[int((event.at - start) // 60)].add(event.session)
        elif kind == "showing" and product != showing:
            if showing is not None and event.at > since:
                timeline.append(Showing(showing, since, event.at))
            showing, since = product, event.at
        if progress is not None and (i % 500 == 499 or i == total - 1):
            progress(i + 1, total)
    if showing is not None and end > since:
        timeline.append(Showing(showing, since, end))

    snapshot = board.snapshot(end)
    showing_s: dict[str, float] = {}
    for segment in timeline:
        showing_s[segment.product] = showing_s.get(segment.product, 0.0) + segment.seconds
    rows = {r["product"]: r for r in snapshot["products"]}
    for pid in list(impressions) + list(showing_s):  # seen or shown, never tried: rows of zeros
        if pid not in rows:
            rows[pid] = {
                "product": pid,
                "tries": 0,
                "median_dwell_s": None,
                "buys": 0,
                "conversion": None,
                "likes_showing": 0,
                "mentions": 0,
                "shares": 0,
                "snapshots": 0,
            }
    order = sorted(rows.values(), key=lambda r: (-r["tries"], -r["buys"], -r["mentions"], r["product"]))
    products = tuple(
        ProductStats(
            product=r["product"],
            name=names(r["product"]),
            impressions=impressions.get(r["product"], 0),
            tries=r["tries"],
            median_dwell_s=r["median_dwell_s"],
            buys=r["buys"],
            conversion=r["conversion"],
            likes_showing=r["likes_showing"],
            mentions=r["mentions"] if analyzer is not None else None,
            shares=r["shares"],
            snapshots=r["snapshots"],
            showing_s=showing_s.get(r["product"], 0.0),
            try_times=tuple(try_times.get(r["product"], ())),
            buy_times=tuple(buy_times.get(r["product"], ())),
        )
        for r in order
    )
    questions = tuple(
        QuestionAsked(q.at, q.text, q.products, lang)
        for q, lang in zip(board.questions, languages, strict=True)
    )
    return Report(
        show=show,
        start=start,
        end=end,
        events=len(events),
        sessions=len(sessions),
        likes=board.likes,
        comments=board.comments,
        products=products,
        funnel=Funnel(
            len(stage["impression"]),
            len(stage["try_start"]),
            len(stage["buy_click"]),
        ),
        viewers=tuple(len(s) for s in watching),
        timeline=tuple(timeline),
        questions=questions,
        comments_analysed=analyzer is not None,
    )


def fmt(value: float | None, digits: int = 1, percent: bool = False) -> str:
    """A number for a table: ``–`` for none, a percentage for rates."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if percent:
        return f"{value * 100:.{digits}f} %"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)
