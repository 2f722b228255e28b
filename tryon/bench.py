"""``tryon doctor --bench``: what this machine can do, in about 20 seconds.

Each model's latency on the chosen provider (the median of as many runs as its share of the time
allows, after warm-up runs, on a random input of its shape), then the frame rate that a typical
makeup look and a typical garment look reach on the moving synthetic sequence
(:func:`tryon.profiling.synthetic_frames`), one stream.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from tryon.catalog import Catalog
from tryon.errors import TryOnError
from tryon.pipeline import PipelineConfig, TryOnPipeline
from tryon.profiling import synthetic_frames
from tryon.runtime.providers import choose_providers
from tryon.runtime.session import ModelLoader, RuntimeConfig
from tryon.runtime.specs import MODEL_SPECS

logger = logging.getLogger(__name__)

LOOKS = {
    "makeup (lipstick, blush)": ["velvet-matte-lipstick:ruby-red", "lit-glow-blush"],
    "garment (a top)": ["everyday-crew-tee"],
}
"""The typical looks: one makeup look (faces only), one garment (pose, person mask, hands, face)."""
MODEL_SHARE = 0.4
"""Of the time: the models; the looks share the rest."""
MIN_RUNS, MAX_RUNS, WARMUP_RUNS = 3, 200, 3


@dataclass
class ModelBench:
    model: str
    input: str
    median_ms: float
    p95_ms: float
    runs: int
    provider: str
    error: str | None = None


@dataclass
class LookBench:
    look: str
    products: list[str]
    fps: float
    median_ms: float
    p95_ms: float
    frames: int
    error: str | None = None


@dataclass
class Bench:
    provider: str
    threads: int
    seconds: float
    models: list[ModelBench]
    looks: list[LookBench]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _until(deadline: float, run: Any, max_runs: int = MAX_RUNS) -> list[float]:
    ms: list[float] = []
    while len(ms) < MIN_RUNS or (len(ms) < max_runs and time.perf_counter() < deadline):
        t0 = time.perf_counter()
        run()
        ms.append((time.perf_counter() - t0) * 1e3)
    return ms


def bench_models(runtime: RuntimeConfig, seconds: float) -> list[ModelBench]:
    loader = ModelLoader(config=runtime)
    per_model = seconds / max(1, len(MODEL_SPECS))
    rng = np.random.default_rng(0)
    out = []
    for spec in MODEL_SPECS:
        try:
            model = loader.load(spec.name)
        except TryOnError as exc:
            out.append(ModelBench(spec.name, "", 0.0, 0.0, 0, "", str(exc)))
            continue
        feeds = {
            name: rng.random(shape, dtype=np.float32).astype(dtype)
            for name, (shape, dtype) in model.inputs.items()
        }
        shape = "×".join(str(d) for d in next(iter(model.inputs.values()))[0][1:])
        for _ in range(WARMUP_RUNS):
            model.run(feeds)
        ms = _until(time.perf_counter() + per_model, lambda m=model, f=feeds: m.run(f))
        out.append(
            ModelBench(
                spec.name,
                shape,
                float(np.median(ms)),
                float(np.percentile(ms, 95)),
                len(ms),
                model.provider,
            )
        )
    return out


def _frames_until(pipeline: TryOnPipeline, frames: list[Any], seconds: float) -> list[float]:
    ms: list[float] = []
    deadline = time.perf_counter() + seconds
    i = 5
    while len(ms) < MIN_RUNS or time.perf_counter() < deadline:
        t0 = time.perf_counter()
        pipeline.process(frames[i % len(frames)], i / 30)
        ms.append((time.perf_counter() - t0) * 1e3)
        i += 1
    return ms


def bench_looks(runtime: RuntimeConfig, seconds: float, catalog: Catalog) -> list[LookBench]:
    frames = synthetic_frames(60)
    per_look = seconds / len(LOOKS)
    out = []
    for name, products in LOOKS.items():
        try:
            pipeline = TryOnPipeline(products, catalog=catalog, config=PipelineConfig(runtime=runtime))
        except TryOnError as exc:
            out.append(LookBench(name, products, 0.0, 0.0, 0.0, 0, str(exc)))
            continue
        for i in range(5):  # models warm, the first detections made
            pipeline.process(frames[i], i / 30)
        ms = _frames_until(pipeline, frames, per_look)
        wall = sum(ms) / 1e3
        out.append(
            LookBench(
                name, products, len(ms) / wall, float(np.median(ms)), float(np.percentile(ms, 95)), len(ms)
            )
        )
    return out


def bench(
    runtime: RuntimeConfig | None = None, seconds: float = 20.0, catalog: Catalog | None = None
) -> Bench:
    """Models, then looks, within about ``seconds`` (plus loading the models)."""
    runtime = runtime or RuntimeConfig()
    models = bench_models(runtime, seconds * MODEL_SHARE)
    looks = bench_looks(runtime, seconds * (1 - MODEL_SHARE), catalog or Catalog.load())
    return Bench(choose_providers(runtime.providers)[0], runtime.thread_count(), seconds, models, looks)
