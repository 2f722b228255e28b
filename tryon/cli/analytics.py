"""``tryon analytics comment "TEXT"``: one comment's analysis as JSON (language, products, kinds,
shades, question) against the catalog (``--assets DIR``, else ``$TRYON_ASSETS_DIR``, else the
repository's ``assets/``).

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
    p = sub.add_parser("analytics", help="engagement analytics: understand a comment")
    p.add_argument("--assets", type=Path, default=None, metavar="DIR", help="catalog root (has products/)")
    # The same option after the sub-command; SUPPRESS keeps it from overriding the one before.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--assets", type=Path, default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    actions = p.add_subparsers(dest="analytics_command", required=True, metavar="ACTION")
    register_comment(actions, common)


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
