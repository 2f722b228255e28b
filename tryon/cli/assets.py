"""``tryon assets import PHOTO --kind KIND --id ID``: a product photo on a plain light background
becomes a catalog product (background removed, anchors found, ``product.json`` validated, a preview
on a reference portrait). Nothing is written when it fails; the error says why."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from tryon.catalog.importer.cutout import IMPORT_KINDS


def register(sub: Any) -> None:
    p = sub.add_parser("assets", help="turn product photos into catalog products")
    cmds = p.add_subparsers(dest="assets_command", required=True, metavar="ACTION")
    imp = cmds.add_parser(
        "import",
        help="import a product photo (plain light background) as a product",
        description="Cut the product out of a photo taken on a plain light background (paper texture, "
        "a gradient and a soft shadow are fine), find its anchors, and write "
        "ROOT/products/ID/ (front.png, thumbnail.png, product.json, preview.png).",
    )
    imp.add_argument("photo", type=Path, help="the product photo (.jpg, .png, ...)")
    imp.add_argument("--kind", required=True, choices=IMPORT_KINDS, help="what the product is")
    imp.add_argument("--id", required=True, dest="product_id", help="product id (a slug: my-frame-01)")
    imp.add_argument("--name", help="display name (default: from the id)")
    imp.add_argument("--brand", help="brand (default: Imported)")
    imp.add_argument("--price", type=float, default=0.0, help="price (default 0)")
    imp.add_argument("--currency", default="EUR", help="ISO 4217 code (default EUR)")
    imp.add_argument(
        "--width-mm",
        type=float,
        default=None,
        help="the product's real width left to right in mm (default: typical for the kind: glasses 140, "
        "sunglasses 145, earrings 25, hat 360, necklace 150)",
    )
    imp.add_argument("--buy-url", help="shop page (default: an example.com placeholder)")
    imp.add_argument("--description", help="description (default: names the photo)")
    imp.add_argument(
        "--root", type=Path, default=None, help="catalog root (default: the catalog's, see tryon catalog)"
    )
    imp.add_argument("--force", action="store_true", help="replace an existing product with this id")
    imp.add_argument("--no-preview", action="store_true", help="do not render preview.png")
    imp.add_argument(
        "--portrait", type=Path, help="portrait for the preview (default: scikit-image's astronaut)"
    )
    imp.set_defaults(func=cmd_import)


def cmd_import(args: argparse.Namespace) -> int:
    from tryon.catalog import default_root, load_product
    from tryon.catalog.importer import PREVIEW_FILE, import_photo

    root: Path = args.root if args.root is not None else default_root()
    folder = import_photo(
        args.photo,
        args.kind,
        args.product_id,
        root,
        name=args.name,
        brand=args.brand,
        price=args.price,
        currency=args.currency,
        width_mm=args.width_mm,
        buy_url=args.buy_url,
        description=args.description,
        force=args.force,
        preview=not args.no_preview,
        portrait=args.portrait,
    )
    product = load_product(folder)
    front = product.assets["front"]
    out = sys.stdout
    out.write(
        f"{folder}: {product.kind} {product.id!r}, front {front.file} {front.size_mm['width']:g} mm wide\n"
    )
    for name, (x, y) in front.anchors.items():
        out.write(f"  {name:12s} ({x:.1f}, {y:.1f})\n")
    variant = product.default_variant
    if variant.lens_color is not None:
        out.write(f"  lenses       {variant.lens_color} at opacity {variant.opacity:g}\n")
    preview = folder / PREVIEW_FILE
    out.write(f"  preview      {preview}\n" if preview.is_file() else "  preview      none\n")
    return 0
