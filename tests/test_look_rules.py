"""The rules of a look, from the kind registry: slots (two products worn in one place: the later
one wins) and intensity (makeup only; garments and accessories are drawn opaque)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from numpy.typing import NDArray

from tryon.catalog import Catalog
from tryon.catalog.kinds import REGISTRY, SLOTS, catalog_slots, intensity_kinds
from tryon.look import LookItem, opaque_unless_makeup, replaced_json, resolve_look
from tryon.pipeline import PipelineConfig, TryOnPipeline, resolve_item

TEE = "everyday-crew-tee:white"
DRESS = "garden-floral-wrap-dress"
JACKET = "classic-denim-jacket"
GLASSES = "harbor-round-optical"
SUNGLASSES = "riviera-aviator-sunglasses"
LIPSTICK = "velvet-matte-lipstick:ruby-red"
GLOSS = "glass-shine-lip-gloss"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load()


def items(catalog: Catalog, *specs: str) -> list[LookItem]:
    return [resolve_item(catalog, spec) for spec in specs]


def specs(look: list[LookItem]) -> list[str]:
    return [i.spec.partition(":")[0] for i in look]


def test_every_kind_is_worn_somewhere_known() -> None:
    assert all(spec.slots and set(spec.slots) <= set(SLOTS) for spec in REGISTRY.values())
    slots = catalog_slots()
    assert slots["dress"] == ["upper", "lower"]
    assert slots["glasses"] == slots["sunglasses"] == ["eyes-wear"]
    assert slots["earrings"] == ["ear-left", "ear-right"]
    makeup = [k for k, s in REGISTRY.items() if s.makeup]
    # Each makeup kind has a slot of its own: they layer.
    assert len({slots[k][0] for k in makeup}) == len(makeup)
    assert intensity_kinds() == tuple(makeup)


def test_a_dress_replaces_a_top_and_a_top_replaces_a_dress(catalog: Catalog) -> None:
    tee, dress = items(catalog, TEE, DRESS)
    kept, replaced = resolve_look([tee, dress])
    assert kept == [dress]
    assert replaced_json(replaced) == [{"spec": TEE, "by": dress.spec}]
    kept, replaced = resolve_look([dress, tee])
    assert (kept, replaced) == ([tee], [(dress, tee)])


def test_a_jacket_layers_over_a_top_or_a_dress(catalog: Catalog) -> None:
    look = items(catalog, TEE, JACKET)
    assert resolve_look(look) == (look, [])
    look = items(catalog, JACKET, DRESS)
    assert resolve_look(look) == (look, [])
    other = resolve_item(catalog, "flight-bomber-jacket")
    kept, replaced = resolve_look([*look, other])
    assert specs(kept) == [DRESS, "flight-bomber-jacket"]
    assert replaced == [(look[0], other)]


def test_glasses_and_sunglasses_share_the_eyewear(catalog: Catalog) -> None:
    glasses, sunglasses = items(catalog, GLASSES, SUNGLASSES)
    assert resolve_look([glasses, sunglasses]) == ([sunglasses], [(glasses, sunglasses)])
    assert resolve_look([sunglasses, glasses]) == ([glasses], [(sunglasses, glasses)])


def test_lipstick_and_gloss_layer_two_lipsticks_do_not(catalog: Catalog) -> None:
    look = items(catalog, LIPSTICK, GLOSS, "lit-glow-blush", "orbit-ball-studs", "amour-heart-pendant")
    assert resolve_look(look) == (look, [])
    other = resolve_item(catalog, "satin-kiss-lipstick")
    kept, replaced = resolve_look([*look, other])
    assert specs(kept) == [*specs(look)[1:], "satin-kiss-lipstick"]
    assert replaced == [(look[0], other)]


def test_one_new_item_can_replace_several(catalog: Catalog) -> None:
    tee, jacket, sunglasses, dress = items(catalog, TEE, JACKET, SUNGLASSES, DRESS)
    kept, replaced = resolve_look([tee, jacket, sunglasses, dress])
    assert kept == [jacket, sunglasses, dress]
    assert replaced == [(tee, dress)]


def test_only_makeup_takes_an_intensity(catalog: Catalog) -> None:
    assert resolve_item(catalog, LIPSTICK, 0.3).intensity == 0.3
    assert resolve_item(catalog, TEE, 0.3).intensity == 1.0
    assert resolve_item(catalog, SUNGLASSES, 0.0).intensity == 1.0
    assert resolve_item(catalog, "lacquer-lab-cream-polish", 0.5).intensity == 1.0
    lipstick = resolve_item(catalog, LIPSTICK)
    faded = LookItem(lipstick.product, lipstick.variant, 0.4)
    assert opaque_unless_makeup(faded) is faded


@pytest.fixture(scope="module")
def draw(catalog: Catalog, astronaut: NDArray[np.uint8]) -> Callable[[str, float], NDArray[np.uint8]]:
    """The astronaut wearing one product at an overall intensity, through the real pipeline."""
    config = PipelineConfig(static_image_mode=True, face_detector="full")
    pipeline = TryOnPipeline(catalog=catalog, config=config)

    def draw(spec: str, intensity: float) -> NDArray[np.uint8]:
        pipeline.reset()
        pipeline.set_look([spec], intensity=intensity)
        return pipeline.process(astronaut)

    return draw


@pytest.mark.slow
@pytest.mark.parametrize("spec", [TEE, SUNGLASSES])
def test_intensity_does_not_fade_a_garment_or_an_accessory(
    draw: Callable[[str, float], NDArray[np.uint8]], astronaut: NDArray[np.uint8], spec: str
) -> None:
    full, faint = draw(spec, 1.0), draw(spec, 0.3)
    changed = np.abs(full.astype(np.int16) - astronaut).max(axis=2) > 30
    assert changed.mean() > 0.005, f"{spec} was not drawn on the astronaut"
    assert np.array_equal(faint, full), f"{spec} at intensity 0.3 must be drawn as at 1.0"


@pytest.mark.slow
def test_intensity_fades_the_lipstick(
    draw: Callable[[str, float], NDArray[np.uint8]], astronaut: NDArray[np.uint8]
) -> None:
    full, faint = draw(LIPSTICK, 1.0), draw(LIPSTICK, 0.3)
    lips = np.abs(full.astype(np.int16) - astronaut).sum(axis=2) > 0
    assert lips.sum() > 100
    change_full = np.abs(full[lips].astype(np.float32) - astronaut[lips]).mean()
    change_faint = np.abs(faint[lips].astype(np.float32) - astronaut[lips]).mean()
    assert 0.1 * change_full < change_faint < 0.6 * change_full, (change_full, change_faint)
