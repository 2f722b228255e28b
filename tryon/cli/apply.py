"""``tryon apply --product ID[:variant] ... INPUT -o OUTPUT``: try products on an image or a video."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tryon.errors import InputError, MediaError
from tryon.look import resolve_look
from tryon.media import is_image, is_video, read_image, transcode_video, write_image
from tryon.pipeline import PipelineConfig, TryOnPipeline, check_intensity, resolve_item
from tryon.render.compare import side_by_side

logger = logging.getLogger(__name__)


def register(sub: Any) -> None:
    p = sub.add_parser(
        "apply",
        help="try products on an image or a video",
        description="Render products from the catalog onto the faces in an image or a video "
        "(video: tracking mode, audio kept).",
    )
    p.add_argument("input", type=Path, help="an image (.png, .jpg, ...) or a video (.mp4, .mov, .mkv, .webm)")
    p.add_argument("-o", "--output", type=Path, required=True, help="where to write the result")
    p.add_argument(
        "--product",
        "-p",
        action="append",
        required=True,
        metavar="ID[:variant]",
        help="a product and optionally its shade; repeat for a full look",
    )
    p.add_argument(
        "--intensity",
        type=float,
        default=1.0,
        help="0 (none) to 1 (full), for the makeup (the rest is opaque)",
    )
    p.add_argument("--compare", action="store_true", help="write before | after side by side")
    p.add_argument("--max-faces", type=int, default=4, help="faces to make up (default 4)")
    p.add_argument(
        "--full-range",
        action="store_true",
        help="full-range face detector (small/distant faces; the default for images, not for videos)",
    )
    p.add_argument("--assets", type=Path, default=None, help="catalog root (default: the bundled assets/)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tryon.catalog import Catalog

    check_intensity(args.intensity)
    src: Path = args.input
    dst: Path = args.output
    if not src.exists():
        raise MediaError(f"{src}: no such file")
    video = is_video(src)
    if not video and not is_image(src):
        raise InputError(f"{src}: expected an image or a video by its suffix, got {src.suffix or 'none'!r}")
    if video and not is_video(dst):
        raise InputError(
            f"{dst}: a video input needs a video output (.mp4, .mov, .mkv, .webm), got {dst.suffix!r}"
        )
    if not video and not is_image(dst):
        raise InputError(
            f"{dst}: an image input needs an image output (.png, .jpg, .webp), got {dst.suffix!r}"
        )
    if args.max_faces < 1:
        raise InputError(f"--max-faces: expected a number >= 1, got {args.max_faces}")

    catalog = Catalog.load(args.assets)
    config = PipelineConfig(
        max_faces=args.max_faces,
        # A photo shows people at any distance; a video is mostly a webcam's close-up.
        face_detector="full" if args.full_range or not video else "short",
        static_image_mode=not video,
    )
    # Two products worn in the same place (glasses and sunglasses, a dress and a top): the later one.
    look, replaced = resolve_look([resolve_item(catalog, spec, args.intensity) for spec in args.product])
    for old, by in replaced:
        logger.warning("%s replaced by %s: they are worn in the same place", old.spec, by.spec)
    pipeline = TryOnPipeline(look, intensity=args.intensity, catalog=catalog, config=config)

    def step(frame: NDArray[np.uint8], timestamp: float | None) -> NDArray[np.uint8]:
        out = pipeline.process(frame, timestamp)
        return side_by_side(frame, out) if args.compare else out

    if video:
        stats = transcode_video(src, dst, step, progress=True)
        faces = (
            "" if pipeline.last_result is None else f", {len(pipeline.last_result.faces)} face(s) on the last"
        )
        sys.stderr.write(
            f"{dst}: {stats.frames} frames {stats.width}x{stats.height} at {stats.fps:.2f} fps, "
            f"audio {stats.audio}{faces}\n"
        )
    else:
        image = read_image(src)
        out = step(image, None)
        write_image(dst, out)
        found = describe_found(pipeline)
        if np.array_equal(out[:, -image.shape[1] :], image):
            logger.warning("%s: nothing the look is worn on was found (%s); written unchanged", src, found)
        sys.stderr.write(f"{dst}: {out.shape[1]}x{out.shape[0]}, {found}\n")
    failures = sum(pipeline.stats.failures.values())
    if failures:
        sys.stderr.write(f"{failures} frame(s) passed through unprocessed: {dict(pipeline.stats.failures)}\n")
    return 0


def describe_found(pipeline: TryOnPipeline) -> str:
    """What perception found on the last frame, for the summary line: faces, people, hands."""
    r = pipeline.last_result
    if r is None:
        return "nothing perceived"
    parts = [f"{len(r.faces)} face(s)"]
    stages = pipeline.perception.stages
    if "poses" in stages:
        parts.append(f"{len(r.poses)} person(s)")
    if "hands" in stages:
        parts.append(f"{len(r.hands)} hand(s)")
    return ", ".join(parts)
