"""``tryon analytics report SHOW_ID``: read a show's events, build its report, print and write it.

Errors a user can act on (no database there, the database unreachable, no such show) are
:class:`tryon.errors.InputError` (exit 2, one line). A progress bar (on stderr, only on a terminal)
appears when the work takes more than :data:`PROGRESS_AFTER_S` seconds: the comment analyzer's
models alone take a few seconds to load.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from tryon.analytics.events import Event
from tryon.analytics.report import Report, build_report, fmt
from tryon.errors import InputError

PROGRESS_AFTER_S = 2.0
SHOWN_SHOWS = 10


def report(args: argparse.Namespace) -> int:
    from tryon.cli.serve import event_store_url

    url = event_store_url(args.db)
    if url is None:
        raise InputError("--db none: no event store to report from")
    with _late_progress() as progress:
        task = progress.add_task("reading events", total=None)
        events = asyncio.run(read_events(url, args.show))
        out = (
            args.out if args.out is not None else Path("report-" + re.sub(r"[^A-Za-z0-9_-]", "_", args.show))
        )
        analyzer = None
        if any(e.type == "comment" for e in events):
            from tryon.analytics.comments import CommentAnalyzer
            from tryon.catalog import Catalog

            progress.update(task, description="loading the comment analyzer")
            analyzer = CommentAnalyzer(Catalog.load(args.assets))
            analyzer.warm_up()
            names = None
        else:
            names = _catalog_names(args.assets)
        progress.update(task, description="replaying events", total=len(events), completed=0)
        result = build_report(
            args.show,
            events,
            analyzer=analyzer,
            names=names,
            progress=lambda done, _total: progress.update(task, completed=done),
        )
        progress.update(task, description="drawing the plots", total=None)
        written = write_report(result, events, out, events_csv=args.events_csv)
    console = Console()
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = Console(width=120)  # piped: the whole table rather than rich's 80 columns
    print_report(console, result)
    for path in written:
        console.print(f"wrote {path}")
    return 0


async def read_events(url: str, show: str) -> list[Event]:
    """``show``'s events from the store at ``url``; :class:`InputError` when the database is not
    there or does not answer, or has no such show."""
    import sqlalchemy as sa

    from tryon.analytics.store import EventStore
    from tryon.analytics.store.store import engine_url

    store = EventStore(url)  # InputError for a URL it cannot use
    if store.backend == "sqlite":
        database = engine_url(url)[0].database
        if database is None or not Path(database).is_file():
            raise InputError(
                f"event store: no database at {database} "
                "(tryon serve --db writes one; --db URL to read another)"
            )
    try:
        await store.open()
    except (OSError, TimeoutError, sa.exc.SQLAlchemyError) as e:
        raise InputError(f"event store {store.url}: unreachable: {_reason(e)}") from e
    try:
        shows = await store.shows()
        if show not in shows:
            known = ", ".join(shows[-SHOWN_SHOWS:][::-1]) or "none"
            raise InputError(f"show {show!r}: no events stored in {store.url} (latest shows: {known})")
        return await store.events(show)
    except (OSError, TimeoutError, sa.exc.SQLAlchemyError) as e:
        raise InputError(f"event store {store.url}: {_reason(e)}") from e
    finally:
        await store.close()


def _reason(error: BaseException) -> str:
    text = str(getattr(error, "orig", None) or error) or type(error).__name__
    return text.splitlines()[0][:200]


def _catalog_names(assets: Path | None) -> Callable[[str], str] | None:
    from tryon.catalog import Catalog

    try:
        products = Catalog.load(assets).products
    except Exception:  # names are a nicety: the ids do without a catalog
        return None
    return lambda pid: products[pid].name if pid in products else pid


def write_report(result: Report, events: list[Event], out: Path, *, events_csv: bool = False) -> list[Path]:
    from tryon.analytics.report_html import render_html, write_csv, write_events_csv

    out.mkdir(parents=True, exist_ok=True)
    html, table = out / "report.html", out / "report.csv"
    html.write_text(render_html(result), encoding="utf-8")
    write_csv(result, table)
    written = [html, table]
    if events_csv:
        write_events_csv(events, out / "events.csv")
        written.append(out / "events.csv")
    return written


def print_report(console: Console, result: Report) -> None:
    f = result.funnel
    console.print(
        f"[bold]Show {result.show}[/bold]: {fmt(result.duration_s / 60.0)} min, "
        f"{result.sessions} sessions, peak {result.peak_viewers} viewers, "
        f"{result.likes} likes, {result.comments} comments, {len(result.questions)} questions",
        highlight=False,
        soft_wrap=True,
    )
    console.print(
        f"Funnel: {f.impression} saw a product → {f.tried} tried one on "
        f"({fmt(f.try_rate, 0, percent=True)}) → {f.bought} clicked Buy ({fmt(f.buy_rate, 0, percent=True)})",
        highlight=False,
        soft_wrap=True,
    )
    table = Table(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False, collapse_padding=True)
    table.add_column("Product", no_wrap=True, overflow="ellipsis", min_width=12)
    # Seen: impressions; Dwell: median seconds on; Likes: while it showed; On air: time showing.
    for name in ("Seen", "Tries", "Dwell s", "Buys", "Conv.", "Likes", "Ment.", "On air"):
        table.add_column(name, justify="right", no_wrap=True, min_width=len(name))
    for p in result.products:
        shown = int(p.showing_s)
        table.add_row(
            p.name,
            str(p.impressions),
            str(p.tries),
            fmt(p.median_dwell_s),
            str(p.buys),
            fmt(p.conversion, 0, percent=True),
            str(p.likes_showing),
            fmt(p.mentions),
            f"{shown // 60}:{shown % 60:02d}",
        )
    console.print(table)


class _Quiet:
    """The progress interface, doing nothing (not a terminal)."""

    def add_task(self, *_args: object, **_kwargs: object) -> TaskID:
        return TaskID(0)

    def update(self, *_args: object, **_kwargs: object) -> None:
        return None


@contextmanager
def _late_progress() -> Iterator[Progress | _Quiet]:
    """A transient progress bar on stderr, started only if the block is still running after
    :data:`PROGRESS_AFTER_S` seconds (and only on a terminal)."""
    console = Console(stderr=True)
    if not console.is_terminal:
        yield _Quiet()
        return
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    state = SimpleNamespace(started=False, done=False)
    lock = threading.Lock()

    def start() -> None:
        with lock:
            if not state.done:
                progress.start()
                state.started = True

    timer = threading.Timer(PROGRESS_AFTER_S, start)
    timer.daemon = True
    timer.start()
    try:
        yield progress
    finally:
        timer.cancel()
        with lock:
            state.done = True
            if state.started:
                progress.stop()
        sys.stderr.flush()
