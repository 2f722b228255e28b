"""Loading products from ``<root>/products/<id>/product.json`` and looking them up.

The default root is the repository's ``assets/`` folder, overridden by ``TRYON_ASSETS_DIR`` or by an
argument. A bad product does not stop the rest: :meth:`Catalog.load` skips it, logs a warning and keeps
the :class:`ProductValidationError` in :attr:`Catalog.errors`.
"""

from __future__ import annotations

import difflib
import json
import logging
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from tryon.catalog.schema import KINDS, Product, Variant
from tryon.catalog.shop import ShopSettings, load_settings
from tryon.catalog.validate import JSON_FIELD, parse_json, product_from_json
from tryon.errors import CatalogError, ProductValidationError, UnknownProductError

logger = logging.getLogger(__name__)

PRODUCT_FILE = "product.json"
PRODUCTS_DIR = "products"
ASSETS_ENV = "TRYON_ASSETS_DIR"
PACKAGE_ASSETS = Path(__file__).parents[2] / "assets"
"""The repository's ``assets/`` folder (``Path(tryon.__file__).parents[1] / "assets"``)."""


def default_root() -> Path:
    """``$TRYON_ASSETS_DIR`` if set, else the repository's ``assets/`` folder."""
    env = os.environ.get(ASSETS_ENV)
    return Path(env).expanduser() if env else PACKAGE_ASSETS


def load_product(path: Path | str) -> Product:
    """The product of a product folder or of its ``product.json``; :class:`ProductValidationError` if bad."""
    path = Path(path)
    file = path / PRODUCT_FILE if path.is_dir() else path
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProductValidationError(str(file), "<file>", "expected a product.json file, got none") from None
    except UnicodeDecodeError as exc:
        raise ProductValidationError(str(file), JSON_FIELD, f"expected UTF-8 text: {exc.reason}") from None
    except OSError as exc:
        raise ProductValidationError(str(file), "<file>", f"cannot read it: {exc.strerror}") from None
    return product_from_json(parse_json(text, file), file)


def catalog_files(root: Path) -> list[Path]:
    """The ``product.json`` of every product folder under ``root/products``, sorted by folder name.

    A folder there without a ``product.json`` is listed too (its path), so loading it reports the gap.
    Hidden folders (``.name``) are skipped.
    """
    products = root / PRODUCTS_DIR
    if not products.is_dir():
        raise CatalogError(f"{root}: not a catalog root (no {PRODUCTS_DIR}/ folder in it)")
    return product_files_in(products)


def product_files_in(products: Path) -> list[Path]:
    """``products/*/product.json``, sorted; folders lacking the file included (see :func:`catalog_files`)."""
    return [
        entry / PRODUCT_FILE
        for entry in sorted(products.iterdir(), key=lambda p: p.name)
        if entry.is_dir() and not entry.name.startswith(".")
    ]


def find_product_files(path: Path) -> list[Path]:
    """The product files under ``path``: a catalog root (with ``products/``), a ``products/`` folder,
    a product folder or a ``product.json``. :class:`CatalogError` if ``path`` does not exist."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise CatalogError(f"{path}: no such file or folder")
    if (path / PRODUCT_FILE).is_file():
        return [path / PRODUCT_FILE]
    if (path / PRODUCTS_DIR).is_dir():
        return catalog_files(path)
    return product_files_in(path)


class Catalog:
    """Products by id (in sorted id order), and the problems of the products that failed to load."""

    def __init__(
        self,
        products: Iterable[Product] = (),
        errors: Iterable[ProductValidationError] = (),
        root: Path | None = None,
        settings: ShopSettings | None = None,
    ) -> None:
        self.root = root
        self.settings = settings or ShopSettings()
        """The shop's currency and rates (``catalog.json``): every product is priced in it."""
        self.products: dict[str, Product] = {p.id: p for p in sorted(products, key=lambda p: p.id)}
        self.errors: list[ProductValidationError] = list(errors)

    @classmethod
    def load(cls, root: Path | str | None = None) -> Catalog:
        """Every product under ``root/products`` (default :func:`default_root`); bad ones skipped."""
        root = default_root() if root is None else Path(root)
        return cls.from_files(catalog_files(root), root=root)

    @classmethod
    def from_files(cls, files: Iterable[Path], root: Path | None = None, *, warn: bool = True) -> Catalog:
        """The products of these ``product.json`` files, in order; an id seen before is an error for the
        later file, so is a price in another currency than the shop's that it has no rate for
        (``root/catalog.json``, :mod:`tryon.catalog.shop`). Each rejected file is logged once as a
        warning unless ``warn`` is false."""
        settings = load_settings(root)
        products: dict[str, Product] = {}
        errors: list[ProductValidationError] = []
        for file in files:
            try:
                product = settings.priced(load_product(file), file)
                first = products.get(product.id)
                if first is not None:
                    raise ProductValidationError(
                        str(file),
                        "id",
                        f"expected an id unique in the catalog, got {product.id!r} again "
                        f"(first in {first.folder / PRODUCT_FILE})",
                    )
            except ProductValidationError as exc:
                if warn:
                    logger.warning("skipping product: %s", exc)
                errors.append(exc)
                continue
            products[product.id] = product
        return cls(products.values(), errors, root, settings)

    def __len__(self) -> int:
        return len(self.products)

    def __iter__(self) -> Iterator[Product]:
        return iter(self.products.values())

    def __contains__(self, product_id: object) -> bool:
        return product_id in self.products

    def get(self, product_id: str) -> Product:
        """The product with this id; :class:`UnknownProductError` naming close matches otherwise."""
        product = self.products.get(product_id)
        if product is not None:
            return product
        close = difflib.get_close_matches(product_id, list(self.products), n=3)
        hint = (
            f"; did you mean {', '.join(repr(c) for c in close)}?"
            if close
            else f" (the catalog has {len(self.products)} products)"
        )
        raise UnknownProductError(f"unknown product {product_id!r}{hint}")

    def by_kind(self, kind: str) -> list[Product]:
        """Products of ``kind``, in id order; :class:`CatalogError` if ``kind`` is not one of KINDS."""
        if kind not in KINDS:
            raise CatalogError(f"unknown product kind {kind!r}; expected one of: {', '.join(KINDS)}")
        return [p for p in self.products.values() if p.kind == kind]

    def resolve(self, spec: str) -> tuple[Product, Variant]:
        """``"ID"`` → the product and its first variant; ``"ID:SHADE"`` → the variant with that id or
        (case-insensitively) that name. :class:`UnknownProductError` if either is unknown."""
        product_id, sep, shade = spec.partition(":")
        product = self.get(product_id.strip())
        if not sep:
            return product, product.default_variant
        if not shade.strip():
            available = ", ".join(v.id for v in product.variants)
            raise UnknownProductError(f"{spec!r}: expected a shade after ':'; available shades: {available}")
        return product, product.variant(shade)


def write_product(folder: Path | str, document: dict[str, Any]) -> Path:
    """Write ``document`` as ``folder/product.json`` (indented UTF-8, a final newline), unchecked;
    :func:`load_product` validates it."""
    path = Path(folder) / PRODUCT_FILE
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def check_products(ids: Iterable[str], root: Path | str | None = None) -> Catalog:
    """The catalog at ``root``; :class:`CatalogError` listing its problems if it has any, or if one
    of ``ids`` is not in it."""
    catalog = Catalog.load(root)
    if catalog.errors:
        raise CatalogError("invalid products:\n" + "\n".join(str(e) for e in catalog.errors))
    for pid in ids:
        catalog.get(pid)
    return catalog
