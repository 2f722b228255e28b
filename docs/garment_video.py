"""A short demo video made with ``tryon apply``: the astronaut (skimage.data.astronaut(), public
domain) swaying and turning a little for 3 seconds, wearing the adult fair-isle pyjama top and a
hat. Writes docs/garment-demo.mp4 (and its source to a temporary folder).

    .venv/bin/python docs/garment_video.py [--out docs/garment-demo.mp4]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import av
import cv2
import numpy as np
from skimage.data import astronaut

from tryon.cli.main import main as tryon
from tryon.testing import Transform

FPS = 30
SECONDS = 3


def source(path: Path) -> None:
    """640x480: the portrait on grey, moving (roll ±8°, sway ±30 px, zoom ±6%)."""
    scene = np.full((480, 640, 3), 90, np.uint8)
    scene[:, 80:560] = cv2.resize(np.ascontiguousarray(astronaut()), (480, 480), interpolation=cv2.INTER_AREA)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = 640, 480, "yuv420p"
        for i in range(FPS * SECONDS):
            t = i / FPS
            move = Transform(
                angle=8 * np.sin(2.1 * t), dx=30 * np.sin(1.3 * t), scale=1 + 0.06 * np.sin(0.9 * t)
            )
            for packet in stream.encode(av.VideoFrame.from_ndarray(move.apply(scene), format="rgb24")):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "garment-demo.mp4")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "astronaut-moving.mp4"
        source(src)
        products = ["holiday-fair-isle-pyjama-top-adult:red", "north-rib-beanie:cherry"]
        code = tryon(["apply", *[a for p in products for a in ("-p", p)], str(src), "-o", str(args.out)])
    sys.stdout.write(f"{args.out}: {args.out.stat().st_size // 1024} KiB\n")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
