"""``tryon analytics comment "TEXT"``: one comment's analysis as JSON (language, products, kinds,
shades, question) against the catalog (``--assets DIR``, else ``$TRYON_ASSETS_DIR``, else the
repository's ``assets/``).

``tryon analytics report SHOW_ID [--db URL] [--out DIR]``: a show's report from the stored events,
printed as a table and written as ``report.html`` (self-contained, with its plots) and
``report.csv`` (one row per product) into ``--out`` (default ``./report-<show>/``).

``analytics`` takes sub-commands (``ACTION``): add one with a ``register_*`` function below and a
line in :func:`register`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from tryon.analytics.comments import CommentAnalyzer
from tryon.catalog import Catalog


def register(sub: Any) -> None:
    p = sub.add_parser("analytics", help="engagement analytics: understand a comment, report on a show")
    p.add_argument("--assets", type=Path, default=None, metavar="DIR", help="catalog root (has products/)")
    # The same option after the sub-command; SUPPRESS keeps it from overriding the one before.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--assets", type=Path, default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    actions = p.add_subparsers(dest="analytics_command", required=True, metavar="ACTION")
    register_comment(actions, common)
    register_report(actions, common)


def register_comment(actions: Any, common: argparse.ArgumentParser) -> None:
    c = actions.add_parser(
        "comment",
        parents=[common],
        help="one comment's analysis as JSON: language, products, kinds, shades, question",
    )
    c.add_argument("text", help="the comment")
    c.set_defaults(func=cmd_comment)


def cmd_comment(args: argparse.Namespace) -> int:
    analyzer = CommentAnalyzer(Catalog.load(args.assets))
    analysis = analyzer.analyze(args.text)
    sys.stdout.write(json.dumps(analysis.to_json(), ensure_ascii=False) + "\n")
    return 0


def register_report(actions: Any, common: argparse.ArgumentParser) -> None:
    r = actions.add_parser(
        "report",
        parents=[common],
        help="a show's report: a table here, report.html (with plots) and report.csv in --out",
    )
    r.add_argument("show", metavar="SHOW_ID", help="the show (tryon serve's show id)")
    r.add_argument(
        "--db",
        default=None,
        metavar="URL",
        help="the event store: sqlite:///path or postgresql://user@host/db "
        "(default: as tryon serve, sqlite in $XDG_DATA_HOME/tryon/events.db)",
    )
    r.add_argument("--out", type=Path, default=None, metavar="DIR", help="default ./report-<show>/")
    r.add_argument("--events-csv", action="store_true", help="also write the raw events as events.csv")
    r.set_defaults(func=cmd_report)


def cmd_report(args: argparse.Namespace) -> int:
    from tryon.cli.analytics_report import report

    return report(args)
