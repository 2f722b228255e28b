"""The server's side of engagement analytics: events in (pages' batches and the server's own
observations), the live boards, recommendations and promotions out, the store behind.

Who writes which event: the server itself records what it sees (a viewer's like and comment, the
host's now showing, a shopper's look changes as ``try_start`` / ``try_stop`` / ``shade_change``
with their dwell, snapshots); pages add what only they see (``impression``, ``buy_click``,
``share``, ``watch`` heartbeats) through ``POST /api/events``. Sessions are pseudonymous: a random
id per page, never the viewer token, the session id of the URL, a name or an address.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from tryon.analytics.board import Board
from tryon.analytics.events import Event, EventRejectedError, parse_event
from tryon.analytics.promotions import Promotion, PromotionEngine, load_rules
from tryon.analytics.recommend import Recommender
from tryon.analytics.report import resolve_mentions
from tryon.catalog import Catalog
from tryon.catalog.kinds import kind_names

if TYPE_CHECKING:
    from webrtc.metrics import Metrics

logger = logging.getLogger(__name__)

MAX_BATCH = 50
EVENTS_PER_S = (20.0, 60.0)
"""Page events per session: 20 a second, bursts of 60."""


class Sink(Protocol):
    def submit(self, events: Sequence[Event]) -> asyncio.Future[bool]: ...

    async def close(self) -> Any: ...


class StoredSink:
    """The store behind its writer, with retention: events older than ``retention_days`` are
    purged at start and every hour."""

    def __init__(self, store: Any, sink: Any, retention_days: float) -> None:
        self.store, self.sink, self.retention_s = store, sink, retention_days * 86400.0
        self._purger = asyncio.ensure_future(self._purge())

    def submit(self, events: Sequence[Event]) -> asyncio.Future[bool]:
        future: asyncio.Future[bool] = self.sink.submit(events)
        return future

    async def _purge(self) -> None:
        while True:
            try:
                purged = await self.store.purge(self.retention_s)
                if purged:
                    logger.info("analytics: %d events older than the retention purged", purged)
            except Exception as exc:  # the store is down: the sink says so; try again later
                logger.debug("analytics: purge failed: %s", exc)
            await asyncio.sleep(3600)

    async def close(self) -> None:
        self._purger.cancel()
        await self.sink.close()
        await self.store.close()


async def open_sink(url: str, retention_days: float) -> StoredSink:
    """The event store at ``url`` (``sqlite:///...`` or ``postgresql://...``) behind its writer."""
    from tryon.analytics.store.sink import EventSink
    from tryon.analytics.store.store import EventStore

    store = EventStore(url)
    await store.open()
    logger.info("analytics: events stored in %s", store.url)
    return StoredSink(store, EventSink(store), retention_days)


def load_promotions(config: Any, catalog: Catalog) -> list[Promotion]:
    """The promotion rules of ``config.promotions`` (a JSON file), else none; validated now."""
    path = getattr(config, "promotions", None)
    if not path:
        return []
    from pathlib import Path

    kinds = sorted({p.kind for p in catalog.products.values()} | set(kind_names()))
    return load_rules(Path(path), kinds, lambda pid: pid in catalog.products)


def new_pseudonym() -> str:
    return secrets.token_hex(8)


def spec_parts(spec: str) -> tuple[str, str | None]:
    product, _, shade = spec.partition(":")
    return product, shade or None


class LookTracker:
    """Turns one session's successive looks into try events (with dwell times)."""

    def __init__(self, record: Callable[[Event], object], show: str | None, session: str) -> None:
        self.record, self.show, self.session = record, show, session
        self.wearing: dict[str, tuple[str | None, float]] = {}

    def __call__(self, specs: Sequence[str]) -> None:
        now = time.time()
        new = dict(spec_parts(s) for s in specs)
        for product, (shade, since) in list(self.wearing.items()):
            if product not in new:
                del self.wearing[product]
                self.record(
                    Event(self.show, self.session, "try_stop", now, product, shade, round(now - since, 3))
                )
        for product, shade in new.items():
            if product not in self.wearing:
                self.wearing[product] = (shade, now)
                self.record(Event(self.show, self.session, "try_start", now, product, shade))
            elif self.wearing[product][0] != shade:
                self.wearing[product] = (shade, self.wearing[product][1])
                self.record(Event(self.show, self.session, "shade_change", now, product, shade))


class Analytics:
    def __init__(
        self,
        catalog: Catalog,
        metrics: Metrics,
        sink: Sink | None = None,
        rules: Sequence[Promotion] = (),
    ) -> None:
        self.catalog = catalog
        self.metrics = metrics
        self.sink = sink
        self.boards: dict[str, Board] = {}
        self.recommender = Recommender()
        self.promotions = PromotionEngine(rules, self._kind_of)
        self._analyzer: Any = None
        self._analysis_failed = False
        self._warming: asyncio.Future[None] | None = None
        self._pending: set[asyncio.Future[bool]] = set()
        self._targets: dict[str, Callable[[dict[str, Any]], None]] = {}

    def promotions_to(self, pseudonym: str, send: Callable[[dict[str, Any]], None] | None) -> None:
        """Where a session's promotions go (``None``: the session left)."""
        if send is None:
            self._targets.pop(pseudonym, None)
            self.promotions.forget(pseudonym)
        else:
            self._targets[pseudonym] = send

    def tick(self, now: float | None = None) -> int:
        """Send the promotions due now to their sessions; returns how many were sent."""
        sent = 0
        for pseudonym, promotion in self.promotions.due(time.time() if now is None else now):
            send = self._targets.get(pseudonym)
            if send is not None:
                send(promotion)
                self.metrics.promotions.labels(promotion["id"]).inc()
                sent += 1
        return sent

    # -- catalog -------------------------------------------------------------------------------

    def known(self, product: str, shade: str | None) -> bool:
        p = self.catalog.products.get(product)
        return p is not None and (shade is None or any(v.id == shade for v in p.variants))

    def _kind_of(self, product: str) -> str | None:
        p = self.catalog.products.get(product)
        return p.kind if p is not None else None

    def analyzer(self) -> Any:
        if self._analyzer is None:
            from tryon.analytics.comments import CommentAnalyzer

            self._analyzer = CommentAnalyzer(self.catalog)
        return self._analyzer

    async def ready(self) -> None:
        """Load the comment analyzer's models once, off the event loop (~1-4 s the first time),
        so that analysing a comment on the loop takes well under a millisecond."""
        if self._warming is None:
            loop = asyncio.get_running_loop()
            self._warming = loop.run_in_executor(None, lambda: self.analyzer().warm_up())
        try:
            await asyncio.shield(self._warming)
        except Exception:
            if not self._analysis_failed:
                self._analysis_failed = True
                logger.exception("analytics: the comment analyzer could not load; comments go on unanalysed")

    # -- events in -----------------------------------------------------------------------------

    def open_board(self, show: str) -> Board:
        board = self.boards[show] = Board(time.time())
        return board

    def close_board(self, show: str) -> None:
        self.boards.pop(show, None)

    def record(
        self, event: Event, mentions: Sequence[str] = (), question: bool = False, author: str | None = None
    ) -> asyncio.Future[bool] | None:
        """Count ``event`` everywhere it counts and hand it to the store (the future resolves
        when it is stored; ``None`` without a store)."""
        self.count(event, mentions, question, author)
        return self.store([event])

    def count(
        self, event: Event, mentions: Sequence[str] = (), question: bool = False, author: str | None = None
    ) -> None:
        """Count ``event`` in the metrics, its show's board, the recommender and the promotions."""
        self.metrics.events.labels(event.type).inc()
        if event.show is not None and event.show in self.boards:
            self.boards[event.show].add(event, mentions, question, author)
        self.recommender.add(event)
        self.promotions.add(event)

    def store(self, events: Sequence[Event]) -> asyncio.Future[bool] | None:
        """Hand ``events`` to the store in one submission (``None`` without a store)."""
        if self.sink is None or not events:
            return None
        future = self.sink.submit(events)
        self._pending.add(future)
        future.add_done_callback(self._pending.discard)
        return future

    def comment(
        self, show: str, session: str, text: str, author: str, language: str | None
    ) -> dict[str, Any]:
        """Record a viewer's comment with its analysis (language, products, question)."""
        board = self.boards.get(show)
        showing = board.showing if board else None
        try:
            analysis = self.analyzer().analyze(text)
            found, kinds, question = list(analysis.products), set(analysis.kinds), bool(analysis.question)
            language = analysis.language or language
        except Exception:  # understanding is a bonus: the comment itself always goes through
            if not self._analysis_failed:
                self._analysis_failed = True
                logger.exception("analytics: comment analysis failed; comments go on unanalysed")
            found, kinds, question = [], set(), False
        mentions = resolve_mentions(found, kinds, showing, self.catalog.products.__contains__, self._kind_of)
        event = Event(show, session, "comment", time.time(), None, None, None, language, text)
        self.record(event, mentions, question, author)
        return {"language": language, "products": mentions, "question": question}

    async def accept(
        self, raw_events: object, show: str | None, session: str
    ) -> tuple[int, list[dict[str, Any]], bool]:
        """A page's batch: ``(accepted, rejections, stored)``; every event is checked before any
        is recorded, and a batch is acknowledged once stored (``stored`` False: kept in memory
        for the store, which is down or absent)."""
        if not isinstance(raw_events, list) or not 0 < len(raw_events) <= MAX_BATCH:
            raise EventRejectedError("malformed", f"events: expected a list of 1..{MAX_BATCH} events")
        now = time.time()
        accepted: list[Event] = []
        rejected = []
        for i, raw in enumerate(raw_events):
            try:
                event = parse_event(raw, show=show, session=session, now=now, known_product=self.known)
                if event.type in ("like", "comment", "try_start", "try_stop", "shade_change", "snapshot"):
                    # The server records these itself, from what it sees: a page cannot add more.
                    raise EventRejectedError(
                        "server_side", f"{event.type}: recorded by the server, not accepted from pages"
                    )
            except EventRejectedError as exc:
                self.metrics.events_rejected.labels(exc.reason).inc()
                rejected.append({"index": i, "reason": exc.reason, "error": str(exc)})
                continue
            accepted.append(event)
        for event in accepted:
            self.count(event)
        future = self.store(accepted)
        stored = future is not None and await future
        return len(accepted), rejected, stored

    # -- out -----------------------------------------------------------------------------------

    def board(self, show: str, viewers: int, peak: int) -> dict[str, Any] | None:
        board = self.boards.get(show)
        return board.snapshot(time.time(), viewers, peak) if board is not None else None

    def recommendations(self, product: str | None, k: int = 3) -> dict[str, list[str]]:
        return {
            "also_tried": self.recommender.also_tried(product, k) if product else [],
            "popular_now": self.recommender.popular_now(k=k, exclude=[product] if product else []),
        }

    async def close(self) -> None:
        if self._pending:
            await asyncio.wait(list(self._pending), timeout=5.0)
        if self.sink is not None:
            await self.sink.close()
