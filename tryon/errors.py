"""The error hierarchy: every error tryon raises on purpose derives from :class:`TryOnError`."""

from __future__ import annotations


class TryOnError(Exception):
    """Base class of all tryon errors."""


class ConversionError(TryOnError):
    """A TFLite model could not be converted to ONNX."""


class UnsupportedOpError(ConversionError):
    """The TFLite model uses an operator the converter has no handler for."""

    def __init__(self, op: str, model: str) -> None:
        super().__init__(
            f"unsupported TFLite operator {op!r} in model {model!r}; "
            "add a handler in tryon/convert/ops/ with @register"
        )
        self.op = op
        self.model = model


class ModelError(TryOnError):
    """A model file is missing, stale, or cannot be built."""


class ModelNotFoundError(ModelError):
    """The ONNX file of a model is missing."""


class ModelHashMismatchError(ModelError):
    """The ONNX file or its TFLite source does not match the manifest."""


class RuntimeSetupError(TryOnError):
    """ONNX Runtime could not open a session as configured."""


class InputError(TryOnError, ValueError):
    """An input (array, file, request) does not have the expected form."""


class CatalogError(TryOnError):
    """The product catalog, or a product or shade asked of it, is not as expected."""


class ProductValidationError(CatalogError):
    """A product file is malformed: names the file and the field at fault."""

    def __init__(self, path: str, field: str, message: str) -> None:
        super().__init__(f"{path}: {field}: {message}")
        self.path = path
        self.field = field
        self.message = message


class UnknownProductError(CatalogError, KeyError):
    """No product (or no shade of a product) has the requested id."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class MediaError(TryOnError):
    """An image or video file cannot be read or written."""
