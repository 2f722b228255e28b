"""Shape and data-movement operators: PAD, RESHAPE, CONCATENATION, STRIDED_SLICE, DEPTH_TO_SPACE."""

from __future__ import annotations

import numpy as np

from tryon.convert.graph import GraphBuilder
from tryon.convert.layout import channels_first, identity, onnx_axis
from tryon.convert.ops import lowering
from tryon.convert.ops.common import options
from tryon.convert.ops.elementwise import common_perm
from tryon.convert.registry import register
from tryon.convert.tflite_reader import Operator

CF4 = channels_first(4)


@register("PAD", "PADV2")
def pad(g: GraphBuilder, op: Operator) -> None:
    x, pads_idx = op.inputs[0], op.inputs[1]
    paddings = np.asarray(g.const_value(pads_idx), dtype=np.int64).reshape(-1, 2)  # [rank, 2]
    perm = g.agnostic_perm(x)
    begin = [int(paddings[p, 0]) for p in perm]
    end = [int(paddings[p, 1]) for p in perm]
    padded_axes = {i for i in range(len(perm)) if begin[i] or end[i]}
    zero_value = op.opcode == "PAD" or len(op.inputs) < 3
    if g.options.cpu_friendly and perm == CF4 and padded_axes == {1} and zero_value and min(begin + end) >= 0:
        # Zero channels appended for a residual add: a 1×1 convolution keeps ORT's blocked layout.
        out = g.output(op.outputs[0], perm)
        lowering.channel_pad(g, g.get(x, perm), g.shape(x)[3], begin[1], end[1], out)
        return
    inputs = [g.get(x, perm), g.const(np.asarray(begin + end, dtype=np.int64), "pads")]
    if op.opcode == "PADV2" and len(op.inputs) > 2:
        inputs.append(g.get(op.inputs[2]))
    g.emit("Pad", inputs, op.outputs[0], perm, mode="constant")


@register("RESHAPE", "SQUEEZE", "EXPAND_DIMS")
def reshape(g: GraphBuilder, op: Operator) -> None:
    # Shapes are static: the output tensor's shape is the target. Data order is TFLite's, so
    # the input is taken in identity layout (a no-op when only size-1 axes move).
    x = op.inputs[0]
    out = op.outputs[0]
    out_shape = g.shape(out)
    target = g.shape_const(out_shape, f"{g.tensor(out).name}__shape")
    g.emit("Reshape", [g.get(x, identity(len(g.shape(x)))), target], out, identity(len(out_shape)))


@register("CONCATENATION")
def concatenation(g: GraphBuilder, op: Operator) -> None:
    o = options(g, op)
    if o.FusedActivationFunction():
        raise g.error("a fused activation on CONCATENATION is not supported by TFLite's float kernel")
    rank = len(g.shape(op.outputs[0]))
    perm = common_perm(g, op.inputs, rank)
    g.emit(
        "Concat",
        [g.get(i, perm) for i in op.inputs],
        op.outputs[0],
        perm,
        axis=onnx_axis(int(o.Axis()), perm),
    )


@register("DEPTH_TO_SPACE")
def depth_to_space(g: GraphBuilder, op: Operator) -> None:
    # TensorFlow's depth_to_space is ONNX's DCR ordering.
    block = int(options(g, op).BlockSize())
    g.emit("DepthToSpace", [g.get(op.inputs[0], CF4)], op.outputs[0], CF4, blocksize=block, mode="DCR")


@register("SPACE_TO_DEPTH")
def space_to_depth(g: GraphBuilder, op: Operator) -> None:
    block = int(options(g, op).BlockSize())
    g.emit("SpaceToDepth", [g.get(op.inputs[0], CF4)], op.outputs[0], CF4, blocksize=block)


def _slice_bounds(
    shape: tuple[int, ...],
    begin: list[int],
    end: list[int],
    strides: list[int],
    begin_mask: int,
    end_mask: int,
) -> list[tuple[int, int, int]]:
    """Static (start, stop, step) per axis with TensorFlow's mask semantics, stops clamped."""
    bounds = []
    for axis, size in enumerate(shape):
        step = strides[axis]
        if step == 0:
            raise ValueError("STRIDED_SLICE: stride 0")
        lo, hi = (0, size) if step > 0 else (-1, size - 1)
        start = begin[axis]
        stop = end[axis]
        if begin_mask >> axis & 1:
            start = lo if step > 0 else hi
        else:
            start = start + size if start < 0 else start
            start = min(max(start, lo), hi)
        if end_mask >> axis & 1:
            stop = hi if step > 0 else lo
        else:
            stop = stop + size if stop < 0 else stop
            stop = min(max(stop, lo), hi)
        bounds.append((start, stop, step))
    return bounds


@register("STRIDED_SLICE")
def strided_slice(g: GraphBuilder, op: Operator) -> None:
    o = options(g, op)
    if o.EllipsisMask() or o.NewAxisMask():
        raise g.error("STRIDED_SLICE with ellipsis_mask or new_axis_mask is not supported")
    if hasattr(o, "Offset") and o.Offset():
        raise g.error("STRIDED_SLICE with offset=true is not supported")
    x = op.inputs[0]
    shape = g.shape(x)
    rank = len(shape)
    begin, end, strides = ([int(v) for v in np.asarray(g.const_value(i)).reshape(-1)] for i in op.inputs[1:4])
    shrink = int(o.ShrinkAxisMask())
    for axis in range(rank):
        if shrink >> axis & 1:  # a shrunk axis takes exactly one element at `begin`
            b = begin[axis] + shape[axis] if begin[axis] < 0 else begin[axis]
            begin[axis], end[axis], strides[axis] = b, b + 1, 1
    try:
        bounds = _slice_bounds(shape, begin, end, strides, o.BeginMask() & ~shrink, o.EndMask() & ~shrink)
    except ValueError as exc:
        raise g.error(str(exc)) from exc
    perm = g.agnostic_perm(x) if not shrink else identity(rank)
    axes, starts, stops, steps = [], [], [], []
    for tfl_axis, (start, stop, step) in enumerate(bounds):
        if (start, stop, step) == (0, shape[tfl_axis], 1):
            continue
        axes.append(onnx_axis(tfl_axis, perm))
        starts.append(start)
        # ONNX clamps; a negative stop for a negative step must mean "before index 0".
        stops.append(stop if not (step < 0 and stop < 0) else -(2**62))
        steps.append(step)
    src = g.get(x, perm)
    out = op.outputs[0]
    names = (
        [
            g.const(np.asarray(v, dtype=np.int64), f"slice_{k}")
            for v, k in zip((starts, stops, axes, steps), ("starts", "ends", "axes", "steps"), strict=True)
        ]
        if axes
        else []
    )
    if not shrink:
        if axes:
            g.emit("Slice", [src, *names], out, perm)
        else:
            g.emit("Identity", [src], out, perm)
        return
    sliced = src
    if axes:
        sliced = g.unique(f"{g.tensor(out).name}__slice")
        g.node("Slice", [src, *names], [sliced])
    target = g.shape_const(g.shape(out), "slice_shape")
    g.emit("Reshape", [sliced, target], out, identity(len(g.shape(out))))
