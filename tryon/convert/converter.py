"""TFLite → ONNX conversion driver."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

import onnx
from onnx import TensorProto, helper

import tryon.convert.ops  # noqa: F401  (registers the handlers)
from tryon.convert.graph import BATCH_DIM, ConversionOptions, GraphBuilder
from tryon.convert.layout import identity
from tryon.convert.optimize import drop_unused_initializers, fold_pads_into_convs
from tryon.convert.registry import HANDLERS
from tryon.convert.tflite_reader import TFLiteModel, read_tflite
from tryon.errors import UnsupportedOpError

logger = logging.getLogger(__name__)

OPSET = 17
IR_VERSION = 8
CONVERTER_VERSION = "2"
"""2: a symbolic batch dimension where asked (``ConversionOptions.dynamic_batch``)."""

_ONNX_TYPES = {"float32": TensorProto.FLOAT, "int32": TensorProto.INT32, "int64": TensorProto.INT64}


@dataclass
class ConversionResult:
    model: onnx.ModelProto
    transpose_count: int
    """Transpose nodes in the output graph (layout changes the propagation could not avoid)."""
    tflite_ops: Counter[str] = field(default_factory=Counter)
    onnx_ops: Counter[str] = field(default_factory=Counter)


def unsupported_ops(model: TFLiteModel) -> list[str]:
    return sorted({op.opcode for op in model.operators if op.opcode not in HANDLERS})


def convert_model(model: TFLiteModel, options: ConversionOptions | None = None) -> ConversionResult:
    """Convert a parsed TFLite model. Inputs and outputs keep their TFLite names, shapes and layouts."""
    missing = unsupported_ops(model)
    if missing:
        raise UnsupportedOpError(", ".join(missing), model.name)
    g = GraphBuilder(model, options)
    for i in model.inputs:
        g.add_input(i)
    for op in model.operators:
        g.begin_op(op)
        HANDLERS[op.opcode](g, op)
    g.begin_op(None)
    outputs = [g.get(i, identity(len(g.shape(i)))) for i in model.outputs]
    nodes = g.nodes
    if g.options.cpu_friendly:
        nodes = fold_pads_into_convs(nodes, g.initializers, set(outputs))
    initializers = drop_unused_initializers(nodes, g.initializers)

    def info(index: int, name: str) -> onnx.ValueInfoProto:
        t = g.tensor(index)
        if t.dtype.name not in _ONNX_TYPES:
            raise g.error(f"graph input/output {t.name!r}: unsupported type {t.dtype}")
        shape: list[int | str] = list(t.shape)
        if g.options.dynamic_batch:
            if not shape or shape[0] != 1:
                raise g.error(f"dynamic batch: graph input/output {t.name!r} has no batch of 1 ({t.shape})")
            shape[0] = BATCH_DIM
        return helper.make_tensor_value_info(name, _ONNX_TYPES[t.dtype.name], shape)

    graph = helper.make_graph(
        nodes,
        model.name,
        [info(i, g.get(i)) for i in model.inputs],
        [info(i, n) for i, n in zip(model.outputs, outputs, strict=True)],
        initializer=initializers,
    )
    onnx_model = helper.make_model(
        graph,
        producer_name="tryon.convert",
        producer_version=CONVERTER_VERSION,
        opset_imports=[helper.make_opsetid("", OPSET)],
        ir_version=IR_VERSION,
    )
    onnx.checker.check_model(onnx_model)
    return ConversionResult(
        model=onnx_model,
        transpose_count=g.transpose_count,
        tflite_ops=Counter(op.opcode for op in model.operators),
        onnx_ops=Counter(n.op_type for n in nodes),
    )


def convert_tflite(data: bytes, name: str, options: ConversionOptions | None = None) -> ConversionResult:
    """Convert TFLite flatbuffer bytes into an ONNX model named ``name``."""
    result = convert_model(read_tflite(data, name), options)
    logger.debug(
        "converted %s: %d ONNX nodes, %d Transpose",
        name,
        len(result.model.graph.node),
        result.transpose_count,
    )
    return result
