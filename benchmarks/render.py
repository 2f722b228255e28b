"""Renderer cost at 640×480: each makeup kind and finish, full looks and each eyewear product, on
tracked faces.

Landmarks come from our perception on a moving 640×480 sequence made from
skimage.data.astronaut() (computed once, outside the timing); each renderer is then timed on
every frame. Prints a table and writes JSON.

    python benchmarks/render.py [--frames 60] [--out benchmarks/results/render.json]
"""

from __future__ import annotations

import argparse
import functools
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from perception import frames_640x480
from report import write_results
from rich.console import Console
from rich.table import Table

from tryon.catalog import Catalog
from tryon.perception import Perception, PerceptionConfig
from tryon.render.glasses import GlassesAsset, GlassesParams, glasses_asset, glasses_params, render_glasses
from tryon.render.makeup import MakeupParams, render_look
from tryon.results import Face

CASES: dict[str, list[MakeupParams]] = {
    "lipstick matte": [MakeupParams("lipstick", (155, 17, 30), "matte")],
    "lipstick gloss": [MakeupParams("lipstick", (214, 96, 120), "gloss")],
    "lipstick shimmer": [MakeupParams("lipstick", (170, 80, 90), "shimmer", seed=1)],
    "lip_gloss gloss": [MakeupParams("lip_gloss", (220, 130, 140), "gloss")],
    "blush matte": [MakeupParams("blush", (226, 114, 120), "matte")],
    "eyeshadow shimmer": [MakeupParams("eyeshadow", (180, 140, 80), "shimmer", seed=1)],
    "eyeliner wing": [MakeupParams("eyeliner", (30, 26, 32), "matte", wing=True)],
    "brow": [MakeupParams("brow", (70, 45, 30), "matte")],
    "foundation": [MakeupParams("foundation", (214, 170, 140), "natural")],
}
CASES["full look (5 products)"] = [
    CASES["foundation"][0],
    CASES["blush matte"][0],
    CASES["eyeshadow shimmer"][0],
    CASES["eyeliner wing"][0],
    CASES["lipstick matte"][0],
]


def makeup(frame: NDArray[np.uint8], faces: list[Face], look: list[MakeupParams]) -> object:
    return render_look(frame, faces, look)


def eyewear(
    frame: NDArray[np.uint8], faces: list[Face], asset: GlassesAsset, params: GlassesParams
) -> object:
    return [render_glasses(frame, f, asset, params) for f in faces]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/render.json"))
    args = parser.parse_args()
    frames = frames_640x480(args.frames)
    perception = Perception(PerceptionConfig())
    faces: list[list[Face]] = [perception.process(f, i / 30).faces for i, f in enumerate(frames)]
    usable = [(f, fs) for f, fs in zip(frames, faces, strict=True) if fs]
    results: dict[str, dict[str, float]] = {}
    cases: dict[str, Callable[[NDArray[np.uint8], list[Face]], object]] = {
        name: functools.partial(makeup, look=look) for name, look in CASES.items()
    }
    catalog = Catalog.load()
    for product in catalog.by_kind("glasses") + catalog.by_kind("sunglasses"):
        asset = glasses_asset(product)
        params = glasses_params(product, product.default_variant)
        cases[f"{product.kind} {product.id}"] = functools.partial(eyewear, asset=asset, params=params)
    for name, run in cases.items():
        ms: list[float] = []
        for _ in range(2):  # the first pass warms caches
            ms = []
            for frame, fs in usable:
                t0 = time.perf_counter()
                run(frame, fs)
                ms.append((time.perf_counter() - t0) * 1e3)
        a: NDArray[np.float64] = np.asarray(ms)
        results[name] = {"median_ms": float(np.median(a)), "p95_ms": float(np.percentile(a, 95))}
    table = Table(title=f"renderers at 640x480, {len(usable)} frames with a face")
    for col in ("renderer", "median ms", "p95 ms"):
        table.add_column(col, justify="left" if col == "renderer" else "right")
    for name, r in results.items():
        table.add_row(name, f"{r['median_ms']:.2f}", f"{r['p95_ms']:.2f}")
    Console().print(table)
    write_results(
        args.out,
        {
            "frames": len(usable),
            "results": results,
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
