"""The product schema: the frozen dataclasses of a product, and the per-kind tables validation uses.

The tables here (:data:`KINDS`, :data:`FINISHES`, :data:`PARAMS`, :data:`REQUIRED_ANCHORS`, ...) are
views of the kind registry (:mod:`tryon.catalog.kinds`): add a kind or a parameter there.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import quote

from tryon.catalog.kinds import REGISTRY, ParamSpec, kinds_of
from tryon.errors import UnknownProductError

KINDS: tuple[str, ...] = tuple(REGISTRY)
"""Every product kind the catalog accepts (:data:`tryon.catalog.kinds.REGISTRY`)."""

MAKEUP_KINDS: tuple[str, ...] = kinds_of("makeup")
"""The kinds drawn as colour on the face (lipstick … foundation)."""

FINISHES: Mapping[str, frozenset[str]] = MappingProxyType(
    {k: s.finishes for k, s in REGISTRY.items() if s.finishes}
)
"""Finishes allowed per kind; a kind listed here requires a colour and a finish on every variant."""

ALL_FINISHES: frozenset[str] = frozenset[str]().union(*FINISHES.values())
"""Finishes a variant of a kind not in :data:`FINISHES` may name (the finish is optional there)."""

COLOR_REQUIRED_KINDS: frozenset[str] = frozenset(FINISHES)
"""Kinds whose variants must have ``color`` and ``finish``: the makeup kinds and nails."""

PARAMS: Mapping[str, Mapping[str, ParamSpec]] = MappingProxyType(
    {k: s.params for k, s in REGISTRY.items() if s.params}
)
"""Product-level ``params`` allowed per kind; kinds not listed take none."""

REQUIRED_ANCHORS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {k: s.anchors for k, s in REGISTRY.items() if s.anchors}
)
"""Anchors the ``front`` asset (or the first one) must have; a kind listed here needs at least one asset."""

REQUIRED_ASSETS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {k: s.assets for k, s in REGISTRY.items() if s.assets}
)
"""Assets a kind's renderer needs by name (garments: ``parts``, the body/sleeve label image)."""

SIZE_CHART_KINDS: tuple[str, ...] = tuple(k for k, s in REGISTRY.items() if s.size_chart)
"""Kinds whose products must carry a size chart (``sizes``)."""

REQUIRED_SIZES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {k: s.sizes_mm for k, s in REGISTRY.items() if s.sizes_mm}
)
"""Real sizes (``size_mm``) the ``front`` asset must give: ``width`` is the whole image's width in mm."""

LENS_KINDS: tuple[str, ...] = tuple(k for k, s in REGISTRY.items() if s.lens)
"""Kinds whose variants may give a lens colour and opacity."""

MIRRORED_ANCHORS: tuple[tuple[str, str], ...] = (
    ("left_lens", "right_lens"),
    ("left_hinge", "right_hinge"),
    ("brim_left", "brim_right"),
    ("left_end", "right_end"),
    ("left_shoulder", "right_shoulder"),
    ("left_armpit", "right_armpit"),
    ("left_elbow", "right_elbow"),
    ("left_cuff", "right_cuff"),
    ("left_waist", "right_waist"),
    ("left_hem", "right_hem"),
)
"""Pairs named for the wearer's left and right: the left one must lie to the right in the image."""

MAX_VARIANTS = 12

SLUG_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
COLOR_RE = re.compile(r"^#[0-9A-Fa-f]{6}$")
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")

RGB = tuple[int, int, int]


def is_makeup(kind: str) -> bool:
    """Whether ``kind`` is one of :data:`MAKEUP_KINDS`."""
    return kind in MAKEUP_KINDS


def parse_color(text: str) -> RGB:
    """``"#RRGGBB"`` (either case) → ``(r, g, b)`` ints in 0..255; :class:`ValueError` otherwise."""
    if not isinstance(text, str) or not COLOR_RE.match(text):
        raise ValueError(f'expected "#RRGGBB", got {text!r}')
    return int(text[1:3], 16), int(text[3:5], 16), int(text[5:7], 16)


def format_color(rgb: RGB) -> str:
    """``(r, g, b)`` → ``"#RRGGBB"`` (upper case)."""
    if len(rgb) != 3 or any(not 0 <= c <= 255 for c in rgb):
        raise ValueError(f"expected three ints in 0..255, got {rgb!r}")
    return "#{:02X}{:02X}{:02X}".format(*rgb)


@dataclass(frozen=True)
class ProductText:
    """A product's text in one language (``product.json``'s ``i18n.<lang>``): its display name,
    description and shade names by variant id; ``None`` or a missing shade: not translated."""

    name: str | None = None
    description: str | None = None
    variants: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.name is not None:
            out["name"] = self.name
        if self.description is not None:
            out["description"] = self.description
        if self.variants:
            out["variants"] = dict(self.variants)
        return out


@dataclass(frozen=True)
class Size:
    """One row of a garment's size chart: the body measurements the size is made for (chest or
    bust, and waist where given) and the garment's length, in centimetres."""

    id: str
    chest_cm: float
    length_cm: float | None = None
    waist_cm: float | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "chest_cm": self.chest_cm}
        if self.length_cm is not None:
            out["length_cm"] = self.length_cm
        if self.waist_cm is not None:
            out["waist_cm"] = self.waist_cm
        return out


@dataclass(frozen=True)
class Variant:
    """One shade (or colourway) of a product. ``color`` is ``"#RRGGBB"`` (upper case) or ``None``.

    ``opacity`` ``None`` means the renderer's default for the kind.
    """

    id: str
    name: str
    color: str | None = None
    finish: str | None = None
    opacity: float | None = None
    shimmer_color: str | None = None
    lens_color: str | None = None
    """Glasses and sunglasses: the lens tint (``opacity`` is then the lens's)."""
    asset: str | None = None
    """The product's asset this variant shows instead of ``front`` (a colourway drawn apart)."""
    buy_url: str | None = None
    """The shade's own page in the shop; ``None``: the product's (:meth:`Product.buy_url_of`)."""
    sku: str | None = None
    """The shop's stock-keeping unit for this shade, optional."""
    _rgb: RGB | None = field(default=None, init=False, repr=False, compare=False)
    _shimmer_rgb: RGB | None = field(default=None, init=False, repr=False, compare=False)
    _lens_rgb: RGB | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_rgb", None if self.color is None else parse_color(self.color))
        shimmer = None if self.shimmer_color is None else parse_color(self.shimmer_color)
        object.__setattr__(self, "_shimmer_rgb", shimmer)
        lens = None if self.lens_color is None else parse_color(self.lens_color)
        object.__setattr__(self, "_lens_rgb", lens)

    @property
    def rgb(self) -> RGB | None:
        """The colour as ``(r, g, b)`` ints; always set for makeup kinds and nails."""
        return self._rgb

    @property
    def shimmer_rgb(self) -> RGB | None:
        return self._shimmer_rgb

    @property
    def lens_rgb(self) -> RGB | None:
        return self._lens_rgb

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "name": self.name}
        for key in ("color", "finish", "opacity", "shimmer_color", "lens_color", "asset", "buy_url", "sku"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out


@dataclass(frozen=True)
class Asset:
    """An image of a product: ``file`` relative to the product folder, ``path`` the resolved one.

    ``anchors`` are named points in pixels of that image; ``size_mm`` real sizes (e.g. ``width``).
    """

    name: str
    file: str
    path: Path
    anchors: Mapping[str, tuple[float, float]]
    size_mm: Mapping[str, float]

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "file": self.file,
            "anchors": {name: [x, y] for name, (x, y) in self.anchors.items()},
        }
        if self.size_mm:
            out["size_mm"] = dict(self.size_mm)
        return out


@dataclass(frozen=True)
class Product:
    """A validated product (see ``assets/products/*/product.json``). ``params`` has defaults filled in."""

    id: str
    name: str
    brand: str
    kind: str
    price: float
    currency: str
    buy_url: str
    description: str
    tags: tuple[str, ...]
    params: Mapping[str, float | bool | str]
    variants: tuple[Variant, ...]
    assets: Mapping[str, Asset]
    folder: Path
    sizes: tuple[Size, ...] = ()
    """The size chart, smallest first (garments; empty for other kinds)."""
    names: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """The product's name in other locales than English (``{"fr": …, "zh": …}``), optional."""
    synonyms: tuple[str, ...] = ()
    """Other names viewers call the product by, in any language ("aviators", "飞行员墨镜")."""
    i18n: Mapping[str, ProductText] = field(default_factory=lambda: MappingProxyType({}))
    """The product's text per locale other than English (display name, description, shade names)."""
    price_original: float | None = None
    """The price as ``product.json`` gives it, when the catalog converted it to its currency."""
    currency_original: str | None = None
    """The currency ``product.json`` gives, when the catalog converted the price."""

    @property
    def is_makeup(self) -> bool:
        return is_makeup(self.kind)

    @property
    def default_variant(self) -> Variant:
        return self.variants[0]

    def variant(self, id_or_name: str) -> Variant:
        """The variant with this id, else the one with this name (case-insensitive)."""
        key = id_or_name.strip()
        for v in self.variants:
            if v.id == key:
                return v
        folded = key.casefold()
        for v in self.variants:
            if v.id.casefold() == folded or v.name.casefold() == folded:
                return v
        available = ", ".join(v.id for v in self.variants)
        raise UnknownProductError(
            f"product {self.id!r} has no shade {id_or_name!r}; available shades: {available}"
        )

    def buy_url_of(self, variant: Variant) -> str:
        """Where to buy this shade: its own link, else the product's with ``variant=<id>`` added."""
        if variant.buy_url is not None:
            return variant.buy_url
        return f"{self.buy_url}{'&' if '?' in self.buy_url else '?'}variant={quote(variant.id)}"

    def text(self, lang: str) -> ProductText:
        """The product's text in ``lang``, English where a translation is missing."""
        given = self.i18n.get(lang)
        name = (given.name if given else None) or self.names.get(lang) or self.name
        description = (given.description if given else None) or self.description
        own = given.variants if given else {}
        shades = MappingProxyType({v.id: own.get(v.id) or v.name for v in self.variants})
        return ProductText(name, description, shades)

    def size_for(self, chest_cm: float) -> Size:
        """The size of the chart made for the chest (or bust) nearest ``chest_cm``; a chest
        between two sizes takes the larger one."""
        if not self.sizes:
            raise UnknownProductError(f"product {self.id!r} has no size chart")
        return min(self.sizes, key=lambda s: (abs(s.chest_cm - chest_cm), -s.chest_cm))

    def to_json(self) -> dict[str, Any]:
        """The product as in its ``product.json`` (``params`` with defaults filled in), nothing derived."""
        return {
            "id": self.id,
            "name": self.name,
            "brand": self.brand,
            "kind": self.kind,
            "price": self.price,
            "currency": self.currency,
            "buy_url": self.buy_url,
            "description": self.description,
            "tags": list(self.tags),
            "params": dict(self.params),
            "variants": [v.to_json() for v in self.variants],
            "assets": {name: a.to_json() for name, a in self.assets.items()},
            **({"sizes": [size.to_json() for size in self.sizes]} if self.sizes else {}),
            **({"names": dict(self.names)} if self.names else {}),
            **({"synonyms": list(self.synonyms)} if self.synonyms else {}),
            **({"i18n": {lang: t.to_json() for lang, t in self.i18n.items()}} if self.i18n else {}),
            **(
                {"price_original": self.price_original, "currency_original": self.currency_original}
                if self.currency_original is not None
                else {}
            ),
        }
