"""The product catalog: the shipped starter catalog, validation errors, lookups and ``tryon catalog``."""

from __future__ import annotations

import copy
import json
import logging
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tryon.catalog import (
    ASSETS_ENV,
    FINISHES,
    KINDS,
    MAKEUP_KINDS,
    Catalog,
    CatalogError,
    ProductValidationError,
    UnknownProductError,
    Variant,
    default_root,
    format_color,
    is_makeup,
    load_product,
    parse_color,
)
from tryon.cli.main import main

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "assets"
PNG = bytes.fromhex(  # a 1x1 transparent PNG; the catalog checks only that the file exists
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
)


@pytest.fixture(autouse=True)
def _no_assets_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ASSETS_ENV, raising=False)


def lipstick(pid: str = "test-lipstick") -> dict[str, Any]:
    return {
        "id": pid,
        "name": "Test Lipstick",
        "brand": "Testing House",
        "kind": "lipstick",
        "price": 20,
        "currency": "EUR",
        "buy_url": "https://shop.example.com/test-lipstick",
        "description": "A lipstick for tests.",
        "tags": ["test"],
        "variants": [
            {"id": "red", "name": "Red", "color": "#C00000", "finish": "matte", "opacity": 0.9},
            {"id": "soft-pink", "name": "Soft Pink", "color": "#e8a0b0", "finish": "satin"},
            {"id": "nude", "name": "Nude", "color": "#B07A60", "finish": "cream"},
        ],
    }


def glasses(pid: str = "test-glasses") -> dict[str, Any]:
    return {
        "id": pid,
        "name": "Test Frames",
        "brand": "Testing House",
        "kind": "glasses",
        "price": 99.5,
        "currency": "EUR",
        "buy_url": "http://shop.example.com/frames",
        "description": "",
        "variants": [{"id": "black", "name": "Black", "color": "#111111"}, {"id": "clear", "name": "Clear"}],
        "assets": {
            "front": {
                "file": "front.png",
                "anchors": {"left_lens": [300, 80], "right_lens": [100, 80], "bridge": [200.5, 70]},
                "size_mm": {"width": 140.0},
            }
        },
    }


def write(products: Path, data: dict[str, Any] | str, folder: str | None = None) -> Path:
    """Writes ``products/<folder>/product.json`` (folder defaults to the id) with a front.png beside it."""
    name = folder or (data["id"] if isinstance(data, dict) else "broken")
    path = products / name / "product.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    (path.parent / "front.png").write_bytes(PNG)
    return path


def mutated(base: dict[str, Any], change: Any) -> dict[str, Any]:
    data = copy.deepcopy(base)
    change(data)
    return data


# -- the shipped catalog ------------------------------------------------------------------------


def test_shipped_catalog_loads_without_errors() -> None:
    catalog = Catalog.load()
    assert catalog.errors == []
    assert default_root() == SHIPPED
    folders = sorted(p.parent.name for p in (SHIPPED / "products").glob("*/product.json"))
    assert list(catalog.products) == folders  # ids unique, one per folder, sorted
    makeup = [p for p in catalog if is_makeup(p.kind)]
    assert len(makeup) >= 12
    assert {p.kind for p in makeup} == set(MAKEUP_KINDS)
    for product in makeup:
        assert 3 <= len(product.variants) <= 6, product.id
        assert product.buy_url.startswith("https://")
        assert ".example.com/" in product.buy_url
        for v in product.variants:
            assert v.color is not None
            assert v.rgb == parse_color(v.color)
            assert v.finish in FINISHES[product.kind]
            assert format_color(v.rgb) == v.color


def test_shipped_catalog_covers_the_starter_ranges() -> None:
    catalog = Catalog.load(SHIPPED)
    assert len(catalog.by_kind("lipstick")) >= 4
    lipstick_finishes = {v.finish for p in catalog.by_kind("lipstick") for v in p.variants}
    assert {"matte", "satin", "cream", "metallic"} <= lipstick_finishes
    assert any(p.params["wing"] is True for p in catalog.by_kind("eyeliner"))
    foundations = catalog.by_kind("foundation")
    assert any(len(p.variants) == 6 for p in foundations)
    for product in foundations:
        luma = [
            0.2126 * r + 0.7152 * g + 0.0722 * b for r, g, b in (v.rgb or (0, 0, 0) for v in product.variants)
        ]
        assert max(luma) > 200, product.id  # light …
        assert min(luma) < 90, product.id  # … to deep skin tones
    assert catalog.get("velvet-matte-lipstick").variant("ruby-red").color == "#9B111E"


def test_default_root_follows_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "products", lipstick())
    monkeypatch.setenv(ASSETS_ENV, str(tmp_path))
    assert default_root() == tmp_path
    assert list(Catalog.load().products) == ["test-lipstick"]


def test_round_trip_through_to_json(tmp_path: Path) -> None:
    for product in Catalog.load(SHIPPED):
        path = write(tmp_path / "products", product.to_json())
        for asset in product.assets.values():  # images travel with their product.json
            shutil.copy(asset.path, path.parent / asset.file)
        again = load_product(path)
        assert again.to_json() == product.to_json()
        assert again.variants == product.variants
        assert again.params == product.params


# -- products that load -------------------------------------------------------------------------


def test_good_products_and_defaults(tmp_path: Path) -> None:
    products = tmp_path / "products"
    lip = load_product(write(products, lipstick()).parent)  # a folder works as well as the file
    assert lip.kind == "lipstick"
    assert lip.is_makeup
    assert lip.price == 20.0
    assert lip.tags == ("test",)
    assert dict(lip.params) == {"intensity": 1.0}
    assert dict(lip.assets) == {}
    pink = lip.variant("soft-pink")
    assert pink.color == "#E8A0B0"
    assert pink.rgb == (232, 160, 176)
    assert pink.opacity is None
    assert lip.folder == products / "test-lipstick"
    with pytest.raises(TypeError):
        lip.params["intensity"] = 0.5  # type: ignore[index]

    frames = load_product(write(products, glasses()))
    assert not frames.is_makeup
    front = frames.assets["front"]
    assert front.anchors["bridge"] == (200.5, 70.0)
    assert front.size_mm["width"] == 140.0
    assert front.path == products / "test-glasses" / "front.png"
    assert front.path.is_file()
    clear = frames.variant("clear")
    assert clear.color is None
    assert clear.rgb is None
    assert clear.finish is None

    liner = mutated(lipstick("liner"), lambda d: d.update(kind="eyeliner", params={"wing": True}))
    for v in liner["variants"]:
        v["finish"] = "gloss"
    assert dict(load_product(write(products, liner)).params) == {
        "intensity": 1.0,
        "wing": True,
        "thickness": 1.0,
    }


BAD_CASES: list[tuple[str, Any, str, str]] = [
    ("missing-name", lambda d: d.pop("name"), "name", "missing"),
    ("unknown-key", lambda d: d.update(colour="#FF0000"), "colour", "unknown field"),
    ("typo-key", lambda d: d.update(nmae="x"), "nmae", "did you mean 'name'"),
    (
        "bad-colour",
        lambda d: d["variants"][2].update(color="red"),
        "variants[2].color",
        "expected \"#RRGGBB\", got 'red'",
    ),
    ("short-colour", lambda d: d["variants"][0].update(color="#FFF"), "variants[0].color", '"#RRGGBB"'),
    ("finish", lambda d: d.update(kind="lip_gloss"), "variants[0].finish", "for lip_gloss, got 'matte'"),
    ("no-finish", lambda d: d["variants"][1].pop("finish"), "variants[1].finish", "missing"),
    ("no-colour", lambda d: d["variants"][0].pop("color"), "variants[0].color", "missing"),
    ("opacity", lambda d: d["variants"][0].update(opacity=1.5), "variants[0].opacity", "[0, 1], got 1.5"),
    ("kind", lambda d: d.update(kind="lipstik"), "kind", "did you mean 'lipstick'"),
    ("price", lambda d: d.update(price=-1), "price", ">= 0, got -1"),
    ("price-type", lambda d: d.update(price="24"), "price", "expected a number, got '24'"),
    ("price-bool", lambda d: d.update(price=True), "price", "got true"),
    ("currency", lambda d: d.update(currency="eur"), "currency", "3 upper-case letters"),
    ("url", lambda d: d.update(buy_url="ftp://example.com/x"), "buy_url", "http(s) URL"),
    ("tags", lambda d: d.update(tags="a,b"), "tags", "a list of strings"),
    ("no-variants", lambda d: d.update(variants=[]), "variants", "1 to 12 variants, got 0"),
    ("many-variants", lambda d: d.update(variants=d["variants"] * 5), "variants", "got 15"),
    ("dup-shade", lambda d: d["variants"][1].update(id="red"), "variants[1].id", "unique"),
    ("dup-name", lambda d: d["variants"][1].update(name="RED"), "variants[1].name", "unique"),
    (
        "shade-key",
        lambda d: d["variants"][0].update(colr="#000000"),
        "variants[0].colr",
        "did you mean 'color'",
    ),
    ("param", lambda d: d.update(params={"sparkle": 1}), "params.sparkle", "unknown parameter"),
    ("intensity", lambda d: d.update(params={"intensity": 2}), "params.intensity", "[0, 1], got 2"),
    ("wing-on-lipstick", lambda d: d.update(params={"wing": True}), "params.wing", "unknown parameter"),
    ("shade-slug", lambda d: d["variants"][0].update(id="Ruby Red"), "variants[0].id", "slug"),
    (
        "lens-on-lipstick",
        lambda d: d["variants"][0].update(lens_color="#334455"),
        "variants[0].lens_color",
        "only on glasses and sunglasses variants, got it on lipstick",
    ),
]


@pytest.mark.parametrize(("case", "change", "field", "message"), BAD_CASES, ids=[c[0] for c in BAD_CASES])
def test_bad_makeup_products(tmp_path: Path, case: str, change: Any, field: str, message: str) -> None:
    path = write(tmp_path / "products", mutated(lipstick(case), change))
    with pytest.raises(ProductValidationError) as info:
        load_product(path)
    err = info.value
    assert (err.path, err.field) == (str(path), field)
    assert message in err.message
    assert str(err) == f"{path}: {field}: {err.message}"


def _thickness(d: dict[str, Any]) -> None:
    d.update(kind="eyeliner", params={"thickness": 5})
    for v in d["variants"]:
        v["finish"] = "matte"


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (_thickness, "params.thickness", "[0.3, 3], got 5"),
        (lambda d: d.update(kind="glasses"), "assets", "at least one asset for glasses"),
    ],
)
def test_kind_specific_rules(tmp_path: Path, change: Any, field: str, message: str) -> None:
    path = write(tmp_path / "products", mutated(lipstick("x"), change))
    with pytest.raises(ProductValidationError) as info:
        load_product(path)
    assert (info.value.field, message in info.value.message) == (field, True)


def _front(**kw: Any) -> Any:
    return lambda d: d["assets"]["front"].update(**kw)


ASSET_CASES: list[tuple[str, Any, str, str]] = [
    ("missing-file", _front(file="side.png"), "assets.front.file", "expected an existing file"),
    ("traversal", _front(file="../other/front.png"), "assets.front.file", "no '..'"),
    ("absolute", _front(file="/etc/front.png"), "assets.front.file", "relative path"),
    ("not-png", _front(file="front.jpg"), "assets.front.file", ".png"),
    (
        "no-bridge",
        lambda d: d["assets"]["front"]["anchors"].pop("bridge"),
        "assets.front.anchors.bridge",
        "required anchor",
    ),
    ("anchor", _front(anchors={"bridge": [-1, 2]}), "assets.front.anchors.bridge[0]", ">= 0, got -1"),
    ("anchor-shape", _front(anchors={"bridge": [1]}), "assets.front.anchors.bridge", "[x, y]"),
    ("size", _front(size_mm={"width": 0}), "assets.front.size_mm.width", "> 0"),
    ("no-width", _front(size_mm={}), "assets.front.size_mm.width", "required for glasses"),
    (
        "left-right",
        _front(anchors={"left_lens": [100, 80], "right_lens": [300, 80], "bridge": [200.5, 70]}),
        "assets.front.anchors.left_lens",
        "expected the wearer's left, to the right of right_lens in the image (x > 300), got x = 100",
    ),
    ("asset-key", _front(scale=2), "assets.front.scale", "unknown field"),
    ("no-anchors", lambda d: d["assets"]["front"].pop("anchors"), "assets.front.anchors", "missing"),
    ("finish", lambda d: d["variants"][0].update(finish="velvet"), "variants[0].finish", "got 'velvet'"),
]


@pytest.mark.parametrize(("case", "change", "field", "message"), ASSET_CASES, ids=[c[0] for c in ASSET_CASES])
def test_bad_assets(tmp_path: Path, case: str, change: Any, field: str, message: str) -> None:
    (tmp_path / "products" / "other").mkdir(parents=True)
    (tmp_path / "products" / "other" / "front.png").write_bytes(PNG)  # what the traversal points at
    path = write(tmp_path / "products", mutated(glasses(case), change))
    with pytest.raises(ProductValidationError) as info:
        load_product(path)
    assert (info.value.path, info.value.field) == (str(path), field)
    assert message in info.value.message


def test_required_anchors_may_be_in_the_first_asset(tmp_path: Path) -> None:
    data = glasses()
    data["assets"] = {"main": data["assets"].pop("front"), "side": {"file": "front.png", "anchors": {}}}
    assert load_product(write(tmp_path / "products", data)).assets["main"].anchors["bridge"] == (200.5, 70.0)
    data["assets"]["front"] = data["assets"].pop("side")  # now "front" rules, and it has no anchors
    with pytest.raises(ProductValidationError) as info:
        load_product(write(tmp_path / "products", data))
    assert info.value.field == "assets.front.anchors.left_lens"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"id": "broken",\n "name": }', "invalid JSON at line 2, column"),
        ("[1, 2]", "expected a JSON object at the top level, got a list of 2 items"),
        ('{"id": "broken", "id": "broken"}', "'id' twice"),
    ],
)
def test_invalid_json(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path / "products", text)
    with pytest.raises(ProductValidationError) as info:
        load_product(path)
    assert (info.value.path, info.value.field) == (str(path), "<json>")
    assert message in info.value.message


def test_id_must_match_the_folder(tmp_path: Path) -> None:
    path = write(tmp_path / "products", lipstick("real-id"), folder="other-name")
    with pytest.raises(ProductValidationError) as info:
        load_product(path)
    assert (info.value.field, info.value.message) == (
        "id",
        "expected the product folder's name 'other-name', got 'real-id'",
    )


# -- the catalog --------------------------------------------------------------------------------


def test_bad_product_among_good_ones(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    products = tmp_path / "products"
    write(products, lipstick("alpha"))
    bad = write(products, mutated(lipstick("beta"), lambda d: d["variants"][0].update(color="red")))
    write(products, glasses("gamma"))
    (products / "empty").mkdir()
    (products / "notes.txt").write_text("not a product")
    with caplog.at_level(logging.WARNING, logger="tryon.catalog"):
        catalog = Catalog.load(tmp_path)
    assert list(catalog.products) == ["alpha", "gamma"]
    assert [(e.path, e.field) for e in catalog.errors] == [
        (str(bad), "variants[0].color"),
        (str(products / "empty" / "product.json"), "<file>"),
    ]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2
    assert str(bad) in warnings[0].getMessage()


def test_duplicate_ids_reject_the_second_file(tmp_path: Path) -> None:
    first = write(tmp_path / "a" / "products", lipstick())
    second = write(tmp_path / "b" / "products", lipstick())
    catalog = Catalog.from_files([first, second])
    assert list(catalog.products) == ["test-lipstick"]
    assert catalog.products["test-lipstick"].folder == first.parent
    assert [(e.path, e.field) for e in catalog.errors] == [(str(second), "id")]
    assert str(first) in catalog.errors[0].message


def test_missing_root_is_a_catalog_error(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="no products/ folder"):
        Catalog.load(tmp_path)


def test_get_by_kind_and_resolve() -> None:
    catalog = Catalog.load(SHIPPED)
    assert [p.kind for p in catalog.by_kind("blush")] == ["blush", "blush"]
    assert len(catalog.by_kind("glasses")) == 4
    assert len(catalog.by_kind("hat")) == 3
    assert len(catalog.by_kind("top")) >= 6
    assert [p.kind for p in catalog.by_kind("dress")] == ["dress"]
    with pytest.raises(CatalogError, match="unknown product kind"):
        catalog.by_kind("lipstik")

    product, variant = catalog.resolve("velvet-matte-lipstick")
    assert (product.id, variant.id) == ("velvet-matte-lipstick", product.variants[0].id)
    assert catalog.resolve("velvet-matte-lipstick:berry-crush")[1].name == "Berry Crush"
    assert catalog.resolve("velvet-matte-lipstick:berry crush")[1].id == "berry-crush"
    assert catalog.resolve("velvet-matte-lipstick:Plum Noir")[1].id == "plum-noir"

    with pytest.raises(UnknownProductError) as info:
        catalog.resolve("velvet-mate-lipstick:ruby-red")
    assert "did you mean 'velvet-matte-lipstick'" in str(info.value)
    with pytest.raises(UnknownProductError) as info:
        catalog.resolve("velvet-matte-lipstick:emerald")
    assert "'emerald'" in str(info.value)
    assert "available shades: ruby-red, brick-rose" in str(info.value)
    with pytest.raises(UnknownProductError, match="expected a shade"):
        catalog.resolve("velvet-matte-lipstick:")
    with pytest.raises(KeyError):  # UnknownProductError is a KeyError too
        catalog.get("nothing-like-it")


def test_kinds_tables() -> None:
    assert (
        MAKEUP_KINDS
        == KINDS[:7]
        == (
            "lipstick",
            "lip_gloss",
            "blush",
            "eyeshadow",
            "eyeliner",
            "brow",
            "foundation",
        )
    )
    assert is_makeup("blush")
    assert not is_makeup("nails")
    assert not is_makeup("glasses")


@given(st.tuples(*[st.integers(0, 255)] * 3))
def test_colour_round_trip(rgb: tuple[int, int, int]) -> None:
    text = format_color(rgb)
    assert parse_color(text) == rgb == parse_color(text.lower())
    assert Variant(id="x", name="X", color=text).rgb == rgb


@given(st.text(max_size=8))
def test_parse_color_rejects_what_is_not_hex(text: str) -> None:
    is_hex = len(text) == 7 and text[0] == "#" and all(c in "0123456789abcdefABCDEF" for c in text[1:])
    if is_hex:
        assert parse_color(text) == tuple(int(text[i : i + 2], 16) for i in (1, 3, 5))
    else:
        with pytest.raises(ValueError, match="#RRGGBB"):
            parse_color(text)


# -- tryon catalog ------------------------------------------------------------------------------


def test_cli_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["ID", "KIND", "BRAND", "NAME", "PRICE", "SHADES"]
    row = next(line for line in lines if line.startswith("velvet-matte-lipstick "))
    assert "Maison Lumière" in row
    assert "24.00 EUR" in row
    assert row.split()[-1] == "6"
    assert len(lines) == 1 + len(Catalog.load(SHIPPED))

    assert main(["catalog", "list", "--kind", "eyeliner"]) == 0
    rows = capsys.readouterr().out.splitlines()[1:]
    assert rows
    assert all(row.split()[1] == "eyeliner" for row in rows)

    assert main(["catalog", "list", "--json", "--kind", "foundation"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert {p["kind"] for p in listed} == {"foundation"}
    assert all(len(p["variants"]) == 6 for p in listed)


def test_cli_show(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "show", "precision-liquid-eyeliner"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown == Catalog.load(SHIPPED).get("precision-liquid-eyeliner").to_json()
    assert shown["params"]["wing"] is True
    assert main(["catalog", "show", "precision-eyeliner"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tryon: error: unknown product 'precision-eyeliner'")
    assert "precision-liquid-eyeliner" in err


def test_cli_assets_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path / "products", glasses())
    for argv in (
        ["catalog", "--assets", str(tmp_path), "list"],
        ["catalog", "list", "--assets", str(tmp_path)],
    ):
        assert main(argv) == 0
        out = capsys.readouterr().out.splitlines()
        assert len(out) == 2
        assert out[1].startswith("test-glasses ")


def test_cli_validate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "validate"]) == 0
    out = capsys.readouterr().out
    assert out == f"{len(Catalog.load(SHIPPED))} products OK, 0 rejected\n"

    products = tmp_path / "products"
    good = write(products, lipstick("good-one"))
    bad = write(products, mutated(lipstick("bad-one"), lambda d: d["variants"][0].update(finish="glitter")))
    for target in (tmp_path, products):
        assert main(["catalog", "validate", str(target)]) == 1
        out = capsys.readouterr().out
        assert f"{bad}: variants[0].finish: expected one of" in out
        assert out.endswith("1 product OK, 1 rejected\n")
    assert main(["catalog", "validate", str(good.parent)]) == 0
    assert main(["catalog", "validate", str(good)]) == 0
    assert main(["catalog", "validate", str(bad)]) == 1
    assert capsys.readouterr().out.endswith("0 products OK, 1 rejected\n")
    assert main(["catalog", "validate", str(tmp_path / "nowhere")]) == 2


GARMENT_ANCHORS = {
    "neck": [200, 20],
    "left_shoulder": [290, 40],
    "right_shoulder": [110, 40],
    "left_armpit": [270, 110],
    "right_armpit": [130, 110],
    "left_cuff": [340, 200],
    "right_cuff": [60, 200],
    "left_hem": [280, 380],
    "right_hem": [120, 380],
}


def garment(**changes: Any) -> dict[str, Any]:
    data = glasses("test-tee")
    data.update(kind="top", params={"fit": "slim"})
    data["variants"] = [{"id": "red", "name": "Red"}, {"id": "blue", "name": "Blue", "asset": "front-blue"}]
    data["assets"] = {
        "front": {"file": "front.png", "anchors": GARMENT_ANCHORS, "size_mm": {"width": 520.0}},
        "front-blue": {"file": "front.png", "anchors": GARMENT_ANCHORS},
        "parts": {"file": "front.png", "anchors": {}},
    }
    data["sizes"] = [
        {"id": "S", "chest_cm": 88, "length_cm": 64},
        {"id": "M", "chest_cm": 96, "length_cm": 66},
        {"id": "L", "chest_cm": 104, "length_cm": 68, "waist_cm": 90},
    ]
    data.update(changes)
    return data


def test_garments_take_a_fit_a_parts_image_and_colourways_drawn_apart(tmp_path: Path) -> None:
    product = load_product(write(tmp_path / "products", garment()))
    assert product.params["fit"] == "slim"
    assert product.variant("blue").asset == "front-blue"
    assert product.variant("red").asset is None
    assert load_product(write(tmp_path / "products", garment(params={}))).params["fit"] == "regular"


def test_garment_size_chart_is_data_and_picks_the_nearest_size(tmp_path: Path) -> None:
    product = load_product(write(tmp_path / "products", garment()))
    assert [s.id for s in product.sizes] == ["S", "M", "L"]
    assert product.sizes[2].waist_cm == 90
    assert product.sizes[0].waist_cm is None
    assert product.size_for(60).id == "S"  # below the chart: the smallest
    assert product.size_for(95).id == "M"
    assert product.size_for(92).id == "M", "halfway between two sizes takes the larger"
    assert product.size_for(150).id == "L"
    assert product.to_json()["sizes"][0] == {"id": "S", "chest_cm": 88, "length_cm": 64}
    assert "sizes" not in load_product(write(tmp_path / "products", glasses())).to_json()
    with pytest.raises(UnknownProductError, match="no size chart"):
        load_product(write(tmp_path / "products", glasses())).size_for(90)


def test_shipped_garments_have_size_charts() -> None:
    catalog = Catalog.load()
    garments = [p for kind in ("top", "dress", "jacket") for p in catalog.by_kind(kind)]
    assert len(garments) >= 8
    for p in garments:
        assert len(p.sizes) >= 4, f"{p.id}: {len(p.sizes)} sizes"
    child = catalog.get("holiday-fair-isle-pyjama-top-child")
    adult = catalog.get("holiday-fair-isle-pyjama-top-adult")
    assert child.sizes[-1].chest_cm < adult.sizes[0].chest_cm, "the child's chart ends below the adult's"


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (
            lambda d: d.update(params={"fit": "baggy"}),
            "params.fit",
            "expected one of slim, regular, loose, got 'baggy'",
        ),
        (lambda d: d["variants"][1].update(asset="back"), "variants[1].asset", "got 'back'"),
        (lambda d: d["assets"].pop("parts"), "assets.parts", "required asset for top"),
        (
            lambda d: d["assets"]["front"]["anchors"].pop("left_hem"),
            "assets.front.anchors.left_hem",
            "required",
        ),
        (
            lambda d: d["assets"]["front"]["anchors"].update(left_cuff=[10, 200]),
            "assets.front.anchors.left_cuff",
            "the wearer's left",
        ),
        (lambda d: d.pop("sizes"), "sizes", "a top needs a size chart"),
        (lambda d: d.update(sizes=[]), "sizes", "expected a non-empty list of sizes, got a list of 0 items"),
        (lambda d: d["sizes"][1].update(chest_cm=80), "sizes[1].chest_cm", "from the smallest chest up"),
        (lambda d: d["sizes"][2].update(id="S"), "sizes[2].id", "size 'S' is listed twice"),
        (lambda d: d["sizes"][0].update(chest_cm="88"), "sizes[0].chest_cm", "expected a number, got '88'"),
        (lambda d: d["sizes"][0].update(length_cm=900), "sizes[0].length_cm", "900"),
        (lambda d: d["sizes"][0].update(hips_cm=90), "sizes[0].hips_cm", "unknown"),
        (lambda d: d["sizes"][0].pop("chest_cm"), "sizes[0].chest_cm", "required"),
    ],
)
def test_bad_garments(tmp_path: Path, change: Any, field: str, message: str) -> None:
    path = write(tmp_path / "products", mutated(garment(), change))
    with pytest.raises(ProductValidationError) as info:
        load_product(path)
    assert info.value.field == field
    assert message in info.value.message


def test_write_product_then_check_products(tmp_path: Path) -> None:
    from tryon.catalog import check_products, write_product

    folder = tmp_path / "products" / "test-glasses"
    folder.mkdir(parents=True)
    (folder / "front.png").write_bytes(PNG)
    path = write_product(folder, glasses())
    assert path.read_text(encoding="utf-8").endswith("}\n")
    assert check_products(["test-glasses"], tmp_path).get("test-glasses").name == "Test Frames"
    with pytest.raises(UnknownProductError):
        check_products(["missing-product"], tmp_path)
    write_product(folder, {**glasses(), "price": -1})
    with pytest.raises(CatalogError, match="invalid products"):
        check_products([], tmp_path)
