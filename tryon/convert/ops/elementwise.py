"""Elementwise operators: they keep their input's layout, so they never force a Transpose."""

from __future__ import annotations

import numpy as np

from tryon.convert.graph import FUSED_CLIPS, GraphBuilder
from tryon.convert.layout import Perm, channels_first, identity, is_identity, permute_shape
from tryon.convert.ops import lowering
from tryon.convert.ops.common import options
from tryon.convert.registry import register
from tryon.convert.tflite_reader import Operator

_UNARY = {
    "RELU": "Relu",
    "LOGISTIC": "Sigmoid",
    "HARD_SWISH": "HardSwish",
    "TANH": "Tanh",
    "ABS": "Abs",
    "EXP": "Exp",
    "SQRT": "Sqrt",
}


@register(*_UNARY)
def unary(g: GraphBuilder, op: Operator) -> None:
    x = op.inputs[0]
    perm = g.agnostic_perm(x)
    g.emit(_UNARY[op.opcode], [g.get(x, perm)], op.outputs[0], perm)


CF4 = channels_first(4)


def _lowered(g: GraphBuilder, out_index: int, perm: Perm) -> bool:
    """Whether a clip or PRelu producing ``out_index`` in ``perm`` takes the convolution form."""
    return g.options.cpu_friendly and perm == CF4 and len(g.shape(out_index)) == 4


def _clip(g: GraphBuilder, src: str, out_index: int, perm: Perm, lo: float, hi: float) -> None:
    if _lowered(g, out_index, perm):
        lowering.clip(g, src, g.shape(out_index)[3], lo, hi, g.output(out_index, perm))
        return
    bounds = [g.const(np.array(v, dtype=np.float32), "clip") for v in (lo, hi)]
    g.emit("Clip", [src, *bounds], out_index, perm)


@register("RELU6", "RELU_N1_TO_1")
def clipped_relu(g: GraphBuilder, op: Operator) -> None:
    x = op.inputs[0]
    perm = g.agnostic_perm(x)
    lo, hi = (0.0, 6.0) if op.opcode == "RELU6" else (-1.0, 1.0)
    _clip(g, g.get(x, perm), op.outputs[0], perm, lo, hi)


def common_perm(g: GraphBuilder, inputs: list[int], rank: int) -> Perm:
    """Layout for an n-ary op: the first full-rank runtime input's layout that is not identity."""
    for i in inputs:
        if not g.is_const(i) and len(g.shape(i)) == rank and not is_identity(g.agnostic_perm(i)):
            return g.agnostic_perm(i)
    return identity(rank)


def broadcast_operand(g: GraphBuilder, index: int, rank: int, perm: Perm) -> str:
    """``index`` as an operand broadcastable against a rank-``rank`` value stored in ``perm``."""
    shape = g.shape(index)
    if len(shape) == rank:
        return g.get(index, perm)
    full = (1,) * (rank - len(shape)) + tuple(shape)
    if g.is_const(index):
        value = g.const_value(index).reshape(full)
        return g.const(np.transpose(value, perm), f"{g.tensor(index).name}__bcast")
    if is_identity(perm):
        return g.get(index)  # numpy-style broadcasting aligns trailing axes already
    expanded = g.unique(f"{g.tensor(index).name}__bcast")
    target = np.asarray(permute_shape(full, perm), dtype=np.int64)
    g.node("Reshape", [g.get(index, identity(len(shape))), g.const(target, f"{expanded}__shape")], [expanded])
    return expanded


def _binary(g: GraphBuilder, op: Operator, onnx_op: str) -> None:
    rank = len(g.shape(op.outputs[0]))
    perm = common_perm(g, op.inputs, rank)
    operands = [broadcast_operand(g, i, rank, perm) for i in op.inputs]
    fused = op.options.FusedActivationFunction() if op.options is not None else 0
    if fused in FUSED_CLIPS and _lowered(g, op.outputs[0], perm):
        # A Clip after Add/Mul has no blocked kernel in ONNX Runtime: lower it.
        pre = g.unique(f"{g.tensor(op.outputs[0]).name}__pre_act")
        g.node(onnx_op, operands, [pre])
        _clip(g, pre, op.outputs[0], perm, *FUSED_CLIPS[fused])
        return
    g.emit(onnx_op, operands, op.outputs[0], perm, fused)


@register("ADD")
def add(g: GraphBuilder, op: Operator) -> None:
    _binary(g, op, "Add")


@register("MUL")
def mul(g: GraphBuilder, op: Operator) -> None:
    _binary(g, op, "Mul")


@register("SUB")
def sub(g: GraphBuilder, op: Operator) -> None:
    _binary(g, op, "Sub")


@register("DIV")
def div(g: GraphBuilder, op: Operator) -> None:
    _binary(g, op, "Div")


@register("PRELU")
def prelu(g: GraphBuilder, op: Operator) -> None:
    x, alpha = op.inputs
    rank = len(g.shape(x))
    perm = g.agnostic_perm(x)
    if g.is_const(alpha) and _lowered(g, op.outputs[0], perm):
        a = g.const_value(alpha)
        channels = g.shape(x)[3]
        per_channel = a.reshape(-1, channels) if a.size % channels == 0 else None
        if per_channel is not None and np.all(per_channel == per_channel[:1]):
            lowering.prelu(g, g.get(x, perm), per_channel[0], g.output(op.outputs[0], perm))
            return
    g.emit("PRelu", [g.get(x, perm), broadcast_operand(g, alpha, rank, perm)], op.outputs[0], perm)


@register("LEAKY_RELU")
def leaky_relu(g: GraphBuilder, op: Operator) -> None:
    x = op.inputs[0]
    perm = g.agnostic_perm(x)
    g.emit("LeakyRelu", [g.get(x, perm)], op.outputs[0], perm, alpha=float(options(g, op).Alpha()))
