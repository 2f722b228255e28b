"""``product.json`` text → :class:`~tryon.catalog.schema.Product`, or a :class:`ProductValidationError`.

Every failure names the file, the field (``variants[2].color``, ``assets.front.anchors.bridge``) and
what was expected against what was found. Validation stops at the first problem of a product.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Sequence
from pathlib import Path, PurePosixPath, PureWindowsPath
from types import MappingProxyType
from typing import Any, NoReturn
from urllib.parse import urlsplit

from tryon.catalog.localise import product_i18n
from tryon.catalog.naming import product_names, product_synonyms
from tryon.catalog.schema import (
    ALL_FINISHES,
    COLOR_RE,
    COLOR_REQUIRED_KINDS,
    CURRENCY_RE,
    FINISHES,
    KINDS,
    LENS_KINDS,
    MAX_VARIANTS,
    MIRRORED_ANCHORS,
    PARAMS,
    REQUIRED_ANCHORS,
    REQUIRED_ASSETS,
    REQUIRED_SIZES,
    SIZE_CHART_KINDS,
    SLUG_RE,
    Asset,
    Product,
    Size,
    Variant,
)
from tryon.errors import ProductValidationError

TOP_REQUIRED = ("id", "name", "brand", "kind", "price", "currency", "buy_url", "description", "variants")
TOP_OPTIONAL = ("names", "synonyms", "i18n", "tags", "params", "assets", "sizes")
SIZE_REQUIRED = ("id", "chest_cm")
SIZE_OPTIONAL = ("length_cm", "waist_cm")
BODY_CM = (30.0, 200.0)
"""The range a size chart's chest, waist or length must fall in (a newborn to the largest adult)."""
VARIANT_REQUIRED = ("id", "name")
VARIANT_OPTIONAL = ("color", "finish", "opacity", "shimmer_color", "lens_color", "asset", "buy_url", "sku")
ASSET_REQUIRED = ("file", "anchors")
ASSET_OPTIONAL = ("size_mm",)

ASSET_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
JSON_FIELD = "<json>"


class _DuplicateKeyError(ValueError):
    pass


def describe(value: object) -> str:
    """A short JSON-ish rendering of ``value`` for "expected …, got …" messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        text = repr(value)
        return text if len(text) <= 60 else text[:56] + "…" + text[-1]
    if isinstance(value, list):
        return f"a list of {len(value)} item{'s' if len(value) != 1 else ''}"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _num(x: float) -> str:
    return f"{x:g}"


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKeyError(key)
        out[key] = value
    return out


def parse_json(text: str, path: Path) -> object:
    """JSON text → value; invalid JSON (or a key given twice) → error on field ``<json>``."""
    try:
        return json.loads(text, object_pairs_hook=_pairs)
    except json.JSONDecodeError as exc:
        raise ProductValidationError(
            str(path), JSON_FIELD, f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    except _DuplicateKeyError as exc:
        raise ProductValidationError(
            str(path), JSON_FIELD, f"expected each key once per object, got {exc.args[0]!r} twice"
        ) from None


class _Checker:
    """Type and range checks that raise :class:`ProductValidationError` for one file."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def fail(self, field: str, message: str) -> NoReturn:
        raise ProductValidationError(self.path, field, message)

    def expect(self, field: str, expected: str, value: object) -> NoReturn:
        self.fail(field, f"expected {expected}, got {describe(value)}")

    def obj(self, value: object, field: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.expect(field, "an object", value)
        return value

    def keys(
        self, obj: dict[str, Any], prefix: str, required: Sequence[str], optional: Sequence[str]
    ) -> None:
        allowed = (*required, *optional)
        for key in obj:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                self.fail(_join(prefix, key), f"unknown field{hint}; expected one of: {', '.join(allowed)}")
        for key in required:
            if key not in obj:
                self.fail(_join(prefix, key), "required field is missing")

    def string(self, value: object, field: str, *, nonempty: bool = True) -> str:
        if not isinstance(value, str):
            self.expect(field, "a string", value)
        if nonempty and not value.strip():
            self.expect(field, "a non-empty string", value)
        return value

    def number(self, value: object, field: str, low: float | None = None, high: float | None = None) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            self.expect(field, "a number", value)
        if low is not None and high is not None and not low <= value <= high:
            self.expect(field, f"a number in [{_num(low)}, {_num(high)}]", value)
        if low is not None and value < low:
            self.expect(field, f"a number >= {_num(low)}", value)
        return float(value)

    def positive(self, value: object, field: str) -> float:
        number = self.number(value, field)
        if number <= 0:
            self.expect(field, "a number > 0", value)
        return number

    def slug(self, value: object, field: str) -> str:
        if not isinstance(value, str) or not SLUG_RE.match(value):
            self.expect(field, "a slug (lower-case letters and digits joined by single hyphens)", value)
        return value

    def color(self, value: object, field: str) -> str:
        if not isinstance(value, str) or not COLOR_RE.match(value):
            self.expect(field, '"#RRGGBB"', value)
        return value.upper()

    def choice(self, value: object, field: str, allowed: Sequence[str], what: str = "") -> str:
        if not isinstance(value, str) or value not in allowed:
            close = difflib.get_close_matches(value, allowed, n=1) if isinstance(value, str) else []
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            self.fail(field, f"expected one of {', '.join(allowed)}{what}, got {describe(value)}{hint}")
        return value


def product_from_json(data: object, path: Path) -> Product:
    """Validate the parsed JSON of ``path`` (a ``product.json``) and build the :class:`Product`."""
    c = _Checker(path)
    folder = path.parent
    if not isinstance(data, dict):
        c.expect(JSON_FIELD, "a JSON object at the top level", data)
    c.keys(data, "", TOP_REQUIRED, TOP_OPTIONAL)
    pid = c.slug(data["id"], "id")
    if pid != folder.name:
        c.fail("id", f"expected the product folder's name {folder.name!r}, got {pid!r}")
    name = c.string(data["name"], "name")
    brand = c.string(data["brand"], "brand")
    kind = c.choice(data["kind"], "kind", KINDS)
    price = c.number(data["price"], "price", low=0.0)
    currency = c.string(data["currency"], "currency")
    if not CURRENCY_RE.match(currency):
        c.expect("currency", "a currency code of 3 upper-case letters (ISO 4217, e.g. EUR)", currency)
    buy_url = _url(c, data["buy_url"], "buy_url")
    description = c.string(data["description"], "description", nonempty=False)
    tags = _tags(c, data.get("tags", []))
    params = _params(c, kind, data.get("params", {}))
    variants = _variants(c, kind, data["variants"])
    assets = _assets(c, kind, data.get("assets", {}), folder)
    for i, variant in enumerate(variants):
        if variant.asset is not None and variant.asset not in assets:
            have = ", ".join(assets) or "none"
            c.fail(
                f"variants[{i}].asset",
                f"expected the name of one of the product's assets ({have}), got {variant.asset!r}",
            )
    for needed in REQUIRED_ASSETS.get(kind, ()):
        if needed not in assets:
            c.fail(f"assets.{needed}", f"required asset for {kind} is missing")
    sizes = _sizes(c, kind, data.get("sizes"))
    names = product_names(c, data.get("names", {}))
    synonyms = product_synonyms(c, data.get("synonyms", []))
    i18n = product_i18n(c, data.get("i18n", {}), variants)
    return Product(
        id=pid,
        name=name,
        brand=brand,
        kind=kind,
        price=price,
        currency=currency,
        buy_url=buy_url,
        description=description,
        tags=tags,
        params=params,
        variants=variants,
        assets=assets,
        folder=folder,
        sizes=sizes,
        names=names,
        synonyms=synonyms,
        i18n=i18n,
    )


def _url(c: _Checker, value: object, field: str) -> str:
    text = c.string(value, field)
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(ch.isspace() for ch in text):
        c.expect(field, "an http(s) URL", value)
    return text


def _sizes(c: _Checker, kind: str, value: object) -> tuple[Size, ...]:
    """The size chart: required for garments, smallest chest first, ids unique."""
    if value is None:
        if kind in SIZE_CHART_KINDS:
            c.fail("sizes", f"a {kind} needs a size chart: a list of {{id, chest_cm[, length_cm, waist_cm]}}")
        return ()
    if kind not in SIZE_CHART_KINDS:
        c.fail("sizes", f"only garments ({', '.join(SIZE_CHART_KINDS)}) have a size chart, not a {kind}")
    if not isinstance(value, list) or not value:
        c.expect("sizes", "a non-empty list of sizes", value)
    out: list[Size] = []
    for i, raw in enumerate(value):
        f = f"sizes[{i}]"
        row = c.obj(raw, f)
        c.keys(row, f, SIZE_REQUIRED, SIZE_OPTIONAL)
        sid = c.string(row["id"], f"{f}.id")
        if any(s.id == sid for s in out):
            c.fail(f"{f}.id", f"size {sid!r} is listed twice")
        measures = {
            key: c.number(row[key], f"{f}.{key}", *BODY_CM)
            for key in ("chest_cm", *SIZE_OPTIONAL)
            if key in row
        }
        size = Size(sid, measures["chest_cm"], measures.get("length_cm"), measures.get("waist_cm"))
        if out and size.chest_cm <= out[-1].chest_cm:
            c.fail(
                f"{f}.chest_cm",
                f"expected sizes from the smallest chest up: more than {out[-1].chest_cm:g} "
                f"({out[-1].id}), got {size.chest_cm:g}",
            )
        out.append(size)
    return tuple(out)


def _tags(c: _Checker, value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        c.expect("tags", "a list of strings", value)
    return tuple(c.string(tag, f"tags[{i}]") for i, tag in enumerate(value))


def _params(c: _Checker, kind: str, value: object) -> MappingProxyType[str, float | bool | str]:
    specs = PARAMS.get(kind, {})
    given = c.obj(value, "params")
    out: dict[str, float | bool | str] = {}
    for key, raw in given.items():
        field = f"params.{key}"
        spec = specs.get(key)
        if spec is None:
            allowed = f"one of: {', '.join(specs)}" if specs else "no parameters"
            c.fail(field, f"unknown parameter for {kind}; expected {allowed}")
        if spec.type == "bool":
            if not isinstance(raw, bool):
                c.expect(field, "true or false", raw)
            out[key] = raw
        elif spec.type == "choice":
            out[key] = c.choice(raw, field, spec.choices)
        else:
            out[key] = c.number(raw, field, spec.low, spec.high)
    return MappingProxyType({key: out.get(key, spec.default) for key, spec in specs.items()})


def _variants(c: _Checker, kind: str, value: object) -> tuple[Variant, ...]:
    if not isinstance(value, list):
        c.expect("variants", f"a list of 1 to {MAX_VARIANTS} variants", value)
    if not 1 <= len(value) <= MAX_VARIANTS:
        c.fail("variants", f"expected 1 to {MAX_VARIANTS} variants, got {len(value)}")
    ids: dict[str, int] = {}
    names: dict[str, int] = {}
    out: list[Variant] = []
    for i, item in enumerate(value):
        f = f"variants[{i}]"
        obj = c.obj(item, f)
        c.keys(obj, f, VARIANT_REQUIRED, VARIANT_OPTIONAL)
        vid = c.slug(obj["id"], f"{f}.id")
        if vid in ids:
            c.fail(
                f"{f}.id",
                f"expected an id unique in the product, got {vid!r} again (as variants[{ids[vid]}])",
            )
        ids[vid] = i
        name = c.string(obj["name"], f"{f}.name")
        folded = name.strip().casefold()
        if folded in names:
            c.fail(
                f"{f}.name",
                f"expected a name unique in the product, got {name!r} again (as variants[{names[folded]}])",
            )
        names[folded] = i
        out.append(_variant(c, kind, obj, f, vid, name))
    return tuple(out)


def _variant(c: _Checker, kind: str, obj: dict[str, Any], f: str, vid: str, name: str) -> Variant:
    required = kind in COLOR_REQUIRED_KINDS
    for key in ("color", "finish"):
        if required and key not in obj:
            c.fail(f"{f}.{key}", f"required field for {kind} variants is missing")
    color = c.color(obj["color"], f"{f}.color") if "color" in obj else None
    finish = None
    if "finish" in obj:
        allowed = FINISHES.get(kind, ALL_FINISHES)
        finish = c.choice(obj["finish"], f"{f}.finish", sorted(allowed), f" for {kind}")
    opacity = c.number(obj["opacity"], f"{f}.opacity", 0.0, 1.0) if "opacity" in obj else None
    shimmer = c.color(obj["shimmer_color"], f"{f}.shimmer_color") if "shimmer_color" in obj else None
    lens = None
    if "lens_color" in obj:
        if kind not in LENS_KINDS:
            only = " and ".join(LENS_KINDS)
            c.fail(f"{f}.lens_color", f"expected only on {only} variants, got it on {kind}")
        lens = c.color(obj["lens_color"], f"{f}.lens_color")
    asset = c.string(obj["asset"], f"{f}.asset") if "asset" in obj else None
    buy_url = _url(c, obj["buy_url"], f"{f}.buy_url") if "buy_url" in obj else None
    sku = c.string(obj["sku"], f"{f}.sku").strip() if "sku" in obj else None
    return Variant(
        id=vid,
        name=name,
        color=color,
        finish=finish,
        opacity=opacity,
        shimmer_color=shimmer,
        lens_color=lens,
        asset=asset,
        buy_url=buy_url,
        sku=sku,
    )


def _assets(c: _Checker, kind: str, value: object, folder: Path) -> MappingProxyType[str, Asset]:
    given = c.obj(value, "assets")
    assets: dict[str, Asset] = {}
    for name, item in given.items():
        f = f"assets.{name}"
        if not ASSET_NAME_RE.match(name):
            c.fail(f, f"expected an asset name of lower-case letters, digits, '_' and '-', got {name!r}")
        obj = c.obj(item, f)
        c.keys(obj, f, ASSET_REQUIRED, ASSET_OPTIONAL)
        file = _asset_file(c, obj["file"], f"{f}.file", folder)
        anchors = _anchors(c, obj["anchors"], f"{f}.anchors")
        size = c.obj(obj.get("size_mm", {}), f"{f}.size_mm")
        size_mm = {key: c.positive(v, f"{f}.size_mm.{key}") for key, v in size.items()}
        assets[name] = Asset(
            name=name,
            file=file,
            path=folder / file,
            anchors=MappingProxyType(anchors),
            size_mm=MappingProxyType(size_mm),
        )
    required = REQUIRED_ANCHORS.get(kind)
    if required is not None:
        if not assets:
            c.fail("assets", f"expected at least one asset for {kind}, got none")
        main = assets.get("front") or next(iter(assets.values()))
        for anchor in required:
            if anchor not in main.anchors:
                c.fail(
                    f"assets.{main.name}.anchors.{anchor}",
                    f"required anchor for {kind} is missing (expected {', '.join(required)})",
                )
        for dim in REQUIRED_SIZES.get(kind, ()):
            if dim not in main.size_mm:
                c.fail(
                    f"assets.{main.name}.size_mm.{dim}",
                    f"required for {kind} (the image's real {dim} in mm)",
                )
        for left, right in MIRRORED_ANCHORS:
            if (
                left in main.anchors
                and right in main.anchors
                and main.anchors[left][0] <= main.anchors[right][0]
            ):
                c.fail(
                    f"assets.{main.name}.anchors.{left}",
                    f"expected the wearer's left, to the right of {right} in the image "
                    f"(x > {main.anchors[right][0]:g}), got x = {main.anchors[left][0]:g}",
                )
    return MappingProxyType(assets)


def _asset_file(c: _Checker, value: object, field: str, folder: Path) -> str:
    text = c.string(value, field)
    posix = PurePosixPath(text)
    if "\\" in text or PureWindowsPath(text).drive or posix.is_absolute():
        c.expect(field, "a relative path inside the product folder, with '/' separators", text)
    if ".." in posix.parts:
        c.expect(field, "a path inside the product folder (no '..')", text)
    if posix.suffix.lower() != ".png":
        c.expect(field, "a .png file", text)
    full = folder / text
    if not full.resolve().is_relative_to(folder.resolve()):
        c.expect(field, "a path inside the product folder (a link leads outside it)", text)
    if not full.is_file():
        c.fail(field, f"expected an existing file, got {text!r} (not found in {folder})")
    return text


def _anchors(c: _Checker, value: object, field: str) -> dict[str, tuple[float, float]]:
    given = c.obj(value, field)
    out: dict[str, tuple[float, float]] = {}
    for name, point in given.items():
        f = f"{field}.{name}"
        if not name.strip():
            c.fail(f, "expected a non-empty anchor name, got ''")
        if not isinstance(point, list) or len(point) != 2:
            c.expect(f, "[x, y] in pixels", point)
        x = c.number(point[0], f"{f}[0]", low=0.0)
        y = c.number(point[1], f"{f}[1]", low=0.0)
        out[name] = (x, y)
    return out
