"""``GET /api/catalog``: the catalog as the pages get it (docs/catalog-api.md), in the language
asked (``?lang=``, else ``Accept-Language``, else English), with every variant's swatch and link,
the kinds' groups, names and slots, and the kinds that take an intensity."""

from __future__ import annotations

from typing import Any

from tryon.catalog import Catalog, Product
from tryon.catalog.kinds import (
    LOCALES,
    catalog_groups,
    catalog_slots,
    intensity_kinds,
    kind_names,
    kind_needs,
)
from tryon.catalog.swatch import product_swatches

DEFAULT_LANG = "en"


def _primary(tag: str) -> str:
    return tag.strip().lower().replace("_", "-").split("-")[0]


def pick_language(query: str | None, accept: str | None) -> str:
    """The first of :data:`LOCALES` that ``?lang=`` names, else that ``Accept-Language`` accepts
    (by quality, then order; ``fr-CA`` is ``fr``, ``zh-Hans-CN`` is ``zh``), else English."""
    if query and _primary(query) in LOCALES:
        return _primary(query)
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate((accept or "").split(",")[:32]):
        tag, _, params = part.partition(";")
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        ranked.append((-q, i, _primary(tag)))
    for minus_q, _, lang in sorted(ranked):
        if minus_q < 0 and lang in LOCALES:
            return lang
    return DEFAULT_LANG


class CatalogApi:
    """The catalog's JSON per language; swatches read from the images once (at the first request)."""

    def __init__(self, catalog: Catalog, rendered: tuple[str, ...]) -> None:
        self.catalog = catalog
        self.rendered = rendered
        self._swatches: dict[str, dict[str, str]] | None = None

    @property
    def swatches_pending(self) -> bool:
        return self._swatches is None

    def swatches(self) -> dict[str, dict[str, str]]:
        """Each product's variants' swatches (reads product images the first time: off the loop)."""
        if self._swatches is None:
            self._swatches = {p.id: product_swatches(p) for p in self.catalog}
        return self._swatches

    def product(self, p: Product, lang: str) -> dict[str, Any]:
        swatches = self.swatches()[p.id]
        text = p.text(lang)
        item = p.to_json()
        item.pop("i18n", None)
        item["name"] = text.name
        item["description"] = text.description
        item["renderable"] = p.kind in self.rendered
        item["thumbnail"] = f"/api/products/{p.id}/assets/thumbnail" if "thumbnail" in p.assets else None
        for out, v in zip(item["variants"], p.variants, strict=True):
            out["name"] = text.variants[v.id]
            out["swatch"] = swatches[v.id]
            out["buy_url"] = p.buy_url_of(v)
        return item

    def document(self, lang: str) -> dict[str, Any]:
        rank = {k: i for i, k in enumerate(self.rendered)}
        products = sorted(self.catalog, key=lambda p: (rank.get(p.kind, len(rank)), p.name))
        return {
            "lang": lang,
            "currency": self.catalog.settings.currency,
            "products": [self.product(p, lang) for p in products],
            "kinds": list(self.rendered),
            "groups": catalog_groups(),
            "kind_names": kind_names(),
            "slots": catalog_slots(),
            "intensity_kinds": list(intensity_kinds()),
            "needs": kind_needs(),
        }
