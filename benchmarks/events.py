"""Events: sustained events/s into the event store through :class:`EventSink`, SQLite and PostgreSQL.

Each back end runs in a fresh process (this script with ``--phase``) so neither inherits the
other's heap. Fake pages (``--sessions`` sessions of one show, a realistic mix of types: watch
heartbeats, impressions, tries with dwell, shade changes, likes, comments in three languages, buy
clicks) submit ``--per-submit`` events at a time at a fixed offered rate, paced on the event loop.
A "board" reads the last 2 s of the show's try/buy/like/comment events every 2 s, as the host's
live board would, and a 5 ms ticker measures how late the event loop runs.

First a ramp (``--rates``, ``--step`` seconds each, stopping at the first rate not sustained:
events dropped, acknowledgements later than 0.5 s at p95, or more than 0.5 s of events waiting
when the step ends), then ``--seconds`` at the highest rate sustained (the next lower one if that
long run does not hold), with the process's RSS at its start and end. SQLite is a file in a
temporary folder (WAL, synchronous=FULL, as shipped); PostgreSQL a private server on a unix socket
(``tryon.analytics.store.local_pg``: Debian's postgresql, fsync on, default settings otherwise).

    python benchmarks/events.py [--seconds 20] [--backends sqlite,postgresql] [--board-s 0]
        [--out benchmarks/results/events.json]
"""

from __future__ import annotations

import argparse
import array
import asyncio
import contextlib
import functools
import gc
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from memory import rss_mb
from report import write_results
from rich.console import Console
from rich.table import Table

from tryon.analytics.events import Event
from tryon.analytics.store import EventSink, EventStore
from tryon.analytics.store.local_pg import local_postgres

console = Console(width=160)
progress = Console(stderr=True)
SHOW = "bench-show"
PRODUCTS = [f"prod-{i:02d}" for i in range(40)]
SHADES = ["ruby", "coral", "nude", "berry", None]
COMMENTS = [
    ("en", "does it come in red?"),
    ("fr", "c'est dispo en 38 ?"),
    ("zh", "有大码吗？"),
    ("en", "love this shade"),
    ("fr", "trop joli ce rouge à lèvres"),
]
BOARD_TYPES = {"try_start", "try_stop", "buy_click", "like", "comment"}
LATE_S = 0.5
"""A rate is sustained when every event is written, the p95 acknowledgement is within this, and
the events waiting when the offering stops are fewer than this many seconds' worth."""


def fake_events(n: int, sessions: int, now: float, rng: random.Random) -> list[Event]:
    out = []
    for _ in range(n):
        session = f"s{rng.randrange(sessions):05d}"
        r = rng.random()
        product = rng.choice(PRODUCTS)
        if r < 0.35:
            out.append(Event(SHOW, session, "watch", now))
        elif r < 0.55:
            out.append(Event(SHOW, session, "impression", now, product))
        elif r < 0.65:
            out.append(Event(SHOW, session, "try_start", now, product, rng.choice(SHADES), language="en"))
        elif r < 0.75:
            dwell = rng.uniform(1, 60)
            out.append(Event(SHOW, session, "try_stop", now, product, rng.choice(SHADES), dwell_s=dwell))
        elif r < 0.82:
            out.append(Event(SHOW, session, "shade_change", now, product, rng.choice(SHADES)))
        elif r < 0.92:
            out.append(Event(SHOW, session, "like", now))
        elif r < 0.97:
            language, text = rng.choice(COMMENTS)
            out.append(Event(SHOW, session, "comment", now, language=language, text=text))
        else:
            out.append(Event(SHOW, session, "buy_click", now, product, rng.choice(SHADES)))
    return out


def percentile(values: Any, q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return float(ordered[min(len(ordered) - 1, int(q * len(ordered)))])


async def drive(
    sink: EventSink,
    store: EventStore,
    rate: float,
    seconds: float,
    per_submit: int,
    sessions: int,
    board_every: float,
) -> dict[str, Any]:
    """Offer ``rate`` events/s for ``seconds``, then wait (bounded) for every acknowledgement."""
    rng = random.Random(int(rate))
    latencies = array.array("d")
    refused = 0
    board: list[float] = []
    rss: list[float] = [rss_mb()]
    before = sink.stats

    def acked(t: float, future: asyncio.Future[bool]) -> None:
        nonlocal refused
        if future.result():
            latencies.append(time.perf_counter() - t)
        else:
            refused += 1

    async def read_board() -> None:
        t = time.perf_counter()
        await store.events(SHOW, since=time.time() - 2.0, types=BOARD_TYPES)
        board.append(time.perf_counter() - t)

    futures: list[asyncio.Future[bool]] = []
    tasks = []
    lag = 0.0
    sent = 0
    t0 = time.perf_counter()
    next_board, next_rss = t0 + board_every, t0 + 5.0
    while (now := time.perf_counter()) - t0 < seconds:
        wall = time.time()
        while sent + per_submit <= rate * (now - t0):
            future = sink.submit(fake_events(per_submit, sessions, wall, rng))
            future.add_done_callback(functools.partial(acked, time.perf_counter()))
            futures.append(future)
            sent += per_submit
        if board_every and now >= next_board:
            tasks.append(asyncio.create_task(read_board()))
            next_board += board_every
        if now >= next_rss:
            rss.append(rss_mb())
            next_rss += 5.0
        futures = [f for f in futures if not f.done()]
        tick = time.perf_counter()
        await asyncio.sleep(0.005)
        lag = max(lag, time.perf_counter() - tick - 0.005)
    offered_s = time.perf_counter() - t0
    backlog = sink.stats.buffered
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(10):
            await asyncio.gather(*futures, *tasks)
    drained_s = time.perf_counter() - t0
    after = sink.stats
    written = after.written - before.written
    batches = after.batches - before.batches
    p95 = percentile(latencies, 0.95)
    return {
        "rate": rate,
        "seconds": offered_s,
        "offered": sent,
        "written": written,
        "events_per_s": written / offered_s,
        "drain_s": drained_s - offered_s,
        "batches": batches,
        "mean_batch": written / batches if batches else 0.0,
        "ack_p50_ms": 1000 * percentile(latencies, 0.5),
        "ack_p95_ms": 1000 * p95,
        "ack_p99_ms": 1000 * percentile(latencies, 0.99),
        "ack_max_ms": 1000 * max(latencies, default=float("nan")),
        "refused": refused,
        "dropped": after.dropped - before.dropped,
        "failures": after.failures - before.failures,
        "backlog_at_end": backlog,
        "loop_lag_max_ms": 1000 * lag,
        "board_reads": len(board),
        "board_p95_ms": 1000 * percentile(board, 0.95),
        "rss_mb": [*rss, rss_mb()],
        "sustained": written == sent and not refused and p95 < LATE_S and backlog <= rate * LATE_S,
    }


async def drained(sink: EventSink, timeout: float = 60.0) -> None:
    """Wait (bounded) until the events of the previous run are written: each run starts clean."""
    deadline = time.monotonic() + timeout
    while sink.stats.buffered and time.monotonic() < deadline:
        await asyncio.sleep(0.05)


@contextlib.contextmanager
def store_url(backend: str) -> Iterator[str]:
    if backend == "postgresql":
        with local_postgres() as server:
            yield server.create_database("bench")
        return
    with tempfile.TemporaryDirectory(prefix="tryon-events-") as folder:
        query = "?synchronous=normal" if backend == "sqlite-normal" else ""
        yield f"sqlite:///{folder}/events.db{query}"


async def phase(args: argparse.Namespace) -> dict[str, Any]:
    with store_url(args.phase) as url:
        async with EventStore(url) as store:
            sink = EventSink(store)
            await sink.submit(fake_events(1000, args.sessions, time.time(), random.Random(0)))
            ramp = []
            best = None
            for rate in args.rates:
                await drained(sink)
                step = await drive(sink, store, rate, args.step, args.per_submit, args.sessions, args.board_s)
                ramp.append(step)
                progress.print(
                    f"  {args.phase} {rate:,.0f}/s: {step['events_per_s']:,.0f}/s written, "
                    f"p95 {step['ack_p95_ms']:.0f} ms, sustained {step['sustained']}",
                    style="dim",
                )
                if not step["sustained"]:
                    break
                best = rate
            # The long run checks the ramp's answer: a rate the writer almost keeps up with passes a
            # short step; when the long run does not hold it, the next lower rate is run instead.
            candidates = [r for r in args.rates if best is None or r <= best][::-1] or args.rates[:1]
            for rate in candidates:
                await drained(sink)
                gc.collect()
                start_mb = rss_mb()
                sustained = await drive(
                    sink, store, rate, args.seconds, args.per_submit, args.sessions, args.board_s
                )
                sustained["rss_start_mb"] = start_mb
                sustained["rss_end_mb"] = rss_mb()
                held = sustained["sustained"]
                progress.print(f"  {args.phase} {args.seconds:.0f} s at {rate:,.0f}/s: sustained {held}")
                if sustained["sustained"]:
                    break
                await drained(sink)
            await sink.close()
            total = await store.count(SHOW)
    load = os.getloadavg()  # other processes on the machine weigh on a 2-core result
    return {"backend": args.phase, "ramp": ramp, "sustained": sustained, "rows": total, "loadavg": load}


def run_phase(backend: str, argv: list[str]) -> dict[str, Any]:
    """This script with ``--phase BACKEND`` in a fresh process; its last line of output is the JSON."""
    command = [sys.executable, __file__, "--phase", backend, *argv]
    done = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def table(results: list[dict[str, Any]]) -> Table:
    out = Table(title="Events through EventSink (batch 500, interval 0.1 s), sustained run")
    columns = "back end|offered /s|written /s|s|batches|mean batch|ack p50 ms|ack p95 ms|ack max ms"
    columns += "|dropped|loop lag max ms|board read p95 ms|RSS start MB|RSS end MB"
    for column in columns.split("|"):
        out.add_column(column, justify="left" if column == "back end" else "right")
    for r in results:
        s = r["sustained"]
        out.add_row(
            r["backend"],
            f"{s['rate']:,.0f}",
            f"{s['events_per_s']:,.0f}",
            f"{s['seconds']:.0f}",
            str(s["batches"]),
            f"{s['mean_batch']:.0f}",
            f"{s['ack_p50_ms']:.0f}",
            f"{s['ack_p95_ms']:.0f}",
            f"{s['ack_max_ms']:.0f}",
            str(s["dropped"]),
            f"{s['loop_lag_max_ms']:.0f}",
            f"{s['board_p95_ms']:.1f}",
            f"{s['rss_start_mb']:.0f}",
            f"{s['rss_end_mb']:.0f}",
        )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backends", default="sqlite,postgresql", help="sqlite, sqlite-normal, postgresql")
    parser.add_argument("--seconds", type=float, default=20.0, help="the sustained run")
    parser.add_argument("--step", type=float, default=3.0, help="seconds per ramp step")
    parser.add_argument(
        "--rates",
        type=lambda s: [float(r) for r in s.split(",")],
        default=[5000.0, 10000.0, 15000.0, 20000.0, 25000.0, 30000.0, 35000.0, 40000.0],
    )
    parser.add_argument("--per-submit", type=int, default=10, help="events a page sends at once")
    parser.add_argument("--sessions", type=int, default=2000)
    parser.add_argument(
        "--board-s", type=float, default=2.0, help="read the board's last 2 s every N s (0: no board)"
    )
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/events.json"))
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        sys.stdout.write(json.dumps(asyncio.run(phase(args))) + "\n")
        return 0
    passed = [f"--{k}={v}" for k, v in (("seconds", args.seconds), ("step", args.step))]
    passed += [f"--rates={','.join(str(r) for r in args.rates)}", f"--per-submit={args.per_submit}"]
    passed += [f"--sessions={args.sessions}", f"--board-s={args.board_s}"]
    results = []
    for backend in args.backends.split(","):
        console.print(f"{backend}: ramp, then {args.seconds:.0f} s at the highest rate sustained ...")
        results.append(run_phase(backend, passed))
    console.print(table(results))
    for r in results:
        ramp = ", ".join(
            f"{s['rate']:,.0f}→{s['events_per_s']:,.0f} (p95 {s['ack_p95_ms']:.0f} ms)" for s in r["ramp"]
        )
        console.print(f"{r['backend']} ramp, offered→written /s: {ramp}; {r['rows']:,} rows stored")
        console.print(
            f"  load average at the end (1, 5, 15 min): {', '.join(f'{x:.1f}' for x in r['loadavg'])}"
        )
    write_results(args.out, {"results": results})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
