"""tryon: a real-time virtual try-on engine for live shopping."""

from tryon.errors import (
    ConversionError,
    InputError,
    ModelError,
    ModelHashMismatchError,
    ModelNotFoundError,
    RuntimeSetupError,
    TryOnError,
    UnsupportedOpError,
)

__version__ = "0.1.0"

__all__ = [
    "ConversionError",
    "InputError",
    "ModelError",
    "ModelHashMismatchError",
    "ModelNotFoundError",
    "RuntimeSetupError",
    "TryOnError",
    "UnsupportedOpError",
    "__version__",
]
