"""TryOnPipeline: perception + makeup for frames, looks from the catalog, failures passed through."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray

from tryon.catalog import Catalog
from tryon.errors import InputError, UnknownProductError
from tryon.perception import Perception, PerceptionConfig
from tryon.pipeline import PipelineConfig, TryOnPipeline, makeup_params
from tryon.render import makeup
from tryon.render import regions as rg
from tryon.render.masks import Box, fill_polygons
from tryon.testing import moving


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load()


@pytest.fixture(scope="module")
def pipeline(catalog: Catalog) -> TryOnPipeline:
    return TryOnPipeline(catalog=catalog)


def _lips(face_lm: NDArray[np.floating], shape: tuple[int, ...]) -> NDArray[np.bool_]:
    pts = rg.check_landmarks(face_lm)
    box = Box(0, 0, shape[1], shape[0])
    return (fill_polygons(box, [rg.lips_outer(pts)]) >= 0.99) & ~(
        fill_polygons(box, [rg.lips_inner(pts)]) > 0
    )


def test_lipstick_from_the_catalog_lands_on_the_lips(
    pipeline: TryOnPipeline, portrait: NDArray[np.uint8]
) -> None:
    pipeline.reset()
    pipeline.set_look(["velvet-matte-lipstick:ruby-red"])
    out = pipeline.process(portrait)
    assert pipeline.last_result is not None
    face = pipeline.last_result.faces[0]
    lips = _lips(face.landmarks, portrait.shape)
    shade = np.array(pipeline.look[0].variant.rgb, np.float64)
    before = np.abs(portrait[lips].astype(np.float64).mean(axis=0) - shade).sum()
    after = np.abs(out[lips].astype(np.float64).mean(axis=0) - shade).sum()
    assert after < 0.5 * before
    far = np.ones(portrait.shape[:2], bool)
    far[100:260, 90:280] = False
    assert np.array_equal(out[far], portrait[far])
    assert {"render", "total", "faces.landmarks"} <= set(pipeline.stats.timings)


def test_a_full_look_on_a_moving_sequence(catalog: Catalog, portrait: NDArray[np.uint8]) -> None:
    pipe = TryOnPipeline(
        [
            "soft-blur-matte-foundation",
            "lit-glow-blush",
            "everyday-matte-eyeshadow",
            "precision-liquid-eyeliner",
            "satin-kiss-lipstick",
        ],
        catalog=catalog,
    )
    kinds = [i.product.kind for i in pipe.look]
    assert kinds == ["foundation", "blush", "eyeshadow", "eyeliner", "lipstick"]
    for i, t in enumerate(moving(8)):
        frame = t.apply(portrait)
        out = pipe.process(frame, i / 30)
        assert out.shape == frame.shape
        assert not np.array_equal(out, frame)
    assert pipe.stats.processed == 8
    assert sum(pipe.stats.failures.values()) == 0
    assert pipe.perception.detector_runs["faces"] <= 3  # tracked, not re-detected every frame


def test_look_resolution_and_errors(pipeline: TryOnPipeline) -> None:
    pipeline.set_look(["velvet-matte-lipstick:ruby-red", "lit-glow-blush"], intensity=0.5)
    assert pipeline.look[0].spec == "velvet-matte-lipstick:ruby-red"
    assert all(i.intensity == 0.5 for i in pipeline.look)
    before = pipeline.look
    with pytest.raises(UnknownProductError, match="velvet-matte-lipstick"):
        pipeline.set_look(["velvet-mate-lipstick"])
    with pytest.raises(UnknownProductError, match="ruby-red"):
        pipeline.set_look(["velvet-matte-lipstick:no-such-shade"])
    with pytest.raises(InputError, match=r"intensity: expected a number in \[0, 1\], got 1.5"):
        pipeline.set_look(["velvet-matte-lipstick"], intensity=1.5)
    with pytest.raises(InputError, match="ID"):
        pipeline.set_look([42])  # type: ignore[list-item]
    assert pipeline.look == before, "a rejected look leaves the current one in place"


def test_every_starter_shade_converts_to_renderer_parameters(
    catalog: Catalog, pipeline: TryOnPipeline
) -> None:
    n = 0
    for product in catalog.products.values():
        if product.kind not in makeup.MAKEUP_KINDS:
            continue
        for variant in product.variants:
            params = makeup_params(pipeline.resolve(f"{product.id}:{variant.id}"))
            assert params.kind == product.kind
            assert params.color == variant.rgb
            n += 1
    assert n >= 12 * 3


def test_a_failing_stage_passes_the_frame_through(
    pipeline: TryOnPipeline, portrait: NDArray[np.uint8], monkeypatch: pytest.MonkeyPatch
) -> None:
    pipeline.set_look(["velvet-matte-lipstick"])
    pipeline.stats.failures.clear()

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("renderer bug")

    monkeypatch.setattr("tryon.render.makeup.render_look", boom)
    out = pipeline.process(portrait)
    assert np.array_equal(out, portrait)
    assert pipeline.stats.failures["render"] == 1
    monkeypatch.undo()
    assert not np.array_equal(pipeline.process(portrait), portrait)
    assert pipeline.stats.failures["render"] == 1


def test_perception_failure_is_counted(catalog: Catalog, portrait: NDArray[np.uint8]) -> None:
    class Broken(Perception):
        def process(self, frame: object, timestamp: float | None = None):  # type: ignore[override]
            raise RuntimeError("model crashed")

    pipe = TryOnPipeline(["velvet-matte-lipstick"], catalog=catalog, perception=Broken(PerceptionConfig()))
    out = pipe.process(portrait)
    assert np.array_equal(out, portrait)
    assert pipe.stats.failures["perception"] == 1
    assert pipe.stats.processed == 0


def test_bad_frames_and_empty_scenes(pipeline: TryOnPipeline) -> None:
    with pytest.raises(InputError):
        pipeline.process(np.zeros((10, 10), np.float32))
    blank = np.full((240, 320, 3), 128, np.uint8)
    assert np.array_equal(pipeline.process(blank), blank)
    with pytest.raises(InputError, match="expected at least 16x16 pixels, got 2x2"):
        pipeline.process(np.zeros((2, 2, 3), np.uint8))


def test_static_image_mode_config(catalog: Catalog, portrait: NDArray[np.uint8]) -> None:
    pipe = TryOnPipeline(
        ["velvet-matte-lipstick"], catalog=catalog, config=PipelineConfig(static_image_mode=True)
    )
    pipe.process(portrait)
    pipe.process(portrait)
    assert pipe.perception.detector_runs["faces"] == 2
