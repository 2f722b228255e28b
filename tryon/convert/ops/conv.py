"""Convolutions: CONV_2D, DEPTHWISE_CONV_2D, TRANSPOSE_CONV and MediaPipe's Convolution2DTransposeBias."""

from __future__ import annotations

import struct
from typing import Any

import numpy as np

from tryon.convert.graph import GraphBuilder
from tryon.convert.layout import channels_first
from tryon.convert.ops import lowering
from tryon.convert.ops.common import PADDING_SAME, PADDING_VALID, has_input, options, spatial_pads
from tryon.convert.registry import register
from tryon.convert.tflite_reader import Operator

CF4 = channels_first(4)


def _bias(g: GraphBuilder, op: Operator, index: int) -> list[str]:
    if not has_input(op, index):
        return []
    b = op.inputs[index]
    if not g.is_const(b):
        raise g.error("expected a constant bias")
    return [g.const(g.const_value(b).astype(np.float32).reshape(-1), f"{g.tensor(b).name}__bias")]


@register("CONV_2D")
def conv_2d(g: GraphBuilder, op: Operator) -> None:
    o = options(g, op)
    x, w_idx = op.inputs[0], op.inputs[1]
    w = g.const_value(w_idx)  # [O, kh, kw, I]
    _, h, wd, c_in = g.shape(x)
    groups = c_in // w.shape[3]
    stride = (o.StrideH(), o.StrideW())
    dilation = (o.DilationHFactor(), o.DilationWFactor())
    pads = spatial_pads(o.Padding(), (h, wd), (w.shape[1], w.shape[2]), stride, dilation)
    attrs: dict[str, Any] = {
        "kernel_shape": [int(w.shape[1]), int(w.shape[2])],
        "strides": list(stride),
        "dilations": list(dilation),
        "pads": pads,
    }
    oihw = np.transpose(w, (0, 3, 1, 2))
    _, out_h, out_w, _ = g.shape(op.outputs[0])
    if g.options.cpu_friendly and w.shape[0] == 1 and groups == 1 and c_in > 1 and out_h * out_w >= 64:
        # One output channel: ORT's blocked layout would pad it to a full channel block (8 or 16
        # channels of work for 1). A depthwise convolution and a channel sum do the same work once.
        bias = g.const_value(op.inputs[2]).reshape(1) if has_input(op, 2) else np.zeros(1, np.float32)
        lowering.single_channel_conv(
            g, g.get(x, CF4), oihw, bias.astype(np.float32), op.outputs[0], o.FusedActivationFunction(), attrs
        )
        return
    weight = g.const(oihw, f"{g.tensor(w_idx).name}__oihw")
    g.emit(
        "Conv",
        [g.get(x, CF4), weight, *_bias(g, op, 2)],
        op.outputs[0],
        CF4,
        o.FusedActivationFunction(),
        group=int(groups),
        **attrs,
    )


@register("DEPTHWISE_CONV_2D")
def depthwise_conv_2d(g: GraphBuilder, op: Operator) -> None:
    o = options(g, op)
    x, w_idx = op.inputs[0], op.inputs[1]
    w = g.const_value(w_idx)  # [1, kh, kw, C * multiplier]
    _, h, wd, c_in = g.shape(x)
    stride = (o.StrideH(), o.StrideW())
    dilation = (o.DilationHFactor(), o.DilationWFactor())
    pads = spatial_pads(o.Padding(), (h, wd), (w.shape[1], w.shape[2]), stride, dilation)
    weight = g.const(np.transpose(w, (3, 0, 1, 2)), f"{g.tensor(w_idx).name}__dw")
    g.emit(
        "Conv",
        [g.get(x, CF4), weight, *_bias(g, op, 2)],
        op.outputs[0],
        CF4,
        o.FusedActivationFunction(),
        kernel_shape=[int(w.shape[1]), int(w.shape[2])],
        strides=list(stride),
        dilations=list(dilation),
        pads=pads,
        group=int(c_in),
    )


def _conv_transpose(
    g: GraphBuilder,
    op: Operator,
    x: int,
    w_idx: int,
    bias: list[str],
    padding: int,
    stride: tuple[int, int],
    fused: int,
) -> None:
    """Transposed convolution with TFLite semantics; weights are ``[O, kh, kw, I]``."""
    w = g.const_value(w_idx)
    _, h, wd, _ = g.shape(x)
    _, out_h, out_w, _ = g.shape(op.outputs[0])
    kh, kw = int(w.shape[1]), int(w.shape[2])
    if padding not in (PADDING_SAME, PADDING_VALID):
        raise g.error(f"transposed convolution: unknown padding {padding}")
    pads_begin, pads_end, extra = [], [], []
    for size, out, k, s in ((h, out_h, kh, stride[0]), (wd, out_w, kw, stride[1])):
        full = (size - 1) * s + k
        total = max(full - out, 0) if padding == PADDING_SAME else 0
        begin = total // 2
        end = total - begin
        output_padding = out - (full - total)
        if output_padding < 0 or output_padding >= max(s, 1) + k:
            raise g.error(f"transposed convolution: output size {out} not reachable from input {size}")
        pads_begin.append(begin)
        pads_end.append(end)
        extra.append(output_padding)
    weight = g.const(np.transpose(w, (3, 0, 1, 2)), f"{g.tensor(w_idx).name}__iohw")
    attrs: dict[str, Any] = {
        "kernel_shape": [kh, kw],
        "strides": list(stride),
        "pads": pads_begin + pads_end,
    }
    if any(extra):
        attrs["output_padding"] = extra
    g.emit("ConvTranspose", [g.get(x, CF4), weight, *bias], op.outputs[0], CF4, fused, **attrs)


@register("TRANSPOSE_CONV")
def transpose_conv(g: GraphBuilder, op: Operator) -> None:
    o = options(g, op)
    # inputs: output_shape, weights, input, (bias)
    fused = o.FusedActivationFunction() if hasattr(o, "FusedActivationFunction") else 0
    _conv_transpose(
        g, op, op.inputs[2], op.inputs[1], _bias(g, op, 3), o.Padding(), (o.StrideH(), o.StrideW()), fused
    )


# TfLitePadding of the C API, as stored in Convolution2DTransposeBias' custom options.
_C_PADDING = {1: PADDING_SAME, 2: PADDING_VALID}


@register("CUSTOM:Convolution2DTransposeBias")
def convolution_2d_transpose_bias(g: GraphBuilder, op: Operator) -> None:
    """MediaPipe's transposed convolution plus bias.

    Custom options are a raw ``TfLiteTransposeConvParams``: int32 padding (1 SAME, 2 VALID),
    int32 stride_width, int32 stride_height. Inputs: input, weights ``[O, kh, kw, I]``, bias.
    """
    if len(op.custom_options) < 12:
        raise g.error(f"expected 12 bytes of custom options, got {len(op.custom_options)}")
    padding, stride_w, stride_h = struct.unpack_from("<iii", op.custom_options)
    if padding not in _C_PADDING:
        raise g.error(f"expected padding 1 (SAME) or 2 (VALID), got {padding}")
    _conv_transpose(
        g, op, op.inputs[0], op.inputs[1], _bias(g, op, 2), _C_PADDING[padding], (stride_h, stride_w), 0
    )
