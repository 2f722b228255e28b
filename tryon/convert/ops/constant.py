"""Operators folded into constants at conversion: DEQUANTIZE (float16 weights) and DENSIFY."""

from __future__ import annotations

import numpy as np

from tryon.convert.graph import GraphBuilder
from tryon.convert.registry import register
from tryon.convert.sparse import densify
from tryon.convert.tflite_reader import Operator


@register("DEQUANTIZE")
def dequantize(g: GraphBuilder, op: Operator) -> None:
    src, dst = op.inputs[0], op.outputs[0]
    t = g.tensor(src)
    if t.dtype != np.float16:
        raise g.error(f"DEQUANTIZE: expected a float16 input, got {t.dtype}")
    if g.is_const(src):
        g.set_const(dst, g.const_value(src).astype(np.float32))
    else:
        g.emit("Cast", [g.get(src)], dst, g.native_perm(src), to=1)


@register("DENSIFY")
def densify_op(g: GraphBuilder, op: Operator) -> None:
    src, dst = op.inputs[0], op.outputs[0]
    t = g.tensor(src)
    if t.sparsity is None:
        if not g.is_const(src):
            raise g.error("DENSIFY: expected a constant input")
        g.set_const(dst, g.const_value(src))
        return
    values = np.frombuffer(t.raw, dtype=t.dtype)
    g.set_const(dst, densify(values, g.shape(dst), t.sparsity))
