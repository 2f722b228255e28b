"""A product's text in the page's languages (``i18n`` in ``product.json``): validated with the rest
of the product (:mod:`tryon.catalog.validate`), a bad one named by file and field.

``"i18n": {"fr": {"name": …, "description": …, "variants": {"<variant id>": "<shade name>"}},
"zh": {…}}``: every part optional, none empty; English is the product's own fields. The display
name falls back to ``names.<lang>`` (the comment analyzer's), then to English
(:meth:`~tryon.catalog.schema.Product.text`).
"""

from __future__ import annotations

from collections.abc import Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING

from tryon.catalog.naming import MAX_NAME_CHARS, NAME_LOCALES
from tryon.catalog.schema import ProductText, Variant

if TYPE_CHECKING:
    from tryon.catalog.validate import _Checker as Checker

TEXT_FIELDS = ("name", "description", "variants")
MAX_DESCRIPTION_CHARS = 2000


def _text(c: Checker, value: object, field: str, limit: int) -> str:
    text = c.string(value, field)
    if len(text) > limit:
        c.expect(field, f"at most {limit} characters", value)
    return text.strip()


def product_i18n(
    c: Checker, value: object, variants: Sequence[Variant]
) -> MappingProxyType[str, ProductText]:
    """``i18n``: per locale other than English, the product's name, description and shade names."""
    given = c.obj(value, "i18n")
    ids = [v.id for v in variants]
    out: dict[str, ProductText] = {}
    for lang, raw in given.items():
        f = f"i18n.{lang}"
        if lang not in NAME_LOCALES:
            hint = " (English is the product's own fields)" if lang == "en" else ""
            c.fail(f, f"unknown language{hint}; expected one of: {', '.join(NAME_LOCALES)}")
        obj = c.obj(raw, f)
        c.keys(obj, f, (), TEXT_FIELDS)
        name = _text(c, obj["name"], f"{f}.name", MAX_NAME_CHARS) if "name" in obj else None
        description = (
            _text(c, obj["description"], f"{f}.description", MAX_DESCRIPTION_CHARS)
            if "description" in obj
            else None
        )
        shades = c.obj(obj.get("variants", {}), f"{f}.variants")
        for vid in shades:
            if vid not in ids:
                c.fail(f"{f}.variants.{vid}", f"unknown variant; expected one of: {', '.join(ids)}")
        names = {vid: _text(c, text, f"{f}.variants.{vid}", MAX_NAME_CHARS) for vid, text in shades.items()}
        out[lang] = ProductText(name, description, MappingProxyType(names))
    return MappingProxyType(out)
