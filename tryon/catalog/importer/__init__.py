"""Importing a product photo as a catalog product (``tryon assets import``).

A product photographed on a plain light background (paper grain, a gradient or vignette and a soft
drop shadow are fine) becomes a product folder: the background removed with clean anti-aliased
edges (:mod:`~tryon.catalog.importer.matte`), the anchors the renderers need found from the shape
(:mod:`~tryon.catalog.importer.anchors`), and ``product.json``, ``thumbnail.png`` and a preview on a
reference portrait written once all of it succeeded (:mod:`~tryon.catalog.importer.writer`)::

    folder = import_photo(Path("frame.jpg"), "glasses", "my-frame", default_root())
    cut = cut_out(read_image("frame.jpg"), "glasses")   # in memory: RGBA, anchors, lens mask
"""

from tryon.catalog.importer.cutout import IMPORT_KINDS, Cutout, cut_out
from tryon.catalog.importer.writer import (
    DEFAULT_WIDTH_MM,
    PREVIEW_FILE,
    import_photo,
    reference_portrait,
    render_preview,
)

__all__ = [
    "DEFAULT_WIDTH_MM",
    "IMPORT_KINDS",
    "PREVIEW_FILE",
    "Cutout",
    "cut_out",
    "import_photo",
    "reference_portrait",
    "render_preview",
]
