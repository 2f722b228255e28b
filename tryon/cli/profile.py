"""``tryon profile -p ID[:variant] ... (--synthetic | VIDEO | FOLDER | --camera N)``: where each
frame's milliseconds go, per stage and sub-stage, on this machine (see :mod:`tryon.profiling`)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from tryon.errors import InputError, MediaError
from tryon.profiling import (
    FrameSource,
    Profile,
    capture_source,
    folder_source,
    profile,
    runtime_for,
    synthetic_source,
)


def register(sub: Any) -> None:
    p = sub.add_parser(
        "profile",
        help="where each frame's milliseconds go, per stage, for a look on an input",
        description="Run a look on frames from an input and print, per stage and sub-stage, the "
        "median, p95 and max milliseconds and the share of the frame; the frame rate reached, "
        "detector runs, failed and dropped frames, the provider and threads.",
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("input", nargs="?", type=Path, help="a video file or a folder of images")
    src.add_argument("--synthetic", action="store_true", help="the built-in moving test sequence (640×480)")
    src.add_argument("--camera", type=int, metavar="N", help="camera N (as OpenCV numbers them)")
    p.add_argument(
        "--product",
        "-p",
        action="append",
        default=[],
        metavar="ID[:variant]",
        help="a product and optionally its shade; repeat for a full look (none: perception only)",
    )
    p.add_argument("--intensity", type=float, default=1.0, help="0 (none) to 1 (full), for every product")
    p.add_argument("--max-faces", type=int, default=2, help="faces (and people) to track (default 2)")
    p.add_argument(
        "--provider", choices=("cpu", "cuda", "tensorrt"), help="execution provider (default: best)"
    )
    p.add_argument(
        "--threads", type=int, help="ONNX Runtime intra-op threads (default: $TRYON_THREADS or CPUs)"
    )
    p.add_argument("--frames", type=int, default=200, help="frames to measure (default 200)")
    p.add_argument("--warmup", type=int, default=10, help="frames run first, not measured (default 10)")
    p.add_argument("--json", type=Path, metavar="OUT", help="write the numbers as JSON")
    p.add_argument("--trace", type=Path, metavar="OUT.json", help="write a Chrome trace-event file")
    p.add_argument("--assets", type=Path, default=None, help="catalog root (default: the bundled assets/)")
    p.set_defaults(func=run)


def source_of(args: argparse.Namespace) -> FrameSource:
    if args.synthetic:
        return synthetic_source()
    if args.camera is not None:
        return capture_source(args.camera, f"camera {args.camera}")
    path: Path = args.input
    if not path.exists():
        raise MediaError(f"{path}: no such file or folder")
    if path.is_dir():
        return folder_source(path)
    from tryon.media import is_video

    if not is_video(path):
        raise InputError(f"{path}: expected a video (.mp4, .mov, .mkv, .webm) or a folder of images")
    return capture_source(str(path), str(path))


def run(args: argparse.Namespace) -> int:
    from tryon.catalog import Catalog
    from tryon.pipeline import PipelineConfig, TryOnPipeline, check_intensity
    from tryon.trace import Tracer

    check_intensity(args.intensity)
    if args.frames < 1 or args.warmup < 0 or args.max_faces < 1:
        raise InputError("expected --frames >= 1, --warmup >= 0 and --max-faces >= 1")
    runtime = runtime_for(args.provider, args.threads)
    source = source_of(args)
    config = PipelineConfig(max_faces=args.max_faces, runtime=runtime)
    catalog = Catalog.load(args.assets)
    pipeline = TryOnPipeline(args.product, intensity=args.intensity, catalog=catalog, config=config)
    tracer = Tracer("tryon profile") if args.trace else None
    console = Console(stderr=True)
    with console.status(f"profiling {source.name} ...") as status:
        result = profile(
            pipeline,
            source,
            frames=args.frames,
            warmup=args.warmup,
            tracer=tracer,
            progress=lambda n: status.update(f"profiling {source.name}: frame {n}/{args.frames}"),
        )
    out = Console()
    out.print(table(result))
    out.print(summary(result))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result.to_json(), indent=2) + "\n")
        sys.stderr.write(f"{args.json}: written\n")
    if tracer is not None:
        tracer.write(args.trace, input=result.input, look=result.look, provider=result.provider)
        sys.stderr.write(f"{args.trace}: {result.frames} frames traced (open it in Perfetto)\n")
    return 0


def table(result: Profile) -> Table:
    look = ", ".join(result.look) or "no products (perception only)"
    t = Table(title=f"tryon profile: {result.input}, {look}")
    for col, justify in (
        ("stage", "left"),
        ("runs", "right"),
        ("median ms", "right"),
        ("p95 ms", "right"),
        ("max ms", "right"),
        ("share", "right"),
    ):
        t.add_column(col, justify=justify)  # type: ignore[arg-type]
    f = result.frame_ms
    t.add_row(
        "[bold]frame[/bold]",
        str(result.frames),
        f"{f['median']:.2f}",
        f"{f['p95']:.2f}",
        f"{f['max']:.2f}",
        "100%",
    )
    for s in result.stages:
        short = s.name if s.depth == 1 or s.parent is None else s.name.removeprefix(f"{s.parent}.")
        label = "  " * (s.depth - 1) + short
        runs = str(s.runs) if s.calls == s.runs else f"{s.runs} ({s.calls}×)"
        style = "dim" if s.share < 0.01 else ""
        t.add_row(
            label,
            runs,
            f"{s.median_ms:.2f}",
            f"{s.p95_ms:.2f}",
            f"{s.max_ms:.2f}",
            f"{s.share * 100:.1f}%",
            style=style,
        )
    return t


def summary(result: Profile) -> str:
    runs = ", ".join(f"{k} {v}" for k, v in result.detector_runs.items()) or "none"
    fails = f" ({', '.join(f'{k} {v}' for k, v in result.failures.items())})" if result.failures else ""
    lines = [
        f"{result.frames} frames in {result.wall_s:.2f} s: [bold]{result.fps:.1f} fps[/bold] "
        f"(frame mean {result.frame_ms['mean']:.2f} ms); detector runs: {runs}",
        f"failed frames: {result.failed}{fails}; dropped: {result.dropped}; "
        f"provider {result.provider}, {result.threads} thread(s)",
    ]
    lines += [f"note: {n}" for n in result.notes]
    return "\n".join(lines)
