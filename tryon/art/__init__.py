"""Offline drawing of the starter catalog's assets (garments, glasses, hats, jewellery, nail
swatches), used by ``assets/make_*.py`` and the tests; no per-frame code imports it.

The dependency runs one way: :mod:`tryon.art` may use :mod:`tryon.render` (sprites, masks,
colour), never the reverse (``tests/test_art_assets.py`` checks it).
"""
