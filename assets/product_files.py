"""What the asset scripts (make_*.py) share: writing a product.json and checking that every
product they wrote loads."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tryon.catalog import Catalog


def write_product(folder: Path, product: dict[str, Any]) -> None:
    """``folder/product.json``, indented, UTF-8, ending with a newline."""
    (folder / "product.json").write_text(
        json.dumps(product, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )


def check_catalog(ids: Iterable[str]) -> None:
    """Exit with the problems if the catalog has any, or if one of ``ids`` is not in it."""
    catalog = Catalog.load()
    if catalog.errors:
        raise SystemExit("\n".join(str(e) for e in catalog.errors))
    for pid in ids:
        catalog.get(pid)
