"""Our own TFLite → ONNX converter for the MediaPipe models."""

from tryon.convert.converter import ConversionResult, convert_model, convert_tflite, unsupported_ops
from tryon.convert.graph import ConversionOptions
from tryon.convert.tflite_reader import TFLiteModel, read_tflite

__all__ = [
    "ConversionOptions",
    "ConversionResult",
    "TFLiteModel",
    "convert_model",
    "convert_tflite",
    "read_tflite",
    "unsupported_ops",
]
