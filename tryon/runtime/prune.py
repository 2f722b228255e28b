"""Drop the graph outputs a caller does not need, and every node that only they used.

ONNX Runtime runs every node of a session's graph on each call, whatever outputs are asked for:
a model whose optional head is not wanted (the pose model's person mask) costs it anyway unless
the head is removed from the graph before the session is made.
"""

from __future__ import annotations

from collections.abc import Sequence

import onnx

from tryon.convert.optimize import drop_unused_initializers
from tryon.errors import InputError


def prune_outputs(model: onnx.ModelProto, keep: Sequence[int]) -> onnx.ModelProto:
    """A copy of ``model`` with only the graph outputs at indices ``keep`` (in the graph's order)
    and the nodes, initializers and value infos they depend on."""
    outputs = list(model.graph.output)
    bad = [i for i in keep if not 0 <= i < len(outputs)]
    if bad or not keep:
        raise InputError(
            f"model outputs to keep: expected indices in 0..{len(outputs) - 1}, got {list(keep)}"
        )
    pruned = onnx.ModelProto()
    pruned.CopyFrom(model)
    graph = pruned.graph
    kept_outputs = [outputs[i] for i in sorted(set(keep))]
    needed = {o.name for o in kept_outputs}
    nodes = []
    for node in reversed(list(graph.node)):  # ONNX graphs are topologically sorted
        if any(o in needed for o in node.output):
            nodes.append(node)
            needed.update(i for i in node.input if i)
    nodes.reverse()
    initializers = drop_unused_initializers(nodes, list(graph.initializer))
    infos = [v for v in graph.value_info if v.name in needed]
    del graph.node[:], graph.output[:], graph.initializer[:], graph.value_info[:]
    graph.node.extend(nodes)
    graph.output.extend(kept_outputs)
    graph.initializer.extend(initializers)
    graph.value_info.extend(infos)
    return pruned


__all__ = ["prune_outputs"]
