"""``tryon landmarks IMAGE [--json]`` and ``tryon landmarks VIDEO --jsonl``.

An image is perceived in image mode (every face, pose and hand detected afresh, as MediaPipe's
``static_image_mode``); a video in video mode (tracking), one JSON object per frame on stdout
with a progress bar on stderr. Coordinates are pixels of the input.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from tryon.errors import InputError, MediaError
from tryon.media import iter_video_frames, probe_video
from tryon.perception import Perception, PerceptionConfig


def register(sub: Any) -> None:
    p = sub.add_parser("landmarks", help="print face, pose and hand landmarks of an image or video as JSON")
    p.add_argument("input", type=Path, help="an image, or a video with --jsonl")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="one JSON object (images; the default)")
    fmt.add_argument("--jsonl", action="store_true", help="one JSON object per video frame, tracking mode")
    p.add_argument("--max-faces", type=int, default=4)
    p.add_argument("--max-poses", type=int, default=2)
    p.add_argument("--max-hands", type=int, default=4)
    p.add_argument("--iris", action="store_true", help="478 face landmarks with the iris points")
    p.add_argument("--full-range", action="store_true", help="full-range face detector (small/distant faces)")
    p.add_argument("--no-faces", action="store_true")
    p.add_argument("--no-poses", action="store_true")
    p.add_argument("--no-hands", action="store_true")
    p.set_defaults(func=cmd_landmarks)


def _config(args: argparse.Namespace, static: bool) -> PerceptionConfig:
    for name in ("max_faces", "max_poses", "max_hands"):
        if getattr(args, name) < 1:
            raise InputError(f"--{name.replace('_', '-')}: expected at least 1, got {getattr(args, name)}")
    return PerceptionConfig(
        faces=not args.no_faces,
        max_faces=args.max_faces,
        face_detector="full" if args.full_range else "short",
        iris=args.iris,
        poses=not args.no_poses,
        max_poses=args.max_poses,
        hands=not args.no_hands,
        max_hands=args.max_hands,
        static_image_mode=static,
    )


def read_image(path: Path) -> NDArray[np.uint8] | None:
    """RGB image, or ``None`` if ``path`` is not a readable image."""
    data = np.fromfile(str(path), dtype=np.uint8) if path.is_file() else np.empty(0, np.uint8)
    if data.size == 0:
        return None
    bgr = cv2.imdecode(data, cv2.IMREAD_COLOR)
    return None if bgr is None else np.ascontiguousarray(bgr[:, :, ::-1])


def video_frames(path: Path) -> tuple[int, Iterator[tuple[float, NDArray[np.uint8]]]]:
    """Frame count (0 if unknown) and ``(timestamp_s, rgb)`` pairs from the stream's own
    timestamps (variable frame rate and rotation handled by :mod:`tryon.media`)."""
    try:
        info = probe_video(path)
    except MediaError as exc:
        raise InputError(f"{path}: cannot read it as an image or a video ({exc})") from exc
    return info.frames or 0, ((ts, frame) for frame, ts in iter_video_frames(path))


def cmd_landmarks(args: argparse.Namespace) -> int:
    path: Path = args.input
    if not path.exists():
        raise InputError(f"{path}: no such file")
    image = read_image(path)
    out = sys.stdout
    if image is not None:
        perception = Perception(_config(args, static=True))
        result = perception.process(image)
        out.write(json.dumps(result.to_json(), separators=(",", ":")) + "\n")
        return 0
    total, frames = video_frames(path)
    perception = Perception(_config(args, static=False))
    count = 0
    with Progress(
        TextColumn("[bold]landmarks"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
    ) as progress:
        task = progress.add_task("frames", total=total or None)
        for timestamp, frame in frames:
            result = perception.process(frame, timestamp)
            out.write(json.dumps(result.to_json(), separators=(",", ":")) + "\n")
            count += 1
            progress.advance(task)
    if count == 0:
        raise InputError(f"{path}: the video has no readable frames")
    return 0
