"""FULLY_CONNECTED as Gemm (weights are ``[out, in]``, hence ``transB``)."""

from __future__ import annotations

import numpy as np

from tryon.convert.graph import GraphBuilder
from tryon.convert.layout import identity
from tryon.convert.ops.common import has_input, options
from tryon.convert.registry import register
from tryon.convert.tflite_reader import Operator


@register("FULLY_CONNECTED")
def fully_connected(g: GraphBuilder, op: Operator) -> None:
    o = options(g, op)
    x, w_idx = op.inputs[0], op.inputs[1]
    w = g.const_value(w_idx).astype(np.float32)
    _, n_in = w.shape
    x_shape = g.shape(x)
    src = g.get(x, identity(len(x_shape)))
    if len(x_shape) != 2:
        flat = g.unique(f"{g.tensor(x).name}__2d")
        g.node("Reshape", [src, g.const(np.asarray([-1, n_in], dtype=np.int64), "fc_shape")], [flat])
        src = flat
    inputs = [src, g.const(w, f"{g.tensor(w_idx).name}__w")]
    if has_input(op, 2):
        inputs.append(g.const(g.const_value(op.inputs[2]).astype(np.float32), "fc_bias"))
    out = op.outputs[0]
    out_shape = g.shape(out)
    if len(out_shape) == 2:
        g.emit("Gemm", inputs, out, identity(2), o.FusedActivationFunction(), transB=1)
        return
    gemm = g.unique(f"{g.tensor(out).name}__gemm")
    if o.FusedActivationFunction():
        g.node("Gemm", inputs, [gemm + "__pre"], transB=1)
        g.activation(o.FusedActivationFunction(), gemm + "__pre", gemm)
    else:
        g.node("Gemm", inputs, [gemm], transB=1)
    target = g.shape_const(out_shape, "fc_out_shape")
    g.emit("Reshape", [gemm, target], out, identity(len(out_shape)))
