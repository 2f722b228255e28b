"""The catalog's words for comment analysis: each kind's synonyms per locale (the registry),
colour words and the colours a shade's name says, and a product's optional ``names`` and
``synonyms`` in ``product.json`` (validated at load: a bad one names the file and the field)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tryon.catalog import Catalog, load_product
from tryon.catalog.colours import COLOURS, shade_colours
from tryon.catalog.kinds import LOCALES, REGISTRY, KindSpec, kind_words
from tryon.errors import ProductValidationError

SHIPPED = Path(__file__).resolve().parents[1] / "assets" / "products"
LIPSTICK = "velvet-matte-lipstick"


def lipstick(change: Callable[[dict[str, Any]], object] = lambda d: None) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SHIPPED / LIPSTICK / "product.json").read_text(encoding="utf-8"))
    change(data)
    return data


def write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "products" / data["id"] / "product.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def test_every_kind_has_words_in_every_locale_its_name_first() -> None:
    words = kind_words()
    assert list(words) == list(REGISTRY)
    for kind, per_locale in words.items():
        assert set(per_locale) == set(LOCALES)
        for loc in LOCALES:
            assert per_locale[loc][0] == REGISTRY[kind].names[loc]
            assert all(w.strip() for w in per_locale[loc])
    assert "唇膏" in words["lipstick"]["zh"]
    assert "lunettes de soleil" in [w.lower() for w in words["sunglasses"]["fr"]]


def test_a_kind_with_synonyms_in_an_unknown_locale_is_refused() -> None:
    names = {"en": "Clog", "fr": "Sabot", "zh": "木屐"}
    with pytest.raises(ValueError, match="synonym locales"):
        KindSpec("clog", "garment", "clothes", names, 30, "m", synonyms={"de": ("Holzschuh",)})
    with pytest.raises(ValueError, match="empty synonyms"):
        KindSpec("clog", "garment", "clothes", names, 30, "m", synonyms={"fr": (" ",)})


def test_colours_have_words_in_every_locale_and_shades_say_their_colours() -> None:
    assert all(set(c.words) == set(LOCALES) for c in COLOURS)
    assert shade_colours("Classic Red") == ("red",)
    assert shade_colours("Rose Gold") == ("rose_gold",)  # not pink: the longer name wins
    assert shade_colours("Rosé") == ("pink",)  # accents folded
    assert shade_colours("Gold / Brown") == ("brown", "gold")
    assert shade_colours("Midnight Garden") == ()


def test_shipped_products_are_named_in_french_and_chinese() -> None:
    catalog = Catalog.load()
    assert catalog.errors == []
    for product in catalog:
        assert set(product.names) == {"fr", "zh"}, product.id
    aviators = catalog.get("riviera-aviator-sunglasses")
    assert "aviators" in aviators.synonyms
    assert "飞行员墨镜" in aviators.synonyms


def test_names_and_synonyms_load_and_round_trip(tmp_path: Path) -> None:
    def change(d: dict[str, Any]) -> None:
        d["names"] = {"fr": " Rouge Velours ", "zh": "丝绒口红"}
        d["synonyms"] = ["velvet", "丝绒"]

    product = load_product(write(tmp_path, lipstick(change)))
    assert dict(product.names) == {"fr": "Rouge Velours", "zh": "丝绒口红"}
    assert product.synonyms == ("velvet", "丝绒")
    again = load_product(write(tmp_path / "again", product.to_json()))
    assert again.to_json() == product.to_json()
    bare = load_product(write(tmp_path / "bare", lipstick(lambda d: (d.pop("names"), d.pop("synonyms")))))
    assert not bare.names
    assert bare.synonyms == ()
    assert "names" not in bare.to_json()
    assert "synonyms" not in bare.to_json()


@pytest.mark.parametrize(
    ("change", "field", "says"),
    [
        (lambda d: d.update(names=["Rouge"]), "names", "expected an object"),
        (lambda d: d.update(names={"en": "Velvet"}), "names.en", "English is the product's name"),
        (lambda d: d.update(names={"de": "Samt"}), "names.de", "unknown locale"),
        (lambda d: d.update(names={"fr": ""}), "names.fr", "non-empty string"),
        (lambda d: d.update(names={"zh": 7}), "names.zh", "expected a string"),
        (lambda d: d.update(names={"fr": "x" * 81}), "names.fr", "at most 80 characters"),
        (lambda d: d.update(synonyms="velvet"), "synonyms", "a list of at most"),
        (lambda d: d.update(synonyms=["a"] * 25), "synonyms", "a list of at most 24"),
        (lambda d: d.update(synonyms=["velvet", " "]), "synonyms[1]", "non-empty string"),
        (lambda d: d.update(synonyms=["Rosé", "rose"]), "synonyms[1]", "once"),
        (lambda d: d.update(synonym=["velvet"]), "synonym", "did you mean 'synonyms'"),
    ],
)
def test_a_bad_names_or_synonyms_field_is_refused_naming_file_and_field(
    tmp_path: Path, change: Callable[[dict[str, Any]], object], field: str, says: str
) -> None:
    path = write(tmp_path, lipstick(change))
    with pytest.raises(ProductValidationError) as info:
        load_product(path)
    assert info.value.path == str(path)
    assert info.value.field == field
    assert says in info.value.message
    assert str(path) in str(info.value)
    assert field in str(info.value)
    catalog = Catalog.load(tmp_path)  # the loader skips it and keeps the error
    assert len(catalog) == 0
    assert catalog.errors[0].field == field
