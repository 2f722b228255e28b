"""Renders a frame trace (Chrome trace-event JSON) to a PNG timeline with matplotlib.

    .venv/bin/python docs/trace_timeline.py TRACE.json [-o OUT.png] [--frames 3]
    .venv/bin/python docs/trace_timeline.py --example    # docs/trace.png: a garment look, profiled

Perfetto (ui.perfetto.dev) and chrome://tracing open the same files interactively.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from tryon.trace import load_events, render_timeline

DOCS = Path(__file__).resolve().parent


def example(out: Path) -> Path:
    """docs/trace.png: ``tryon profile --synthetic -p everyday-crew-tee -p velvet-matte-lipstick``."""
    from tryon.cli.main import main

    with tempfile.TemporaryDirectory() as tmp:
        trace = Path(tmp) / "trace.json"
        args = ["profile", "--synthetic", "-p", "everyday-crew-tee", "-p", "velvet-matte-lipstick:ruby-red"]
        main([*args, "--frames", "12", "--warmup", "10", "--trace", str(trace)])
        return render_timeline(load_events(trace), out, frames=2, title="tryon profile: a top and a lipstick")


def main() -> int:
    ap = argparse.ArgumentParser(description="a frame trace as a PNG timeline")
    ap.add_argument("trace", nargs="?", type=Path)
    ap.add_argument("-o", "--out", type=Path)
    ap.add_argument("--frames", type=int, default=3)
    ap.add_argument("--example", action="store_true", help="profile a garment look and write docs/trace.png")
    args = ap.parse_args()
    if args.example:
        example(args.out or DOCS / "trace.png")
        return 0
    if args.trace is None:
        ap.error("a trace file, or --example")
    render_timeline(load_events(args.trace), args.out or args.trace.with_suffix(".png"), frames=args.frames)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
