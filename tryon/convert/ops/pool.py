"""Pooling and reductions: MAX_POOL_2D, AVERAGE_POOL_2D, MEAN."""

from __future__ import annotations

from typing import Any

import numpy as np

from tryon.convert.graph import GraphBuilder
from tryon.convert.layout import channels_first, onnx_axis, reduce_perm
from tryon.convert.ops.common import options, spatial_pads
from tryon.convert.registry import register
from tryon.convert.tflite_reader import Operator

CF4 = channels_first(4)


@register("MAX_POOL_2D", "AVERAGE_POOL_2D")
def pool_2d(g: GraphBuilder, op: Operator) -> None:
    o = options(g, op)
    x = op.inputs[0]
    _, h, w, _ = g.shape(x)
    kernel = (o.FilterHeight(), o.FilterWidth())
    stride = (o.StrideH(), o.StrideW())
    attrs: dict[str, Any] = {
        "kernel_shape": list(kernel),
        "strides": list(stride),
        "pads": spatial_pads(o.Padding(), (h, w), kernel, stride),
    }
    if op.opcode == "AVERAGE_POOL_2D":
        # TFLite averages over the valid (unpadded) pixels only.
        attrs["count_include_pad"] = 0
    onnx_op = "MaxPool" if op.opcode == "MAX_POOL_2D" else "AveragePool"
    g.emit(onnx_op, [g.get(x, CF4)], op.outputs[0], CF4, o.FusedActivationFunction(), **attrs)


@register("MEAN")
def mean(g: GraphBuilder, op: Operator) -> None:
    x, axes_idx = op.inputs
    keep = bool(op.options.KeepDims()) if op.options is not None else False
    rank = len(g.shape(x))
    tfl_axes = sorted({int(a) % rank for a in np.asarray(g.const_value(axes_idx)).reshape(-1)})
    perm = g.agnostic_perm(x)
    out_perm = perm if keep else reduce_perm(perm, tfl_axes)
    axes = sorted(onnx_axis(a, perm) for a in tfl_axes)
    if rank == 4 and perm == CF4 and axes == [2, 3]:
        # Mean over the spatial axes of a channels-first map is a global average pool.
        if keep:
            g.emit("GlobalAveragePool", [g.get(x, perm)], op.outputs[0], out_perm)
            return
        pooled = g.unique(f"{g.tensor(x).name}__gap")
        g.node("GlobalAveragePool", [g.get(x, perm)], [pooled])
        shape = g.shape_const(g.shape(op.outputs[0]), "gap_shape")
        g.emit("Reshape", [pooled, shape], op.outputs[0], out_perm)
        return
    g.emit("ReduceMean", [g.get(x, perm)], op.outputs[0], out_perm, axes=axes, keepdims=int(keep))
