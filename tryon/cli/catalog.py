"""``tryon catalog list|show|validate``: browse and check the product catalog.

``--assets DIR`` (before or after the sub-command) uses another catalog root than the default
(``$TRYON_ASSETS_DIR``, else the repository's ``assets/``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from tryon.catalog import KINDS, Catalog, Product, default_root, find_product_files

EXIT_REJECTED = 1


def register(sub: Any) -> None:
    p = sub.add_parser("catalog", help="list, show and validate the products of the catalog")
    p.add_argument("--assets", type=Path, default=None, metavar="DIR", help="catalog root (has products/)")
    # The same option after the sub-command; SUPPRESS keeps it from overriding the one before.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--assets", type=Path, default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    cmds = p.add_subparsers(dest="catalog_command", required=True, metavar="ACTION")

    ls = cmds.add_parser("list", parents=[common], help="a table of the products")
    ls.add_argument("--kind", choices=KINDS, help="only products of this kind")
    ls.add_argument("--json", action="store_true", help="a JSON list of the products instead")
    ls.set_defaults(func=cmd_list)

    show = cmds.add_parser("show", parents=[common], help="one product as JSON")
    show.add_argument("id", help="product id")
    show.set_defaults(func=cmd_show)

    val = cmds.add_parser("validate", parents=[common], help="check product files; exit 1 if any is bad")
    val.add_argument(
        "path",
        nargs="?",
        type=Path,
        help="a catalog root, a products/ folder, a product folder or a product.json (default: the catalog)",
    )
    val.set_defaults(func=cmd_validate)


def _catalog(args: argparse.Namespace) -> Catalog:
    return Catalog.load(args.assets)


def _table(rows: list[list[str]], right: set[int]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [
            cell.rjust(w) if i in right else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines) + "\n"


def _price(product: Product) -> str:
    return f"{product.price:.2f} {product.currency}"


def cmd_list(args: argparse.Namespace) -> int:
    catalog = _catalog(args)
    products = catalog.by_kind(args.kind) if args.kind else list(catalog)
    out = sys.stdout
    if args.json:
        out.write(json.dumps([p.to_json() for p in products], indent=2, ensure_ascii=False) + "\n")
        return 0
    if not products:
        out.write("no products\n")
        return 0
    rows = [["ID", "KIND", "BRAND", "NAME", "PRICE", "SHADES"]]
    rows += [[p.id, p.kind, p.brand, p.name, _price(p), str(len(p.variants))] for p in products]
    out.write(_table(rows, right={4, 5}))
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    product = _catalog(args).get(args.id)
    sys.stdout.write(json.dumps(product.to_json(), indent=2, ensure_ascii=False) + "\n")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    path: Path = args.path or args.assets or default_root()
    catalog = Catalog.from_files(find_product_files(path), warn=False)
    out = sys.stdout
    for error in catalog.errors:
        out.write(f"{error}\n")
    ok, bad = len(catalog.products), len(catalog.errors)
    out.write(f"{ok} product{'s' if ok != 1 else ''} OK, {bad} rejected\n")
    return EXIT_REJECTED if bad else 0
