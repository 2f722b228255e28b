"""``tryon`` entry point: sub-commands are registered by the modules beside this one."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from tryon.cli import analytics, apply, assets, catalog, doctor, host, landmarks, models, profile, serve
from tryon.errors import TryOnError

logger = logging.getLogger("tryon")

EXIT_ERROR = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tryon", description="Real-time virtual try-on engine.")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv for debug)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    models.register(sub)
    doctor.register(sub)
    landmarks.register(sub)
    catalog.register(sub)
    assets.register(sub)
    apply.register(sub)
    profile.register(sub)
    serve.register(sub)
    host.register(sub)
    analytics.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING if args.verbose == 0 else logging.INFO if args.verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    try:
        code: int = args.func(args)
    except TryOnError as exc:
        sys.stderr.write(f"tryon: error: {exc}\n")
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    raise SystemExit(main())
