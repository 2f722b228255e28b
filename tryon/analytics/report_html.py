"""A :class:`tryon.analytics.report.Report` as files: a self-contained HTML page and CSV.

The HTML has no external resource (no script, no stylesheet, no font, no image fetched): its CSS
is inline and its plots are PNGs drawn by matplotlib's Agg canvas (no pyplot, no display, no
global state) and inlined as ``data:`` URIs. Every text that comes from a viewer (a comment) or
from the database is escaped with :func:`html.escape`: a comment is untrusted input.

The CSV has one row per product with the report's numbers; ``write_events_csv`` writes the raw
events, a comment's text guarded against spreadsheet formulas (a leading ``= + - @`` gets a ``'``).
"""

from __future__ import annotations

import base64
import csv
import io
from collections.abc import Iterable
from datetime import UTC, datetime
from html import escape
from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from tryon.analytics.events import Event
from tryon.analytics.report import Report, fmt
from tryon.analytics.store.store import FIELDS

PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#59a14f",
    "#e15759",
    "#76b7b2",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
)
INK, MUTED, BUY = "#222222", "#888888", "#d62728"
CSV_COLUMNS = (
    "product",
    "name",
    "impressions",
    "tries",
    "median_dwell_s",
    "buys",
    "conversion",
    "likes_showing",
    "mentions",
    "shares",
    "snapshots",
    "showing_s",
)


def colours(report: Report) -> dict[str, str]:
    """One colour per product, in the report's order (the same in every plot)."""
    return {p.product: PALETTE[i % len(PALETTE)] for i, p in enumerate(report.products)}


def _minutes(report: Report, at: float) -> float:
    return (at - report.start) / 60.0


def _style(ax: Axes, title: str) -> None:
    ax.set_title(title, loc="left", fontsize=11, color=INK)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(labelsize=8, colors=INK)


def _empty(ax: Axes, what: str) -> None:
    ax.text(0.5, 0.5, what, ha="center", va="center", color=MUTED, transform=ax.transAxes)
    ax.set_xticks([])
    ax.set_yticks([])


def plot_viewers(ax: Axes, report: Report) -> None:
    _style(ax, f"Viewers per minute (peak {report.peak_viewers})")
    if not any(report.viewers):
        _empty(ax, "no watch heartbeats")
        return
    minutes = list(range(len(report.viewers) + 1))
    counts = [*report.viewers, report.viewers[-1]]  # the last minute drawn to its end
    ax.step(minutes, counts, where="post", color=PALETTE[0], linewidth=1.8)
    ax.fill_between(minutes, counts, step="post", color=PALETTE[0], alpha=0.15)
    ax.set_xlim(0, max(len(report.viewers), 1))
    ax.set_ylim(0, report.peak_viewers * 1.15 + 0.5)
    ax.set_xlabel("minutes since the show began", fontsize=8)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))


def plot_products(ax: Axes, report: Report, top: int = 12) -> None:
    _style(ax, "Tries and buys per product")
    shown = [p for p in report.products if p.tries or p.buys][:top]
    if not shown:
        _empty(ax, "no tries or buys")
        return
    y = list(range(len(shown)))[::-1]
    height = 0.38
    ax.barh([v + height / 2 for v in y], [p.tries for p in shown], height, color=PALETTE[0], label="tries")
    ax.barh([v - height / 2 for v in y], [p.buys for p in shown], height, color=BUY, label="buys")
    for v, p in zip(y, shown, strict=True):
        label = f" {p.tries} / {p.buys}" + (f"  ({fmt(p.conversion, 0, percent=True)})" if p.tries else "")
        ax.text(max(p.tries, p.buys), v, label, va="center", fontsize=7, color=MUTED)
    ax.set_yticks(y, [_short(p.name) for p in shown], fontsize=8)
    ax.set_xlim(0, max(max(p.tries, p.buys) for p in shown) * 1.35 + 0.5)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(fontsize=8, frameon=False, loc="lower right")


def plot_funnel(ax: Axes, report: Report) -> None:
    f = report.funnel
    _style(ax, "Funnel (distinct sessions)")
    stages = [("saw a product", f.impression), ("tried one on", f.tried), ("clicked Buy", f.bought)]
    if not f.impression and not f.tried and not f.bought:
        _empty(ax, "no impressions, tries or buys")
        return
    widest = max(n for _, n in stages) or 1
    y = [2, 1, 0]
    ax.barh(y, [n for _, n in stages], height=0.65, color=(PALETTE[0], PALETTE[2], BUY))
    for i, (_, n) in enumerate(stages):
        rate = ""
        if i and stages[i - 1][1]:
            rate = f"  ({fmt(n / stages[i - 1][1], 0, percent=True)} of the stage before)"
        ax.text(n, y[i], f" {n}{rate}", va="center", fontsize=8, color=INK)
    ax.set_yticks(y, [label for label, _ in stages], fontsize=8)
    ax.set_xlim(0, widest * 1.9)
    ax.set_xticks([])
    ax.spines["bottom"].set_visible(False)


def plot_strip(ax: Axes, report: Report) -> None:
    """What was showing when: a band per product shown (its colour while it showed), its tries
    marked ``|`` and its buys ``◆`` on its row."""
    _style(ax, "What was showing when (| tries, ◆ buys)")
    ids = list(dict.fromkeys(s.product for s in report.timeline))
    ids += [p.product for p in report.products if p.product not in ids and (p.tries or p.buys)]
    if not ids:
        _empty(ax, "nothing was shown")
        return
    colour = colours(report)
    rows = {pid: len(ids) - 1 - i for i, pid in enumerate(ids)}
    for segment in report.timeline:
        x0 = _minutes(report, segment.start)
        ax.broken_barh(
            [(x0, segment.seconds / 60.0)],
            (rows[segment.product] - 0.4, 0.8),
            color=colour.get(segment.product, MUTED),
            alpha=0.55,
        )
    for p in report.products:
        if p.product not in rows:
            continue
        y = rows[p.product]
        tries = [_minutes(report, t) for t in p.try_times]
        buys = [_minutes(report, t) for t in p.buy_times]
        ax.scatter(tries, [y] * len(tries), marker="|", s=120, color=INK, linewidths=1.2, zorder=3)
        ax.scatter(buys, [y] * len(buys), marker="D", s=28, color=BUY, edgecolors="white", zorder=4)
    names = {p.product: p.name for p in report.products}
    ax.set_yticks(list(rows.values()), [_short(names.get(pid, pid)) for pid in rows], fontsize=8)
    ax.set_ylim(-0.6, len(ids) - 0.4)
    ax.set_xlim(0, max(report.duration_s / 60.0, 1.0))
    ax.set_xlabel("minutes since the show began", fontsize=8)


def _short(name: str, n: int = 26) -> str:
    return name if len(name) <= n else name[: n - 1] + "…"


def _png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    return buffer.getvalue()


def plots(report: Report) -> dict[str, bytes]:
    """The report's plots as PNG bytes: viewers, products, funnel, strip."""
    rows = max(len({s.product for s in report.timeline} | {p.product for p in report.products}), 1)
    out = {}
    for name, draw, size in (
        ("viewers", plot_viewers, (6.4, 2.8)),
        ("products", plot_products, (6.4, 0.9 + 0.42 * min(len(report.products), 12))),
        ("funnel", plot_funnel, (6.4, 2.2)),
        ("strip", plot_strip, (9.6, 1.2 + 0.4 * min(rows, 12))),
    ):
        fig = Figure(figsize=size, layout="constrained")
        draw(fig.add_subplot(), report)
        out[name] = _png(fig)
    return out


def overview_figure(report: Report) -> Figure:
    """All four plots in one figure (the picture of a report)."""
    fig = Figure(figsize=(12, 8.6), layout="constrained")
    fig.suptitle(f"Show {report.show}: {fmt(report.duration_s / 60.0)} min", x=0.01, ha="left")
    grid = fig.add_gridspec(3, 2, height_ratios=(1.1, 1.1, 1.0))
    plot_viewers(fig.add_subplot(grid[0, 0]), report)
    plot_funnel(fig.add_subplot(grid[0, 1]), report)
    plot_products(fig.add_subplot(grid[1, :]), report)
    plot_strip(fig.add_subplot(grid[2, :]), report)
    FigureCanvasAgg(fig)
    return fig


CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#222;margin:2rem auto;
max-width:1000px;padding:0 1rem}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.1rem;margin-top:2rem}
.muted{color:#777}table{border-collapse:collapse;margin:.5rem 0}
th,td{padding:.25rem .7rem;border-bottom:1px solid #e4e4e4;text-align:right}
th:first-child,td:first-child{text-align:left}th{background:#f6f6f6}
.summary td{text-align:left}.plots img{max-width:100%;display:block;margin:.6rem 0}
.q{margin:.4rem 0;padding:.4rem .7rem;background:#f7f7fb;border-left:3px solid #4e79a7}
.q .meta{color:#777;font-size:.85em}.swatch{display:inline-block;width:.8em;height:.8em;
border-radius:2px;margin-right:.4em;vertical-align:-.05em}
"""


def _clock(report: Report, at: float) -> str:
    s = max(int(at - report.start), 0)
    return f"{s // 60:d}:{s % 60:02d}"


def _utc(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def render_html(report: Report, images: dict[str, bytes] | None = None) -> str:
    """The report as one self-contained HTML page."""
    images = plots(report) if images is None else images
    e = escape
    names = {p.product: p.name for p in report.products}
    colour = colours(report)
    f = report.funnel
    summary = [
        ("Show", e(report.show)),
        ("Began", e(_utc(report.start)) if report.events else "–"),
        ("Length", f"{fmt(report.duration_s / 60.0)} min"),
        ("Sessions", str(report.sessions)),
        ("Peak viewers", str(report.peak_viewers)),
        ("Likes", str(report.likes)),
        ("Comments", str(report.comments)),
        ("Questions", str(len(report.questions)) if report.comments_analysed else "not analysed"),
        (
            "Funnel",
            f"{f.impression} saw a product → {f.tried} tried one on ({fmt(f.try_rate, 0, percent=True)})"
            f" → {f.bought} clicked Buy ({fmt(f.buy_rate, 0, percent=True)})",
        ),
        ("Events", str(report.events)),
    ]
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width,initial-scale=1">',
        f"<title>Show {e(report.show)}: report</title><style>{CSS}</style></head><body>",
        f"<h1>Show {e(report.show)}</h1>",
        '<p class="muted">Engagement report from the stored events (pseudonymous sessions only).</p>',
        '<table class="summary">',
        *(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in summary),
        "</table>",
        "<h2>Products</h2>",
        "<table><tr><th>Product</th><th>Seen</th><th>Tries</th><th>Median time on (s)</th>"
        "<th>Buys</th><th>Conversion</th><th>Likes while showing</th><th>Mentions</th>"
        "<th>Time showing</th></tr>",
    ]
    for p in report.products:
        out.append(
            f'<tr><td><span class="swatch" style="background:{colour[p.product]}"></span>'
            f'{e(p.name)} <span class="muted">{e(p.product)}</span></td>'
            f"<td>{p.impressions}</td><td>{p.tries}</td><td>{fmt(p.median_dwell_s)}</td>"
            f"<td>{p.buys}</td><td>{fmt(p.conversion, 0, percent=True)}</td>"
            f"<td>{p.likes_showing}</td><td>{fmt(p.mentions)}</td>"
            f"<td>{_clock(report, report.start + p.showing_s)}</td></tr>"
        )
    out.append("</table>")
    if not report.comments_analysed:
        out.append('<p class="muted">Comments were not analysed: no mentions or questions.</p>')
    out.append('<h2>Plots</h2><div class="plots">')
    titles = {
        "viewers": "Viewers per minute",
        "products": "Tries and buys per product",
        "funnel": "Funnel: impression, try, buy",
        "strip": "What was showing when, with tries and buys",
    }
    for name, png in images.items():
        data = base64.b64encode(png).decode("ascii")
        out.append(f'<img alt="{e(titles.get(name, name))}" src="data:image/png;base64,{data}">')
    out.append("</div><h2>What was showing when</h2>")
    if report.timeline:
        out.append("<table><tr><th>Product</th><th>From</th><th>To</th></tr>")
        for s in report.timeline:
            out.append(
                f"<tr><td>{e(names.get(s.product, s.product))}</td><td>{_clock(report, s.start)}</td>"
                f"<td>{_clock(report, s.end)}</td></tr>"
            )
        out.append("</table>")
    else:
        out.append('<p class="muted">Nothing was shown.</p>')
    out.append(f"<h2>Questions asked ({len(report.questions)})</h2>")
    for q in report.questions:
        about = ", ".join(names.get(pid, pid) for pid in q.products) or "no product"
        meta = f"{_clock(report, q.at)} · {about}" + (f" · {q.language}" if q.language else "")
        out.append(f'<div class="q"><div class="meta">{e(meta)}</div>{e(q.text)}</div>')
    if not report.questions:
        out.append('<p class="muted">None.</p>')
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def write_csv(report: Report, path: Path) -> None:
    """One row per product: :data:`CSV_COLUMNS` (empty cells for none)."""
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for row in report.rows():
            writer.writerow({k: "" if v is None else v for k, v in row.items()})


def _cell(name: str, value: object) -> object:
    if value is None:
        return ""
    if name == "text" and isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value  # a spreadsheet would run it as a formula
    return value


def write_events_csv(events: Iterable[Event], path: Path) -> int:
    """The raw events, one a row (the store's fields); the number written."""
    n = 0
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(FIELDS)
        for event in events:
            writer.writerow([_cell(name, getattr(event, name)) for name in FIELDS])
            n += 1
    return n
