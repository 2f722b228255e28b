"""Graph clean-ups applied after conversion, on the ONNX node list.

TFLite models written for XNNPACK often pad explicitly before a strided convolution and share
one padded tensor between two convolutions. ONNX Runtime folds a Pad into a single consuming
Conv only; folding it into every consumer here removes the Pad (and its copy of the tensor).
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import onnx
from onnx import helper, numpy_helper


def _attr(node: onnx.NodeProto, name: str) -> onnx.AttributeProto | None:
    found: onnx.AttributeProto | None = next((a for a in node.attribute if a.name == name), None)
    return found


def _spatial_zero_pads(node: onnx.NodeProto, consts: dict[str, np.ndarray]) -> list[int] | None:
    """``[top, left, bottom, right]`` if ``node`` is a 4-D zero Pad of the spatial axes only."""
    if node.op_type != "Pad" or len(node.input) < 2 or node.input[1] not in consts:
        return None
    mode = _attr(node, "mode")
    if mode is not None and mode.s not in (b"constant", b""):
        return None
    if len(node.input) > 2 and node.input[2]:
        value = consts.get(node.input[2])
        if value is None or np.any(value != 0):
            return None
    pads = consts[node.input[1]].astype(np.int64).reshape(-1)
    if pads.size != 8 or np.any(pads < 0) or np.any(pads[[0, 1, 4, 5]] != 0):
        return None
    return [int(pads[2]), int(pads[3]), int(pads[6]), int(pads[7])]


def _foldable_consumer(node: onnx.NodeProto, value: str) -> bool:
    auto_pad = _attr(node, "auto_pad")
    return (
        node.op_type == "Conv"
        and node.input[0] == value
        and list(node.input).count(value) == 1
        and (auto_pad is None or auto_pad.s in (b"NOTSET", b""))
    )


def fold_pads_into_convs(
    nodes: list[onnx.NodeProto], initializers: list[onnx.TensorProto], graph_outputs: set[str]
) -> list[onnx.NodeProto]:
    """Fold zero spatial Pads whose every consumer is a Conv into the Convs' ``pads``."""
    consts = {t.name: numpy_helper.to_array(t) for t in initializers}
    consumers: dict[str, list[onnx.NodeProto]] = defaultdict(list)
    for n in nodes:
        for i in n.input:
            consumers[i].append(n)
    dropped: set[int] = set()
    for n in nodes:
        extra = _spatial_zero_pads(n, consts)
        users = consumers.get(n.output[0], [])
        if (
            extra is None
            or not users
            or n.output[0] in graph_outputs
            or not all(_foldable_consumer(u, n.output[0]) for u in users)
        ):
            continue
        for u in users:
            current = _attr(u, "pads")
            old = list(current.ints) if current is not None else [0, 0, 0, 0]
            new = [a + b for a, b in zip(old, extra, strict=True)]
            if current is not None:
                u.attribute.remove(current)
            u.attribute.append(helper.make_attribute("pads", new))
            u.input[0] = n.input[0]
        dropped.add(id(n))
    return [n for n in nodes if id(n) not in dropped]


def drop_unused_initializers(
    nodes: list[onnx.NodeProto], initializers: list[onnx.TensorProto]
) -> list[onnx.TensorProto]:
    used = {i for n in nodes for i in n.input}
    return [t for t in initializers if t.name in used]
