"""Renderer cost at 640×480: each makeup kind and finish, full looks, each eyewear product, each
earring, hat, necklace and garment, on tracked faces and bodies; each nail finish on tracked
hands; and the frame rate of the whole garment pipeline (perception + garment), single stream.

Landmarks (and shoulders, the person mask, hands) come from our perception on moving 640×480
sequences made from skimage.data.astronaut() and from cartoon hands (computed once, outside the
timing); each renderer is then timed on every frame. Prints a table and writes JSON.

    python benchmarks/render.py [--frames 60] [--out benchmarks/results/render.json]
"""

from __future__ import annotations

import argparse
import functools
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray
from perception import frames_640x480
from report import write_results
from rich.console import Console
from rich.table import Table

from tryon.catalog import Catalog
from tryon.perception import Perception, PerceptionConfig
from tryon.pipeline import LookItem, PipelineConfig, TryOnPipeline, item_layer
from tryon.render.finish import seed_of
from tryon.render.glasses import GlassesAsset, GlassesParams, glasses_asset, glasses_params, render_glasses
from tryon.render.makeup import MakeupParams, render_look
from tryon.render.nails import NAIL_FINISHES, NailParams, render_nails
from tryon.results import Face, FrameResult
from tryon.runtime.session import RuntimeConfig
from tryon.testing import TWO_HANDS, Transform, hands_image, moving

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


def hand_frames(n: int) -> list[NDArray[np.uint8]]:
    """Two cartoon hands drifting and turning a little."""
    scene = hands_image(TWO_HANDS)
    return [Transform(angle=6 * np.sin(i / 12), dx=15 * np.sin(i / 17)).apply(scene) for i in range(n)]


def timed_cases(
    cases: dict[str, Callable[[NDArray[np.uint8], FrameResult], object]],
    usable: list[tuple[NDArray[np.uint8], FrameResult]],
) -> dict[str, dict[str, float]]:
    results: dict[str, dict[str, float]] = {}
    for name, run in cases.items():
        ms: list[float] = []
        for _ in range(2):  # the first pass warms caches
            ms = []
            for frame, result in usable:
                t0 = time.perf_counter()
                run(frame, result)
                ms.append((time.perf_counter() - t0) * 1e3)
        a: NDArray[np.float64] = np.asarray(ms)
        results[name] = {"median_ms": float(np.median(a)), "p95_ms": float(np.percentile(a, 95))}
    return results


def two_people(n: int) -> list[NDArray[np.uint8]]:
    """Two people in one 640×480 frame (the astronaut twice, side by side, a parent and a child's
    height apart), the camera moving: the "two people" rows."""
    from skimage.data import astronaut

    small = cv2.resize(np.asarray(astronaut()), (300, 300), interpolation=cv2.INTER_AREA)  # type: ignore[no-untyped-call]
    base = np.full((480, 640, 3), 200, np.uint8)
    base[180:480, 10:310] = small
    base[220:480, 330:630] = cv2.resize(small, (300, 260), interpolation=cv2.INTER_AREA)
    return [t.apply(base) for t in moving(n)]


def garment_pipeline_fps(
    frames: list[NDArray[np.uint8]], catalog: Catalog, runtime: RuntimeConfig, people: int = 1
) -> dict[str, dict[str, float]]:
    """Frames per second of the whole pipeline (perception the look needs + the garment) on the
    moving sequence, one stream: per garment kind, the first product of that kind; with the
    median and p95 time of a frame. ``people``: the most faces and bodies tracked."""
    out: dict[str, dict[str, float]] = {}
    for kind in ("top", "dress", "jacket"):
        products = catalog.by_kind(kind)
        if not products:
            continue
        config = PipelineConfig(runtime=runtime, max_faces=people)
        pipeline = TryOnPipeline([products[0].id], catalog=catalog, config=config)
        for i, f in enumerate(frames[:10]):  # warm-up: models, first detections
            pipeline.process(f, i / 30)
        ms = []
        t0 = time.perf_counter()
        for i, f in enumerate(frames):
            t = time.perf_counter()
            pipeline.process(f, (i + 10) / 30)
            ms.append((time.perf_counter() - t) * 1e3)
        out[f"{kind} {products[0].id}"] = {
            "fps": len(frames) / (time.perf_counter() - t0),
            "median_ms": float(np.median(ms)),
            "p95_ms": float(np.percentile(ms, 95)),
        }
    return out


def fps_table(rows: dict[str, dict[str, dict[str, float]]], first: str) -> Table:
    table = Table(title="garment pipeline (pose + segmentation + hands + face + garment), one stream")
    for col in (first, "garment", "fps", "median ms", "p95 ms"):
        table.add_column(col, justify="left" if col in (first, "garment") else "right")
    for mode, by_garment in rows.items():
        for name, r in by_garment.items():
            table.add_row(mode, name, f"{r['fps']:.1f}", f"{r['median_ms']:.1f}", f"{r['p95_ms']:.1f}")
    return table


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/render.json"))
    parser.add_argument(
        "--pipeline-only", action="store_true", help="only the garment pipeline's frame rate (1 and 2 people)"
    )
    args = parser.parse_args()
    frames = frames_640x480(args.frames)
    catalog = Catalog.load()
    if args.pipeline_only:
        rows = {
            "one person": garment_pipeline_fps(frames, catalog, RuntimeConfig()),
            "two people": garment_pipeline_fps(two_people(args.frames), catalog, RuntimeConfig(), people=2),
        }
        Console().print(fps_table(rows, "people in the frame"))
        write_results(args.out.with_name("render_pipeline.json"), {"garment_pipeline": rows})
        return 0
    perception = Perception(PerceptionConfig(poses=True, segmentation=True))
    results_ = [perception.process(f, i / 30) for i, f in enumerate(frames)]
    usable = [(f, r) for f, r in zip(frames, results_, strict=True) if r.faces]
    cases: dict[str, Callable[[NDArray[np.uint8], FrameResult], object]] = {
        name: functools.partial(lambda fr, r, look: makeup(fr, r.faces, look), look=look)
        for name, look in CASES.items()
    }
    for product in catalog.by_kind("glasses") + catalog.by_kind("sunglasses"):
        asset = glasses_asset(product)
        params = glasses_params(product, product.default_variant)
        cases[f"{product.kind} {product.id}"] = functools.partial(
            lambda fr, r, asset, params: eyewear(fr, r.faces, asset, params), asset=asset, params=params
        )
    for kind in ("earrings", "hat", "necklace", "top", "dress", "jacket"):
        for product in catalog.by_kind(kind):
            cases[f"{kind} {product.id}"] = item_layer(LookItem(product, product.default_variant))
    results = timed_cases(cases, usable)
    hands = Perception(PerceptionConfig(faces=False, hands=True))
    hand_results = [(f, hands.process(f, i / 30)) for i, f in enumerate(hand_frames(args.frames))]
    with_hands = [(f, r) for f, r in hand_results if r.hands]
    nail_cases: dict[str, Callable[[NDArray[np.uint8], FrameResult], object]] = {
        f"nails {finish} (2 hands)": functools.partial(
            lambda fr, r, p: render_nails(fr, r.hands, p),
            p=NailParams((178, 20, 40), finish, seed=seed_of("bench", finish), shimmer_color=(255, 220, 230)),
        )
        for finish in NAIL_FINISHES
    }
    results.update(timed_cases(nail_cases, with_hands))
    # A pool per session first: the shared pool is process-wide and cannot be undone.
    pipeline_fps = {
        "threads per session": garment_pipeline_fps(frames, catalog, RuntimeConfig()),
        "shared thread pool": garment_pipeline_fps(frames, catalog, RuntimeConfig(shared_threads=True)),
    }
    title = f"renderers at 640x480, {len(usable)} frames with a face, {len(with_hands)} with hands"
    table = Table(title=title)
    for col in ("renderer", "median ms", "p95 ms"):
        table.add_column(col, justify="left" if col == "renderer" else "right")
    for name, r in results.items():
        table.add_row(name, f"{r['median_ms']:.2f}", f"{r['p95_ms']:.2f}")
    Console().print(table)
    Console().print(fps_table(pipeline_fps, "ONNX Runtime threads"))
    write_results(
        args.out,
        {
            "frames": len(usable),
            "hand_frames": len(with_hands),
            "garment_pipeline": pipeline_fps,
            "results": results,
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
