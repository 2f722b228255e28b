"""The product catalog: validated products (makeup, eyewear, jewellery, garments) and their shades.

Products live in ``<root>/products/<id>/product.json``; see :mod:`tryon.catalog.schema` for the
schema tables and :mod:`tryon.catalog.validate` for the rules.
"""

from tryon.catalog.kinds import FAMILIES, GROUPS, REGISTRY, KindSpec, ParamSpec, kind_spec
from tryon.catalog.loader import (
    ASSETS_ENV,
    Catalog,
    catalog_files,
    check_products,
    default_root,
    find_product_files,
    load_product,
    write_product,
)
from tryon.catalog.schema import (
    ALL_FINISHES,
    FINISHES,
    KINDS,
    MAKEUP_KINDS,
    MAX_VARIANTS,
    PARAMS,
    REQUIRED_ANCHORS,
    Asset,
    Product,
    Size,
    Variant,
    format_color,
    is_makeup,
    parse_color,
)
from tryon.errors import CatalogError, ProductValidationError, UnknownProductError

__all__ = [
    "ALL_FINISHES",
    "ASSETS_ENV",
    "FAMILIES",
    "FINISHES",
    "GROUPS",
    "KINDS",
    "MAKEUP_KINDS",
    "MAX_VARIANTS",
    "PARAMS",
    "REGISTRY",
    "REQUIRED_ANCHORS",
    "Asset",
    "Catalog",
    "CatalogError",
    "KindSpec",
    "ParamSpec",
    "Product",
    "ProductValidationError",
    "Size",
    "UnknownProductError",
    "Variant",
    "catalog_files",
    "check_products",
    "default_root",
    "find_product_files",
    "format_color",
    "is_makeup",
    "kind_spec",
    "load_product",
    "parse_color",
    "write_product",
]
