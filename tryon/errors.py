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
