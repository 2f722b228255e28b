"""``tryon host (--camera N | --input FILE) [--product ID[:variant] ... | --look FILE] OUTPUTS``: go live
from a camera on this machine, with the look on, to any combination of a preview window, a file,
WHIP, RTMP/SRT and a virtual camera.

Secrets never come from the command line: the WHIP bearer token and the control API's token are
read from environment variables named by ``--whip-token-env`` and ``--control-token-env``. RTMP
stream keys are part of the URL (as platforms hand them out): only the scheme and host are shown.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from tryon.errors import InputError

logger = logging.getLogger(__name__)

OUTPUT_FLAGS = "--preview, --record FILE, --whip URL, --rtmp URL, --srt URL or --virtual-camera"


def register(sub: Any) -> None:
    p = sub.add_parser(
        "host",
        help="go live from a camera on this machine: preview, file, WHIP, RTMP/SRT, virtual camera",
        description="Run the try-on on a camera (or a video file standing in for one) and send the result "
        "to any combination of outputs at once. Ctrl-C ends it cleanly.",
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--camera", type=int, metavar="N", help="camera N through OpenCV (/dev/videoN on Linux)")
    src.add_argument(
        "--input", type=Path, metavar="FILE", help="a video file played in real time as the camera"
    )
    p.add_argument("--loop", action="store_true", help="--input: start again at the end")
    p.add_argument(
        "--mic",
        metavar="DEVICE",
        help="--camera: sound from an ALSA device (default, hw:1, ...) or FORMAT:DEVICE (pulse:default); "
        "--input uses the file's sound",
    )
    p.add_argument("--size", metavar="WxH", help="frame size (default: the source's)")
    p.add_argument("--fps", type=float, help="frame rate to ask the camera for / at most from the file")
    look = p.add_argument_group("the look")
    look.add_argument(
        "--product", "-p", action="append", default=[], metavar="ID[:variant]", help="repeatable"
    )
    look.add_argument(
        "--look",
        type=Path,
        metavar="FILE",
        help='JSON list of looks (each "ID[:variant]" or a list of them); keys 1-9 / PUT /look {"entry": N} '
        "switch between them",
    )
    look.add_argument("--intensity", type=float, default=1.0, help="0 (none) to 1 (full)")
    look.add_argument("--max-faces", type=int, default=2, help="faces to make up (default 2)")
    look.add_argument("--assets", type=Path, help="catalog root (default: the bundled assets/)")
    out = p.add_argument_group("outputs (at least one)")
    out.add_argument(
        "--preview", action="store_true", help="a window (keys: 1-9 looks, 0 none, n/p next/prev, q quit)"
    )
    out.add_argument("--record", type=Path, metavar="FILE", help="a file: .mp4, .mov, .mkv (H.264 + AAC)")
    out.add_argument("--whip", metavar="URL", help="a WHIP endpoint, e.g. http://127.0.0.1:8080/whip")
    out.add_argument(
        "--whip-token-env",
        metavar="VAR",
        help="environment variable holding the WHIP bearer token (a show's key)",
    )
    out.add_argument(
        "--rtmp", action="append", default=[], metavar="URL", help="rtmp(s)://host/app/key (repeatable)"
    )
    out.add_argument(
        "--srt", action="append", default=[], metavar="URL", help="srt://host:port?streamid=... (repeatable)"
    )
    out.add_argument(
        "--bitrate", type=int, default=2500, metavar="KBPS", help="RTMP/SRT video bitrate (2500)"
    )
    out.add_argument("--keyframe-interval", type=float, default=2.0, metavar="S", help="RTMP/SRT (2 s)")
    out.add_argument(
        "--virtual-camera", action="store_true", help="a virtual webcam (pyvirtualcam + v4l2loopback)"
    )
    out.add_argument("--virtual-camera-device", metavar="PATH", help="e.g. /dev/video10 (default: the first)")
    ctl = p.add_argument_group("control")
    ctl.add_argument(
        "--control", metavar="127.0.0.1:PORT", help="the look's HTTP API (PUT /look), loopback only"
    )
    ctl.add_argument(
        "--control-token-env", metavar="VAR", help="environment variable holding its bearer token"
    )
    ctl.add_argument("--duration", type=float, metavar="S", help="stop after S seconds of the source")
    ctl.add_argument("--frames", type=int, metavar="N", help="stop after N frames of the source")
    p.set_defaults(func=run)


def secret(var: str | None, flag: str) -> str | None:
    if var is None:
        return None
    value = os.environ.get(var, "").strip()
    if not value:
        raise InputError(f"{flag} {var}: the environment variable is not set or empty")
    return value


def run(args: argparse.Namespace) -> int:
    from tryon.host import Host, LookControl, load_looks, parse_control
    from tryon.media.capture import CameraSource, FileSource, parse_size
    from tryon.pipeline import PipelineConfig, TryOnPipeline, check_intensity

    if not (args.preview or args.record or args.whip or args.rtmp or args.srt or args.virtual_camera):
        raise InputError(f"no output: give at least one of {OUTPUT_FLAGS}")
    for name in ("duration", "fps"):
        value = getattr(args, name)
        if value is not None and not value > 0:
            raise InputError(f"--{name}: expected a positive number, got {value}")
    if args.frames is not None and args.frames < 1:
        raise InputError(f"--frames: expected a number >= 1, got {args.frames}")
    if args.loop and args.input is None:
        raise InputError("--loop goes with --input")
    check_intensity(args.intensity)
    whip_token = secret(args.whip_token_env, "--whip-token-env")
    control_token = secret(args.control_token_env, "--control-token-env")
    looks = load_looks(args.look) if args.look else []
    size = parse_size(args.size) if args.size else None
    address = parse_control(args.control) if args.control else None

    source: Any
    if args.camera is not None:
        source = CameraSource(args.camera, size, args.fps, args.mic)
    else:
        if args.mic:
            raise InputError("--mic goes with --camera (--input plays the file's sound)")
        source = FileSource(args.input, size, loop=args.loop)
        source.limit_rate(args.fps if args.fps and args.fps < source.fps else None)
    fps = min(args.fps or source.fps, source.fps)
    server = None
    try:
        from tryon.catalog import Catalog

        config = PipelineConfig(max_faces=args.max_faces)
        pipeline = TryOnPipeline(
            (), intensity=args.intensity, catalog=Catalog.load(args.assets), config=config
        )
        control = LookControl(lambda look: pipeline.set_look(look, args.intensity), looks)
        if args.product or not looks:
            control.wear(args.product)
        else:
            control.select(1)
        outputs = build_outputs(args, source.size, fps, source.has_audio, whip_token, control.key)
        host = Host(source, pipeline, outputs, duration=args.duration, max_frames=args.frames)
        control.quit = lambda: host.stop("q pressed")
        if address is not None:
            from tryon.host import ControlServer

            server = ControlServer(
                address, control, host.stats, lambda: host.stop("POST /stop"), control_token
            )
            server.start()
        host.open_outputs()
    except BaseException:
        if server is not None:
            server.close()
        source.close()
        raise
    logger.info(
        "host: %s %dx%d at %g fps → %s", source.label, *source.size, fps, ", ".join(o.name for o in outputs)
    )
    try:
        with stop_on_signals(host):
            report = host.run(opened=True)
    finally:
        if server is not None:
            server.close()
    summary(report, control.changes)
    failed = report.source_error or any(o.failed for o in outputs)
    return 1 if failed else 0


def build_outputs(
    args: argparse.Namespace,
    size: tuple[int, int],
    fps: float,
    audio: bool,
    token: str | None,
    on_key: Callable[[int], None],
) -> list[Any]:
    """The outputs asked for, each checked now (a missing device or a bad URL fails before any starts)."""
    from tryon.host import PreviewOutput, RecordOutput, UplinkOutput, VirtualCameraOutput

    outputs: list[Any] = []
    if args.virtual_camera:
        outputs.append(VirtualCameraOutput(size, fps, args.virtual_camera_device))
    if args.preview:
        outputs.append(PreviewOutput(on_key))
    if args.record:
        outputs.append(RecordOutput(args.record, size, fps, audio))
    for url in [*args.rtmp, *args.srt]:
        outputs.append(UplinkOutput(url, size, fps, args.bitrate * 1000, args.keyframe_interval))
    if args.whip:
        from tryon.host.whip import WhipOutput

        outputs.append(WhipOutput(args.whip, token, audio))
    return outputs


@contextlib.contextmanager
def stop_on_signals(host: Any) -> Iterator[None]:
    """SIGINT and SIGTERM end the run cleanly (a second SIGINT interrupts at once)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, _frame: object) -> None:
        host.stop_from_signal(signal.Signals(signum).name)
        signal.signal(signal.SIGINT, signal.default_int_handler)

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def summary(report: Any, look_changes: int) -> None:
    console = Console(stderr=True)
    table = Table(
        title=f"tryon host: {report.seconds:.1f} s, stopped by {report.stopped_by}", title_justify="left"
    )
    for column in ("", "frames", "dropped", "details"):
        table.add_column(column)
    details = f"{report.process_ms:.1f} ms/frame, {look_changes} look change(s)"
    table.add_row("source", str(report.frames_in), "", report.source_error or "")
    table.add_row("try-on", str(report.frames_out), str(report.dropped), details)
    for name, stats in report.outputs.items():
        rest = {k: v for k, v in stats.items() if k not in ("frames", "dropped") and v is not None}
        table.add_row(
            name,
            str(stats.get("frames", "")),
            str(stats.get("dropped", "")),
            ", ".join(f"{k} {v}" for k, v in rest.items()),
        )
    console.print(table)
