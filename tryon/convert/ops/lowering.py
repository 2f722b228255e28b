"""Lowerings that keep ONNX Runtime's blocked (NCHWc) CPU layout intact.

ONNX Runtime's CPU provider runs convolutions in a blocked channel layout and fuses Relu, Add
(as a "sum" input) and Clip into the convolution that precedes them. PRelu, a Pad along the
channel axis and a Clip that does not follow a convolution have no blocked kernel: each one
forces a reorder out of the blocked layout and back in, which costs more than the op itself.
These functions express those ops with per-channel 1×1 (depthwise) and pointwise convolutions
and Relu, all of which stay blocked. The results are equal up to float rounding; parity tests
cover both forms (``ConversionOptions(cpu_friendly=False)`` keeps the plain ops).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from tryon.convert.graph import GraphBuilder
from tryon.convert.layout import channels_first


def depthwise_1x1(
    g: GraphBuilder, x: str, scale: NDArray[np.float32], bias: NDArray[np.float32] | None, out: str
) -> None:
    """``out[c] = scale[c] * x[c] + bias[c]`` as a grouped 1×1 convolution."""
    c = scale.size
    inputs = [x, g.const(scale.astype(np.float32).reshape(c, 1, 1, 1), "dw_scale")]
    if bias is not None:
        inputs.append(g.const(bias.astype(np.float32).reshape(c), "dw_bias"))
    g.node("Conv", inputs, [out], kernel_shape=[1, 1], group=c)


def prelu(g: GraphBuilder, x: str, alpha: NDArray[np.float32], out: str) -> None:
    """PRelu with per-channel ``alpha`` on a channels-first value: ``α·x + (1−α)·relu(x)``."""
    a = alpha.astype(np.float32).reshape(-1)
    linear = g.unique(f"{out}__ax")
    depthwise_1x1(g, x, a, None, linear)
    positive = g.unique(f"{out}__pos")
    if np.all(a <= 1.0):
        # (1−α)·relu(x) == relu((1−α)·x) when 1−α ≥ 0: the Relu fuses into the convolution.
        scaled = g.unique(f"{out}__scaled")
        depthwise_1x1(g, x, 1.0 - a, None, scaled)
        g.node("Relu", [scaled], [positive])
    else:
        rectified = g.unique(f"{out}__relu")
        g.node("Relu", [x], [rectified])
        depthwise_1x1(g, rectified, 1.0 - a, None, positive)
    g.node("Add", [linear, positive], [out])


def clip(g: GraphBuilder, x: str, channels: int, lo: float, hi: float, out: str) -> None:
    """``clip(x, lo, hi)`` as ``hi − relu((hi − lo) − relu(x − lo))`` with per-channel convolutions."""
    ones = np.ones(channels, dtype=np.float32)
    rectified = g.unique(f"{out}__lo")
    if lo == 0.0:
        g.node("Relu", [x], [rectified])
    else:
        shifted = g.unique(f"{out}__shift")
        depthwise_1x1(g, x, ones, np.full(channels, -lo, np.float32), shifted)
        g.node("Relu", [shifted], [rectified])
    flipped = g.unique(f"{out}__flip")
    depthwise_1x1(g, rectified, -ones, np.full(channels, hi - lo, np.float32), flipped)
    capped = g.unique(f"{out}__cap")
    g.node("Relu", [flipped], [capped])
    depthwise_1x1(g, capped, -ones, np.full(channels, hi, np.float32), out)


def channel_pad(g: GraphBuilder, x: str, c_in: int, before: int, after: int, out: str) -> None:
    """Zero padding along channels as a 1×1 convolution with an embedding (identity) weight."""
    c_out = c_in + before + after
    weight = np.zeros((c_out, c_in, 1, 1), dtype=np.float32)
    weight[np.arange(c_in) + before, np.arange(c_in), 0, 0] = 1.0
    g.node("Conv", [x, g.const(weight, "channel_pad_embed")], [out], kernel_shape=[1, 1])


def single_channel_conv(
    g: GraphBuilder,
    x: str,
    weight: NDArray[np.float32],
    bias: NDArray[np.float32],
    out_index: int,
    fused_activation: int,
    attrs: dict[str, Any],
) -> None:
    """A convolution with one output channel as a depthwise convolution plus a channel sum."""
    c_in = weight.shape[1]
    per_channel = g.unique(f"{g.tensor(out_index).name}__dw")
    g.node(
        "Conv",
        [x, g.const(weight.reshape(c_in, 1, *weight.shape[2:]), "dw_weight")],
        [per_channel],
        group=c_in,
        **attrs,
    )
    summed = g.unique(f"{g.tensor(out_index).name}__sum")
    g.node(
        "ReduceSum",
        [per_channel, g.const(np.array([1], dtype=np.int64), "channel_axis")],
        [summed],
        keepdims=1,
    )
    g.emit(
        "Add",
        [summed, g.const(bias.reshape(1, 1, 1, 1), "bias")],
        out_index,
        channels_first(4),
        fused_activation,
    )
