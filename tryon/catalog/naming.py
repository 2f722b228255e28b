"""A product's names in other locales and its synonyms (``names``, ``synonyms`` in ``product.json``):
what viewers call it, for comment analysis (:mod:`tryon.analytics.comments`). Validated with the
rest of the product (:mod:`tryon.catalog.validate`); a bad one names the file and the field."""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING

from tryon.catalog.colours import fold
from tryon.catalog.kinds import LOCALES

if TYPE_CHECKING:
    from tryon.catalog.validate import _Checker as Checker

NAME_LOCALES = tuple(loc for loc in LOCALES if loc != "en")
"""Locales a product's ``names`` may give (English is its ``name``)."""
MAX_SYNONYMS = 24
MAX_NAME_CHARS = 80


def _short(c: Checker, value: object, field: str) -> str:
    text = c.string(value, field)
    if len(text) > MAX_NAME_CHARS:
        c.expect(field, f"at most {MAX_NAME_CHARS} characters", value)
    return text.strip()


def product_names(c: Checker, value: object) -> MappingProxyType[str, str]:
    """``names``: the product's name per locale other than English (``{"fr": …, "zh": …}``)."""
    given = c.obj(value, "names")
    for loc in given:
        if loc not in NAME_LOCALES:
            hint = " (English is the product's name)" if loc == "en" else ""
            c.fail(f"names.{loc}", f"unknown locale{hint}; expected one of: {', '.join(NAME_LOCALES)}")
    return MappingProxyType({loc: _short(c, text, f"names.{loc}") for loc, text in given.items()})


def product_synonyms(c: Checker, value: object) -> tuple[str, ...]:
    """``synonyms``: other names for the product, each once (case and accents aside)."""
    if not isinstance(value, list) or len(value) > MAX_SYNONYMS:
        c.expect("synonyms", f"a list of at most {MAX_SYNONYMS} strings", value)
    seen: dict[str, int] = {}
    out: list[str] = []
    for i, raw in enumerate(value):
        text = _short(c, raw, f"synonyms[{i}]")
        key = fold(text)
        if key in seen:
            c.fail(
                f"synonyms[{i}]", f"expected each synonym once, got {text!r} again (as synonyms[{seen[key]}])"
            )
        seen[key] = i
        out.append(text)
    return tuple(out)
