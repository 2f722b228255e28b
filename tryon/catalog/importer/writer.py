"""Writing an imported product: ``<root>/products/<id>/`` with ``front.png`` (and ``lenses.png`` for
eyewear), ``thumbnail.png``, ``product.json`` and ``preview.png`` (the product tried on a reference
portrait). Everything is built in a temporary folder, validated and rendered there, and moved into
place only when all of it succeeded: a failed import writes nothing."""

from __future__ import annotations

import logging
import math
import os
import secrets
import shutil
import tempfile
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from tryon.catalog.importer.cutout import IMPORT_KINDS, Cutout, cut_out
from tryon.catalog.loader import PRODUCTS_DIR, Catalog, load_product, write_product
from tryon.catalog.schema import CURRENCY_RE, SLUG_RE, Product, parse_color
from tryon.errors import InputError, MediaError
from tryon.media import read_image

logger = logging.getLogger(__name__)

DEFAULT_WIDTH_MM: dict[str, float] = {
    "glasses": 140.0,
    "sunglasses": 145.0,
    "earrings": 25.0,
    "hat": 360.0,
    "necklace": 150.0,
}
"""The product's real width (its opaque extent, left to right) assumed when none is given."""
THUMBNAIL_SIDE = 256
PREVIEW_FILE = "preview.png"
VARIANT_ID = "as-photographed"
VARIANT_NAME = "As photographed"


def _check_options(kind: str, product_id: str, price: float, currency: str, width_mm: float | None) -> None:
    if kind not in IMPORT_KINDS:
        raise InputError(f"--kind: expected one of {', '.join(IMPORT_KINDS)}, got {kind!r}")
    if not SLUG_RE.match(product_id):
        raise InputError(
            "--id: expected a slug (lower-case letters and digits joined by single hyphens), "
            f"got {product_id!r}"
        )
    if not (math.isfinite(price) and price >= 0):
        raise InputError(f"--price: expected a number >= 0, got {price!r}")
    if not CURRENCY_RE.match(currency):
        raise InputError(f"--currency: expected 3 upper-case letters (ISO 4217, e.g. EUR), got {currency!r}")
    if width_mm is not None and not (math.isfinite(width_mm) and width_mm > 0):
        raise InputError(f"--width-mm: expected a number > 0, got {width_mm!r}")


def _write_png(path: Path, image: NDArray[np.uint8]) -> None:
    if image.ndim == 3:
        code = cv2.COLOR_RGBA2BGRA if image.shape[2] == 4 else cv2.COLOR_RGB2BGR
        image = np.asarray(cv2.cvtColor(image, code), np.uint8)
    ok, buf = cv2.imencode(".png", image)
    if not ok:
        raise MediaError(f"{path}: PNG encoding failed")
    path.write_bytes(buf.tobytes())


def thumbnail(cut: Cutout) -> NDArray[np.uint8]:
    """The product on white (eyewear with its lens tint), its longer side :data:`THUMBNAIL_SIDE`."""
    rgba = cut.rgba.astype(np.float32) / 255.0
    out = np.ones((*rgba.shape[:2], 3), np.float32)
    if cut.lenses is not None and cut.lens_color is not None and cut.lens_opacity is not None:
        tint = np.array(parse_color(cut.lens_color), np.float32) / 255.0
        cover = (cut.lenses.astype(np.float32) / 255.0 * cut.lens_opacity)[..., None]
        out = out * (1.0 - cover) + tint * cover
    alpha = rgba[..., 3:4]
    out = out * (1.0 - alpha) + rgba[..., :3] * alpha
    h, w = out.shape[:2]
    scale = THUMBNAIL_SIDE / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small = np.asarray(
        cv2.resize(out, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR), np.float32
    )
    thumb: NDArray[np.uint8] = np.clip(small * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return thumb


def product_document(
    cut: Cutout,
    product_id: str,
    *,
    name: str,
    brand: str,
    price: float,
    currency: str,
    width_mm: float,
    buy_url: str,
    description: str,
) -> dict[str, Any]:
    """The ``product.json`` content for a cut-out product: one variant in the photo's own colours."""
    variant: dict[str, Any] = {"id": VARIANT_ID, "name": VARIANT_NAME}
    if cut.lens_color is not None:
        variant["lens_color"] = cut.lens_color
        variant["opacity"] = cut.lens_opacity
    image_width_mm = width_mm * cut.rgba.shape[1] / max(cut.product_width, 1.0)
    assets: dict[str, Any] = {
        "front": {
            "file": "front.png",
            "anchors": {k: [round(x, 1), round(y, 1)] for k, (x, y) in cut.anchors.items()},
            "size_mm": {"width": round(image_width_mm, 2)},
        }
    }
    if cut.lenses is not None:
        assets["lenses"] = {"file": "lenses.png", "anchors": {}}
    assets["thumbnail"] = {"file": "thumbnail.png", "anchors": {}}
    return {
        "id": product_id,
        "name": name,
        "brand": brand,
        "kind": cut.kind,
        "price": float(price),
        "currency": currency,
        "buy_url": buy_url,
        "description": description,
        "tags": ["imported"],
        "variants": [variant],
        "assets": assets,
    }


def reference_portrait(path: Path | None = None) -> NDArray[np.uint8]:
    """The portrait previews are rendered on: ``path``, else scikit-image's astronaut (public domain)."""
    if path is not None:
        return read_image(path)
    try:
        from skimage.data import astronaut
    except ImportError:
        raise InputError(
            "no reference portrait for the preview: scikit-image is not installed; "
            "pass --portrait PATH (a photo of a face) or --no-preview"
        ) from None
    return np.ascontiguousarray(astronaut(), dtype=np.uint8)  # type: ignore[no-untyped-call]


def render_preview(root: Path, product_id: str, portrait: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """The product of catalog ``root`` tried on ``portrait`` by the try-on pipeline (still image)."""
    from tryon.pipeline import PipelineConfig, TryOnPipeline

    pipeline = TryOnPipeline(
        [product_id],
        catalog=Catalog.load(root),
        config=PipelineConfig(static_image_mode=True, face_detector="full"),
    )
    out = pipeline.process(portrait)
    if pipeline.stats.failures:
        stages = ", ".join(sorted(pipeline.stats.failures))
        raise InputError(f"preview: the try-on failed on the portrait (stage {stages}); see the log")
    if pipeline.last_result is None or not pipeline.last_result.faces:
        raise InputError("preview: no face found in the reference portrait; pass another with --portrait")
    return out


def _rendered(kind: str) -> bool:
    from tryon.pipeline import RENDERED_KINDS

    return kind in RENDERED_KINDS


def _move_into_place(built: Path, dest: Path, force: bool) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    old = None
    if dest.exists():
        if not force:
            raise InputError(f"{dest} already exists; pass --force to replace it")
        old = dest.with_name(f".{dest.name}.replaced-{secrets.token_hex(4)}")
        os.replace(dest, old)
    try:
        shutil.move(str(built), str(dest))
    except BaseException:
        if old is not None:
            os.replace(old, dest)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def import_photo(
    photo: Path,
    kind: str,
    product_id: str,
    out_root: Path,
    *,
    name: str | None = None,
    brand: str | None = None,
    price: float | None = None,
    currency: str = "EUR",
    width_mm: float | None = None,
    buy_url: str | None = None,
    description: str | None = None,
    force: bool = False,
    preview: bool = True,
    portrait: Path | None = None,
) -> Path:
    """Import a product photo (on a plain light background) as ``out_root/products/<product_id>/``.

    ``width_mm`` is the product's real width (its opaque extent; default :data:`DEFAULT_WIDTH_MM`).
    Returns the product folder. :class:`~tryon.errors.TryOnError` saying why (the photo, the
    product, its anchors, the options, an existing folder without ``force``), with nothing written.
    """
    photo, out_root = Path(photo), Path(out_root)
    price = 0.0 if price is None else float(price)
    _check_options(kind, product_id, price, currency, width_mm)
    dest = out_root / PRODUCTS_DIR / product_id
    if dest.exists() and not force:
        raise InputError(f"{dest} already exists; pass --force to replace it")
    image = read_image(photo)
    portrait_image = reference_portrait(portrait) if preview and _rendered(kind) else None
    cut = cut_out(image, kind)
    doc = product_document(
        cut,
        product_id,
        name=name or product_id.replace("-", " ").title(),
        brand=brand or "Imported",
        price=price,
        currency=currency,
        width_mm=DEFAULT_WIDTH_MM[kind] if width_mm is None else width_mm,
        buy_url=buy_url or f"https://example.com/products/{product_id}",
        description=description if description is not None else f"Imported from the photo {photo.name}.",
    )
    with tempfile.TemporaryDirectory(prefix="tryon-import-") as tmp:
        root = Path(tmp)
        folder = root / PRODUCTS_DIR / product_id
        folder.mkdir(parents=True)
        _write_png(folder / "front.png", cut.rgba)
        if cut.lenses is not None:
            _write_png(folder / "lenses.png", cut.lenses)
        _write_png(folder / "thumbnail.png", thumbnail(cut))
        write_product(folder, doc)
        product: Product = load_product(folder)  # the catalog's own validation
        if portrait_image is not None:
            _write_png(folder / PREVIEW_FILE, render_preview(root, product.id, portrait_image))
        elif preview:
            logger.warning("no preview: this version does not render %s yet", kind)
        _move_into_place(folder, dest, force)
    logger.info(
        "imported %s as %s (%s): anchors %s", photo, product_id, kind, doc["assets"]["front"]["anchors"]
    )
    return dest
