"""``tryon analytics report``: a scripted show (3 products, 10 viewers, 10 minutes) stored in SQLite,
its report's numbers exactly as the script implies (funnel, conversion, median dwell, viewers per
minute, what was showing when, mentions and questions), the HTML (plots inlined, a comment's
``<script>`` escaped), the CSV, and the CLI end to end. TRYON_SCREENSHOTS=1 writes docs/report.png
(the report's plots in one picture) from the scripted show."""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import os
import re
from pathlib import Path

import pytest

from tryon.analytics.comments import CommentAnalyzer
from tryon.analytics.events import Event
from tryon.analytics.report import QuestionAsked, Report, Showing, build_report
from tryon.analytics.report_html import overview_figure, render_html, write_csv, write_events_csv
from tryon.analytics.store import EventStore
from tryon.catalog import Catalog
from tryon.cli.main import main

SHOW = "spring-launch"
T0 = 1_780_000_000.0
LIP, HOOPS, GLASSES = "velvet-matte-lipstick", "aurora-hoop-earrings", "atlas-wayfarer-optical"
VIEWERS = [f"v{i}" for i in range(1, 11)]
SCRIPT_COMMENT = '<script>alert("x")</script> nice'
DOCS = Path(__file__).resolve().parent.parent / "docs"


def scripted_show() -> list[Event]:
    """The show, in time order. Showing: the lipstick 0-240 s, the hoops 240-420 s, nothing
    420-450 s, the glasses 450-590 s (the show ends at 590 s)."""
    out: list[Event] = []

    def ev(at: float, session: str, kind: str, product: str | None = None, **kw: object) -> None:
        out.append(Event(SHOW, session, kind, T0 + at, product, **kw))  # type: ignore[arg-type]

    # Watch heartbeats every 30 s: v1-v4 the whole show, v5-v8 in minutes 2-7, v9-v10 from minute 5.
    for k in range(20):
        t = 5.0 + 30 * k
        for v in VIEWERS:
            n = int(v[1:])
            if n <= 4 or (n <= 8 and 120 <= t < 480) or (n >= 9 and t >= 300):
                ev(t, v, "watch")
    ev(0, "host", "showing", LIP)
    for v in VIEWERS[:8]:
        ev(10, v, "impression", LIP)
    for v in VIEWERS[:6]:
        ev(245, v, "impression", HOOPS)
    ev(455, "v9", "impression", GLASSES)
    # Tries: the lipstick 5 (v1 twice), dwells 10..50 s; the hoops 2 (12, 18 s); the glasses 1 (7 s).
    for i, (v, dwell) in enumerate((("v1", 10.0), ("v2", 20.0), ("v3", 30.0), ("v4", 40.0), ("v1", 50.0))):
        ev(20 + 30 * i, v, "try_start", LIP, shade="ruby-red")
        ev(20 + 30 * i + dwell, v, "try_stop", LIP, shade="ruby-red", dwell_s=dwell)
    ev(250, "v5", "try_start", HOOPS)
    ev(262, "v5", "try_stop", HOOPS, dwell_s=12.0)
    ev(270, "v6", "try_start", HOOPS)
    ev(288, "v6", "try_stop", HOOPS, dwell_s=18.0)
    ev(460, "v9", "try_start", GLASSES)
    ev(467, "v9", "try_stop", GLASSES, dwell_s=7.0)
    ev(75, "v1", "snapshot", LIP)
    ev(80, "v2", "share", LIP)
    # Buys: the lipstick by v1, v2 (tried) and v10 (never tried, no impression); the hoops by v5.
    for at, v, product in ((70, "v1", LIP), (110, "v2", LIP), (200, "v10", LIP), (300, "v5", HOOPS)):
        ev(at, v, "buy_click", product)
    # Likes: 3 during the lipstick, 2 during the hoops, 1 while nothing shows, 1 during the glasses.
    for at, v in ((30, "v1"), (60, "v2"), (90, "v3"), (305, "v5"), (310, "v6"), (430, "v7"), (500, "v9")):
        ev(at, v, "like")
    # Comments: mentions the lipstick by name (v3) and by kind while it shows (v8, Chinese), the
    # hoops by kind; two questions (v4 about the lipstick showing, v9 in French about the glasses).
    ev(100, "v3", "comment", language="en", text="I love the Velvet Matte lipstick")
    ev(125, "v4", "comment", language="en", text="does it come in red?")
    ev(200, "v8", "comment", language="zh", text="口红好看")
    ev(300, "v6", "comment", language="en", text="these earrings are gorgeous")
    ev(320, "v7", "comment", language="en", text=SCRIPT_COMMENT)
    ev(465, "v9", "comment", language="fr", text="c'est dispo en noir, les lunettes Atlas ?")
    ev(420, "host", "showing", None)
    ev(450, "host", "showing", GLASSES)
    ev(240, "host", "showing", HOOPS)
    ev(590, "host", "showing", None)
    out.sort(key=lambda e: e.at)  # stable: the order written within a second is kept
    return out


@pytest.fixture(scope="module")
def analyzer() -> CommentAnalyzer:
    return CommentAnalyzer(Catalog.load())


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('report') / 'events.db'}"

    async def store_it() -> None:
        async with EventStore(url) as store:
            await store.add(scripted_show())
            await store.add([Event("other-show", "w1", "like", T0)])

    asyncio.run(store_it())
    return url


@pytest.fixture(scope="module")
def report(db: str, analyzer: CommentAnalyzer) -> Report:
    async def read() -> list[Event]:
        async with EventStore(db) as store:
            return await store.events(SHOW)

    events = asyncio.run(read())
    assert len(events) == len(scripted_show())
    return build_report(SHOW, events, analyzer=analyzer)


def test_the_numbers_are_the_scripts(report: Report) -> None:
    assert report.duration_s == 590.0
    assert report.sessions == 11  # ten viewers and the host
    assert (report.likes, report.comments) == (7, 6)
    # Funnel by distinct sessions: v1-v9 saw a product, v1-v6 and v9 tried, v1, v2, v5, v10 bought.
    assert (report.funnel.impression, report.funnel.tried, report.funnel.bought) == (9, 7, 4)
    assert (report.funnel.try_rate, report.funnel.buy_rate) == (round(7 / 9, 3), round(4 / 7, 3))
    lip, hoops, glasses = (report.product(p) for p in (LIP, HOOPS, GLASSES))
    assert [p.product for p in report.products] == [LIP, HOOPS, GLASSES]  # by tries, as the board
    assert (lip.impressions, lip.tries, lip.median_dwell_s, lip.buys, lip.conversion) == (8, 5, 30.0, 3, 0.6)
    assert (hoops.impressions, hoops.tries, hoops.median_dwell_s, hoops.buys, hoops.conversion) == (
        6,
        2,
        15.0,
        1,
        0.5,
    )
    assert (glasses.tries, glasses.median_dwell_s, glasses.buys, glasses.conversion) == (1, 7.0, 0, 0.0)
    assert (lip.likes_showing, hoops.likes_showing, glasses.likes_showing) == (3, 2, 1)
    assert (lip.mentions, hoops.mentions, glasses.mentions) == (2, 1, 1)
    assert (lip.shares, lip.snapshots) == (1, 1)
    assert (lip.showing_s, hoops.showing_s, glasses.showing_s) == (240.0, 180.0, 140.0)
    assert lip.try_times == tuple(T0 + 20 + 30 * i for i in range(5))
    assert lip.buy_times == (T0 + 70, T0 + 110, T0 + 200)
    # Viewers per minute: 4 throughout, +4 in minutes 2-7, +2 from minute 5.
    assert report.viewers == (4, 4, 8, 8, 8, 10, 10, 10, 6, 6)
    assert report.peak_viewers == 10
    assert report.timeline == (
        Showing(LIP, T0, T0 + 240),
        Showing(HOOPS, T0 + 240, T0 + 420),
        Showing(GLASSES, T0 + 450, T0 + 590),
    )
    assert [(q.text, q.products, q.language, q.at) for q in report.questions] == [
        ("does it come in red?", (LIP,), "en", T0 + 125),  # the product showing when asked
        ("c'est dispo en noir, les lunettes Atlas ?", (GLASSES,), "fr", T0 + 465),
    ]


def test_without_an_analyzer_mentions_and_questions_are_left_out() -> None:
    bare = build_report(SHOW, scripted_show())
    assert bare.product(LIP).mentions is None
    assert bare.questions == ()
    assert (bare.product(LIP).tries, bare.funnel.bought) == (5, 4)
    assert build_report(SHOW, []).products == ()


def test_the_html_is_self_contained_and_escapes_comments(report: Report, tmp_path: Path) -> None:
    asked = QuestionAsked(T0 + 330, SCRIPT_COMMENT + "?", (HOOPS,), "en")  # markup, as typed
    hostile = dataclasses.replace(report, questions=(*report.questions, asked))
    html = render_html(hostile)
    images = re.findall(r'<img alt="[^"]+" src="data:image/png;base64,([A-Za-z0-9+/=]+)">', html)
    assert len(images) == 4
    assert all(len(data) > 2000 for data in images)
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; nice?" in html
    assert "<script" not in html.lower()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)  # nothing fetched
    assert "does it come in red?" in html
    assert "Velvet Matte Lipstick" in html
    assert "0:00</td><td>4:00" in html  # the lipstick's showing, in the timeline table


def test_the_csv_has_the_reports_numbers(report: Report, tmp_path: Path) -> None:
    write_csv(report, tmp_path / "report.csv")
    with (tmp_path / "report.csv").open(newline="", encoding="utf-8") as f:
        rows = {row["product"]: row for row in csv.DictReader(f)}
    assert list(rows) == [LIP, HOOPS, GLASSES]
    lip = rows[LIP]
    assert (lip["tries"], lip["median_dwell_s"], lip["buys"], lip["conversion"]) == ("5", "30.0", "3", "0.6")
    assert (lip["likes_showing"], lip["mentions"], lip["impressions"]) == ("3", "2", "8")
    assert lip["showing_s"] == "240.0"
    assert (rows[HOOPS]["tries"], rows[HOOPS]["conversion"]) == ("2", "0.5")
    assert rows[GLASSES]["conversion"] == "0.0"
    events = [*scripted_show(), Event(SHOW, "v1", "comment", T0 + 600, text="=HYPERLINK(1)")]
    assert write_events_csv(events, tmp_path / "events.csv") == len(events)
    with (tmp_path / "events.csv").open(newline="", encoding="utf-8") as f:
        raw = list(csv.DictReader(f))
    assert raw[-1]["text"] == "'=HYPERLINK(1)"  # not a formula in a spreadsheet
    assert sum(r["type"] == "watch" for r in raw) == sum(e.type == "watch" for e in events)


def test_the_cli_end_to_end(
    db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "160")
    out = tmp_path / "out"
    assert main(["analytics", "report", SHOW, "--db", db, "--out", str(out), "--events-csv"]) == 0
    printed = capsys.readouterr().out
    assert "Velvet Matte Lipstick" in printed
    assert "9 saw a product → 7 tried one on" in printed
    assert "peak 10 viewers" in printed
    assert {p.name for p in out.iterdir()} == {"report.html", "report.csv", "events.csv"}
    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.count("data:image/png;base64,") == 4
    assert "<script" not in html.lower()
    with (out / "report.csv").open(newline="", encoding="utf-8") as f:
        assert [r["tries"] for r in csv.DictReader(f)] == ["5", "2", "1"]


def test_the_cli_default_out_and_db(
    db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    (data / "tryon").mkdir(parents=True)
    (data / "tryon" / "events.db").write_bytes(Path(db.removeprefix("sqlite:///")).read_bytes())
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    monkeypatch.chdir(tmp_path)
    assert main(["analytics", "report", "other-show"]) == 0
    assert (tmp_path / "report-other-show" / "report.html").is_file()
    assert "other-show" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("show", "url", "message"),
    [
        ("no-such-show", None, "show 'no-such-show': no events stored in sqlite"),
        (SHOW, "sqlite:///{tmp}/missing/events.db", "no database at"),
        (SHOW, "postgresql://tryon@127.0.0.1:9/events", "unreachable"),
        (SHOW, "mysql://x", "expected sqlite:///PATH or postgresql://"),
        (SHOW, "none", "no event store"),
    ],
)
def test_the_cli_errors(
    db: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    show: str,
    url: str | None,
    message: str,
) -> None:
    out = tmp_path / "out"
    argv = ["analytics", "report", show, "--db", (url or db).format(tmp=tmp_path), "--out", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("tryon: error: ")
    assert message in err
    assert err.count("\n") == 1
    assert not out.exists()
    assert not (tmp_path / "missing").exists()  # a report never creates a database


def test_docs_picture(report: Report) -> None:
    """docs/report.png with TRYON_SCREENSHOTS=1 (the four plots of the scripted show)."""
    fig = overview_figure(report)
    target = DOCS / "report.png" if os.environ.get("TRYON_SCREENSHOTS") == "1" else None
    if target is not None:
        fig.savefig(target, dpi=80)
