"""The kind registry is the one place that says what a kind is: every kind the catalog accepts
has a renderer, a layer, its perception stages and its names in every language the page speaks,
and the catalog's rules, the pipeline's drawing order and the page's groups all follow from it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from live_helpers import shared_catalog

from tryon.catalog import REGISTRY
from tryon.catalog.kinds import FAMILIES, GROUPS, LOCALES, KindSpec, catalog_groups
from tryon.catalog.schema import KINDS, MAKEUP_KINDS, PARAMS, REQUIRED_ANCHORS, SIZE_CHART_KINDS
from tryon.perception import STAGES
from tryon.pipeline import RENDERED_KINDS, build_layers, resolve_item
from tryon.render import registry
from tryon.render.makeup import MAKEUP_KINDS as MAKEUP_ORDER
from tryon.render.registry import LayerRequest, Renderer, load_renderers, renders

STATIC = Path(__file__).resolve().parents[1] / "webrtc" / "static"


def test_every_kind_has_a_renderer_a_layer_and_its_stages() -> None:
    renderers = load_renderers()
    assert set(KINDS) == set(REGISTRY)
    assert set(renderers) == set(REGISTRY), "kinds without a renderer, or renderers of unknown kinds"
    assert RENDERED_KINDS == KINDS
    for kind, spec in REGISTRY.items():
        assert isinstance(spec.layer, int)
        assert set(spec.stages) <= set(STAGES) - {"faces"}, kind
        assert renderers[kind].grouped == spec.makeup, kind
        assert renderers[kind].per_person == spec.per_person, kind
        assert renderers[kind].module == spec.renderer, f"{kind} is drawn in {renderers[kind].module}"
    # Makeup goes on in its layer order; everything else is drawn over it.
    assert MAKEUP_ORDER == ("foundation", "blush", "brow", "eyeshadow", "eyeliner", "lipstick", "lip_gloss")
    makeup_top = max(REGISTRY[k].layer for k in MAKEUP_KINDS)
    assert all(s.layer > makeup_top for s in REGISTRY.values() if not s.makeup)


def test_the_catalog_rules_are_views_of_the_registry() -> None:
    assert REQUIRED_ANCHORS["hat"] == REGISTRY["hat"].anchors
    assert (
        set(SIZE_CHART_KINDS)
        == {k for k, s in REGISTRY.items() if s.size_chart}
        == {"top", "dress", "jacket"}
    )
    assert PARAMS["eyeliner"]["thickness"].high == 3.0
    assert set(MAKEUP_KINDS) == {k for k, s in REGISTRY.items() if s.family == "makeup"}


def page_languages() -> set[str]:
    text = (STATIC / "i18n.js").read_text()
    match = re.search(r"export const LOCALES = \{([^}]*)\}", text)
    assert match is not None
    return set(re.findall(r"(\w+):", match.group(1)))


def test_every_locale_names_every_family_group_and_kind() -> None:
    assert set(LOCALES) == page_languages()
    for named in (*FAMILIES, *GROUPS):
        for lang in LOCALES:
            assert named.names.get(lang, "").strip(), (named.id, lang)
    for kind, spec in REGISTRY.items():
        for lang in LOCALES:
            assert spec.names.get(lang, "").strip(), (kind, lang)
    # The page keeps no list of its own: kinds and groups are named from the catalog API.
    text = (STATIC / "i18n.js").read_text() + (STATIC / "rail.js").read_text()
    assert not re.search(r'"kind\.\w+"', text)
    assert not re.search(r'"group\.(lips|eyes|face|nails|accessories|clothes)"', text)
    assert "GROUPS = [" not in text


def test_the_page_groups_cover_every_kind_once() -> None:
    groups = catalog_groups()
    kinds = [k for g in groups for k in g["kinds"]]  # type: ignore[attr-defined]
    assert sorted(kinds) == sorted(REGISTRY)
    assert [g["id"] for g in groups] == [
        g.id for g in GROUPS if any(s.group == g.id for s in REGISTRY.values())
    ]


def test_a_bad_registry_row_or_registration_is_refused() -> None:
    with pytest.raises(ValueError, match="family 'shoes'"):
        KindSpec("clog", "shoes", "accessories", {"en": "x", "fr": "x", "zh": "x"}, 30, "m")
    with pytest.raises(ValueError, match="names for"):
        KindSpec("clog", "garment", "clothes", {"en": "Clog"}, 30, "m")
    with pytest.raises(ValueError, match="stages"):
        KindSpec("clog", "garment", "clothes", {"en": "x", "fr": "x", "zh": "x"}, 30, "m", stages=("feet",))
    with pytest.raises(ValueError, match="not in the kind registry"):
        renders("clog")(lambda request: lambda out, r: out)
    with pytest.raises(ValueError, match="already has a renderer"):
        renders("hat")(lambda request: lambda out, r: out)


def test_layers_are_drawn_in_registry_order(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever order the look lists them in, layers come back to front by the registry's layer;
    makeup is one layer for all its items; garments one per kind, with the people's own."""
    catalog = shared_catalog()
    built: list[tuple[str, tuple[str, ...], tuple[int, ...]]] = []
    fakes: dict[str, Renderer] = {}
    made: dict[int, Renderer] = {}  # one fake per real renderer, shared by its kinds as the real one is
    for kind, real in load_renderers().items():
        if id(real) not in made:

            def build(request: LayerRequest) -> Any:
                kind = (request.items or tuple(request.people.values()))[0].product.kind
                built.append((kind, tuple(i.spec for i in request.items), tuple(request.people)))
                return kind

            made[id(real)] = Renderer(real.kinds, build, real.grouped, real.per_person, real.module)
        fakes[kind] = made[id(real)]
    monkeypatch.setattr(registry, "_RENDERERS", fakes)
    first = {k: next(p for p in catalog.products.values() if p.kind == k).id for k in REGISTRY}
    look = [
        resolve_item(catalog, first[k]) for k in ("hat", "lipstick", "top", "glasses", "foundation", "nails")
    ]
    people = {(7, "dress"): resolve_item(catalog, first["dress"])}
    layers = build_layers(look, people)
    # (a fake layer is the kind of its request's first item: the lipstick's for both makeup items)
    assert layers == ["lipstick", "dress", "top", "glasses", "hat", "nails"]  # type: ignore[comparison-overlap]
    makeup = next(b for b in built if b[0] == "lipstick")
    assert len(makeup[1]) == 2, "one makeup layer for both makeup items"
    dress = next(b for b in built if b[0] == "dress")
    assert dress[1:] == ((), (7,)), "the dress is only person 7's"
