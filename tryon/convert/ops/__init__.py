"""Op handlers. Importing this package registers every handler in :data:`tryon.convert.registry.HANDLERS`."""

from tryon.convert.ops import constant, conv, dense, elementwise, pool, resize, shape

__all__ = ["constant", "conv", "dense", "elementwise", "pool", "resize", "shape"]
