"""Helpers shared by the op handlers: padding arithmetic and option access."""

from __future__ import annotations

from typing import Any

from tryon.convert.graph import GraphBuilder
from tryon.convert.tflite_reader import Operator

# tflite.Padding
PADDING_SAME = 0
PADDING_VALID = 1


def same_padding(size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """TensorFlow SAME padding (before, after) along one axis; the extra pixel goes after."""
    out = -(-size // stride)
    effective = (kernel - 1) * dilation + 1
    total = max((out - 1) * stride + effective - size, 0)
    return total // 2, total - total // 2


def spatial_pads(
    padding: int,
    hw: tuple[int, int],
    kernel: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int] = (1, 1),
) -> list[int]:
    """ONNX ``pads`` ``[top, left, bottom, right]`` for TFLite padding mode ``padding``."""
    if padding == PADDING_VALID:
        return [0, 0, 0, 0]
    top, bottom = same_padding(hw[0], kernel[0], stride[0], dilation[0])
    left, right = same_padding(hw[1], kernel[1], stride[1], dilation[1])
    return [top, left, bottom, right]


def options(g: GraphBuilder, op: Operator) -> Any:
    if op.options is None:
        raise g.error("expected builtin options, found none")
    return op.options


def has_input(op: Operator, i: int) -> bool:
    """TFLite marks an omitted optional input with index -1."""
    return len(op.inputs) > i and op.inputs[i] >= 0
