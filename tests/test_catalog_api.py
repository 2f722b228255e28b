"""The catalog as the pages get it (docs/catalog-api.md): localised product text (``i18n``,
validated at load; ``?lang=`` / ``Accept-Language`` with fallback), one currency per shop
(``catalog.json``: refused or converted), every variant's swatch and buy link, the kinds' slots."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from test_catalog import glasses, lipstick, mutated, write

from tryon.catalog import Catalog, CatalogError, ProductValidationError, load_product
from tryon.catalog.kinds import LOCALES, REGISTRY
from tryon.catalog.swatch import product_swatches
from webrtc import ServerConfig, create_app
from webrtc.catalog_api import pick_language
from webrtc.probe import PassThroughPipeline

FR = {
    "fr": {
        "name": "Rouge d'essai",
        "description": "Un rouge pour les tests.",
        "variants": {"red": "Rouge", "nude": "Nude"},
    },
    "zh": {"description": "测试口红。", "variants": {"soft-pink": "柔粉色"}},
}


@pytest.fixture(scope="module")
def shipped() -> Catalog:
    return Catalog.load()


# -- localised text -------------------------------------------------------------------------------


def test_product_text_in_each_language_falls_back_to_english(tmp_path: Path) -> None:
    data = {**lipstick(), "names": {"zh": "测试口红"}, "i18n": FR}
    product = load_product(write(tmp_path / "products", data))
    fr, zh, en = product.text("fr"), product.text("zh"), product.text("en")
    assert (fr.name, fr.description) == ("Rouge d'essai", "Un rouge pour les tests.")
    assert dict(fr.variants) == {"red": "Rouge", "soft-pink": "Soft Pink", "nude": "Nude"}
    assert (zh.name, zh.description, zh.variants["soft-pink"]) == ("测试口红", "测试口红。", "柔粉色")
    assert (en.name, en.variants["red"]) == ("Test Lipstick", "Red")
    assert load_product(write(tmp_path / "again", product.to_json())).i18n == product.i18n


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (lambda d: d.update(i18n={"de": {"name": "Lippenstift"}}), "i18n.de", "unknown language"),
        (lambda d: d.update(i18n={"en": {"name": "Lipstick"}}), "i18n.en", "English is the product's"),
        (lambda d: d.update(i18n={"fr": {"variants": {"blue": "Bleu"}}}), "i18n.fr.variants.blue", "red"),
        (lambda d: d.update(i18n={"fr": {"name": "  "}}), "i18n.fr.name", "non-empty"),
        (lambda d: d.update(i18n={"zh": {"description": ""}}), "i18n.zh.description", "non-empty"),
        (lambda d: d.update(i18n={"fr": {"variants": {"red": ""}}}), "i18n.fr.variants.red", "non-empty"),
        (lambda d: d.update(i18n={"fr": {"title": "Rouge"}}), "i18n.fr.title", "unknown field"),
        (lambda d: d.update(i18n={"fr": "Rouge"}), "i18n.fr", "an object"),
    ],
)
def test_bad_localised_text_is_rejected_with_its_path_and_field(
    tmp_path: Path, change: Any, field: str, message: str
) -> None:
    path = write(tmp_path / "products", mutated(lipstick(), change))
    with pytest.raises(ProductValidationError) as info:
        load_product(path)
    assert (info.value.path, info.value.field) == (str(path), field)
    assert message in info.value.message


def test_the_starter_catalog_speaks_every_language(shipped: Catalog) -> None:
    assert len(shipped) == 52
    for product in shipped:
        for lang in LOCALES[1:]:
            text = product.i18n[lang]
            assert text.description, (product.id, lang)
            assert set(text.variants) == {v.id for v in product.variants}, (product.id, lang)
            assert product.text(lang).name == product.names[lang]
        assert product.text("zh").description != product.description


@pytest.mark.parametrize(
    ("query", "accept", "lang"),
    [
        ("fr", "zh", "fr"),
        ("zh-CN", None, "zh"),
        (None, "zh-Hans-CN,zh;q=0.9,en;q=0.8", "zh"),
        (None, "de-DE,fr;q=0.7,en;q=0.9", "en"),
        (None, "de-DE,fr-CA;q=0.7", "fr"),
        ("de", "fr;q=0, zh;q=0.2", "zh"),
        (None, "*", "en"),
        (None, None, "en"),
        ("", "garbage;q=x", "en"),
    ],
)
def test_the_language_asked(query: str | None, accept: str | None, lang: str) -> None:
    assert pick_language(query, accept) == lang


# -- one currency ---------------------------------------------------------------------------------


def test_a_catalog_has_one_currency(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    products = tmp_path / "products"
    write(products, lipstick("in-euros"))
    dollars = write(products, {**glasses("in-dollars"), "currency": "USD", "price": 100})
    catalog = Catalog.load(tmp_path)  # no catalog.json: EUR
    assert list(catalog.products) == ["in-euros"]
    [error] = catalog.errors
    assert (error.path, error.field) == (str(dollars), "currency")
    assert "expected the shop's currency EUR, got 'USD'" in error.message

    (tmp_path / "catalog.json").write_text(json.dumps({"currency": "EUR", "rates": {"USD": 0.92}}))
    catalog = Catalog.load(tmp_path)
    assert catalog.errors == []
    converted = catalog.get("in-dollars")
    assert (converted.price, converted.currency) == (92.0, "EUR")
    assert (converted.price_original, converted.currency_original) == (100, "USD")
    assert converted.to_json()["currency_original"] == "USD"
    assert catalog.settings.currency == "EUR"

    (tmp_path / "catalog.json").write_text(json.dumps({"currency": "USD"}))
    catalog = Catalog.load(tmp_path)
    assert list(catalog.products) == ["in-dollars"]


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ("{", "<json>"),
        ('{"currency": "euro"}', "currency"),
        ('{"currency": "EUR", "rates": {"USD": -1}}', "rates.USD"),
        ('{"currency": "EUR", "rates": {"EUR": 1}}', "rates.EUR"),
        ('{"currency": "EUR", "shop": "x"}', "shop"),
    ],
)
def test_a_bad_catalog_json_stops_the_load(tmp_path: Path, settings: str, field: str) -> None:
    write(tmp_path / "products", lipstick())
    (tmp_path / "catalog.json").write_text(settings)
    with pytest.raises(CatalogError, match=f"catalog.json: {field}: "):
        Catalog.load(tmp_path)


def test_the_starter_catalog_is_in_euros(shipped: Catalog) -> None:
    assert shipped.settings.currency == "EUR"
    assert {p.currency for p in shipped} == {"EUR"}


# -- swatches and links ---------------------------------------------------------------------------


def test_each_shade_has_its_own_link_and_sku(tmp_path: Path) -> None:
    data = lipstick()
    data["variants"][0].update(buy_url="https://shop.example.com/red-one", sku="TL-RED")
    product = load_product(write(tmp_path / "products", data))
    red, pink = product.variants[:2]
    assert (product.buy_url_of(red), red.sku) == ("https://shop.example.com/red-one", "TL-RED")
    assert product.buy_url_of(pink) == "https://shop.example.com/test-lipstick?variant=soft-pink"
    assert pink.sku is None
    with_query = load_product(write(tmp_path / "q", {**lipstick(), "buy_url": "https://s.example/p?ref=tv"}))
    assert with_query.buy_url_of(with_query.variants[2]) == "https://s.example/p?ref=tv&variant=nude"
    bad = write(tmp_path / "bad", mutated(lipstick(), lambda d: d["variants"][1].update(buy_url="ftp://x")))
    with pytest.raises(ProductValidationError) as info:
        load_product(bad)
    assert info.value.field == "variants[1].buy_url"


def test_every_starter_variant_has_a_swatch_of_its_own(shipped: Catalog) -> None:
    for product in shipped:
        swatches = product_swatches(product)
        assert list(swatches) == [v.id for v in product.variants]
        assert len(set(swatches.values())) == len(swatches), (product.id, swatches)
        for v in product.variants:
            if v.color is not None and product.kind != "sunglasses":
                assert swatches[v.id] == v.color
    # Sunglasses are picked by their tint; a garment by its own image's colour.
    aviators = product_swatches(shipped.get("riviera-aviator-sunglasses"))
    assert aviators == {"gold-green": "#3E4A3D", "silver-grey": "#3A3D42", "gold-brown": "#5A3B24"}
    tee = product_swatches(shipped.get("everyday-crew-tee"))
    white, grey, navy = (sum(int(tee[v][i : i + 2], 16) for i in (1, 3, 5)) for v in tee)
    assert white > grey > navy
    breton = product_swatches(shipped.get("mariner-breton-top"))
    assert int(breton["red"][1:3], 16) > 150 > int(breton["navy"][1:3], 16), breton


# -- GET /api/catalog -----------------------------------------------------------------------------


async def _catalog(shipped: Catalog, *queries: tuple[str, dict[str, str]]) -> list[tuple[Any, Any]]:
    app = create_app(ServerConfig(), catalog=shipped, pipeline_factory=PassThroughPipeline)
    out = []
    async with TestClient(TestServer(app)) as client:
        for query, headers in queries:
            r = await client.get(f"/api/catalog{query}", headers=headers)
            assert r.status == 200
            out.append((r.headers, await r.json()))
    return out


@pytest.mark.asyncio
async def test_the_catalog_api_answers_in_the_language_asked(shipped: Catalog) -> None:
    (h_fr, fr), (h_zh, zh), (_, en), (_, fallback) = await _catalog(
        shipped,
        ("?lang=fr", {}),
        ("", {"Accept-Language": "zh-CN,zh;q=0.9"}),
        ("", {}),
        ("?lang=de", {"Accept-Language": "de"}),
    )
    assert "Accept-Language" in h_fr["Vary"]
    assert "Accept-Language" in h_zh["Vary"]
    assert [d["lang"] for d in (fr, zh, en, fallback)] == ["fr", "zh", "en", "en"]
    assert fallback == en

    def product(doc: dict[str, Any], pid: str) -> dict[str, Any]:
        return next(p for p in doc["products"] if p["id"] == pid)

    lip = "velvet-matte-lipstick"
    assert product(fr, lip)["name"] == "Rouge à lèvres Velvet Matte"
    assert product(zh, lip)["name"] == "丝绒哑光口红"
    assert product(en, lip)["name"] == "Velvet Matte Lipstick"
    assert product(zh, lip)["variants"][0]["name"] == "宝石红"
    assert product(fr, lip)["description"].startswith("Un raisin mat")
    assert "i18n" not in product(fr, lip)
    # The same products in the same order whatever the language.
    assert [p["id"] for p in fr["products"]] == [p["id"] for p in en["products"]]

    assert en["currency"] == "EUR"
    assert {p["currency"] for p in en["products"]} == {"EUR"}
    assert en["slots"]["dress"] == ["upper", "lower"]
    assert en["slots"] == {k: list(s.slots) for k, s in REGISTRY.items()}
    assert en["intensity_kinds"] == [
        "lipstick",
        "lip_gloss",
        "blush",
        "eyeshadow",
        "eyeliner",
        "brow",
        "foundation",
    ]
    for p in en["products"]:
        for v in p["variants"]:
            assert v["swatch"].startswith(("#", f"/api/products/{p['id']}/assets/")), (p["id"], v)
            assert v["buy_url"] == f"{p['buy_url']}?variant={v['id']}"
