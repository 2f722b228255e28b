"""Build small TFLite models in memory (one or a few operators) for per-op parity tests.

Written with the flatbuffer builder functions of the ``tflite`` package, so the models are real
TFLite files that LiteRT runs as the reference.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import flatbuffers
import numpy as np
import onnxruntime as ort
from numpy.typing import NDArray
from tflite.BuiltinOperator import BuiltinOperator
from tflite.BuiltinOptions import BuiltinOptions
from tflite.TensorType import TensorType

from tryon.convert import ConversionOptions, convert_tflite

_TYPES = {
    np.dtype(np.float32): TensorType.FLOAT32,
    np.dtype(np.float16): TensorType.FLOAT16,
    np.dtype(np.int32): TensorType.INT32,
    np.dtype(np.int64): TensorType.INT64,
}


def _mod(name: str) -> Any:
    return importlib.import_module(f"tflite.{name}")


def _call(table: str, fn: str, *args: Any) -> Any:
    return getattr(_mod(table), f"{table}{fn}")(*args)


def _int_vector(b: flatbuffers.Builder, table: str, field_name: str, values: Sequence[int]) -> int:
    _call(table, f"Start{field_name}Vector", b, len(values))
    for v in reversed(values):
        b.PrependInt32(int(v))
    return int(b.EndVector())


def _offset_vector(b: flatbuffers.Builder, table: str, field_name: str, offsets: Sequence[int]) -> int:
    _call(table, f"Start{field_name}Vector", b, len(offsets))
    for off in reversed(offsets):
        b.PrependUOffsetTRelative(off)
    return int(b.EndVector())


@dataclass
class SparseDim:
    dense_size: int = 0
    segments: Sequence[int] | None = None
    indices: Sequence[int] | None = None


@dataclass
class Sparsity:
    traversal_order: Sequence[int]
    dims: Sequence[SparseDim]
    block_map: Sequence[int] = ()


@dataclass
class _Tensor:
    shape: tuple[int, ...]
    dtype: np.dtype[Any]
    buffer: int
    name: str
    sparsity: Sparsity | None = None


@dataclass
class _Op:
    opcode: int
    inputs: list[int]
    outputs: list[int]
    options: tuple[str, dict[str, Any]] | None
    custom: bytes | None


@dataclass
class TFLiteBuilder:
    tensors: list[_Tensor] = field(default_factory=list)
    buffers: list[bytes] = field(default_factory=lambda: [b""])
    ops: list[_Op] = field(default_factory=list)
    opcodes: list[tuple[int, str]] = field(default_factory=list)

    def tensor(self, shape: Sequence[int], dtype: Any = np.float32, name: str | None = None) -> int:
        self.tensors.append(_Tensor(tuple(shape), np.dtype(dtype), 0, name or f"t{len(self.tensors)}"))
        return len(self.tensors) - 1

    def const(self, value: NDArray[Any], name: str | None = None) -> int:
        value = np.asarray(value)
        self.buffers.append(value.tobytes())
        self.tensors.append(
            _Tensor(tuple(value.shape), value.dtype, len(self.buffers) - 1, name or f"c{len(self.tensors)}")
        )
        return len(self.tensors) - 1

    def sparse_const(self, shape: Sequence[int], values: NDArray[Any], sparsity: Sparsity) -> int:
        self.buffers.append(np.asarray(values).tobytes())
        self.tensors.append(
            _Tensor(
                tuple(shape),
                np.asarray(values).dtype,
                len(self.buffers) - 1,
                f"s{len(self.tensors)}",
                sparsity,
            )
        )
        return len(self.tensors) - 1

    def op(
        self,
        opcode: str,
        inputs: Sequence[int],
        outputs: Sequence[int],
        options: tuple[str, dict[str, Any]] | None = None,
        custom_code: str | None = None,
        custom_options: bytes | None = None,
    ) -> None:
        code = getattr(BuiltinOperator, opcode)
        key = (code, custom_code or "")
        if key not in self.opcodes:
            self.opcodes.append(key)
        self.ops.append(_Op(self.opcodes.index(key), list(inputs), list(outputs), options, custom_options))

    # --------------------------------------------------------------------------------- build
    def _options(self, b: flatbuffers.Builder, options: tuple[str, dict[str, Any]]) -> int:
        table, fields = options
        _call(table, "Start", b)
        for name, value in fields.items():
            _call(table, f"Add{name}", b, value)
        return int(_call(table, "End", b))

    def _sparsity(self, b: flatbuffers.Builder, sp: Sparsity) -> int:
        dims = []
        for d in sp.dims:
            seg = idx = None
            if d.segments is not None and d.indices is not None:
                seg = self._index_vector(b, d.segments)
                idx = self._index_vector(b, d.indices)
            _call("DimensionMetadata", "Start", b)
            if seg is None:
                _call("DimensionMetadata", "AddFormat", b, 0)
                _call("DimensionMetadata", "AddDenseSize", b, d.dense_size)
            else:
                assert idx is not None
                _call("DimensionMetadata", "AddFormat", b, 1)
                _call("DimensionMetadata", "AddArraySegmentsType", b, 1)
                _call("DimensionMetadata", "AddArraySegments", b, seg)
                _call("DimensionMetadata", "AddArrayIndicesType", b, 1)
                _call("DimensionMetadata", "AddArrayIndices", b, idx)
            dims.append(_call("DimensionMetadata", "End", b))
        order = _int_vector(b, "SparsityParameters", "TraversalOrder", sp.traversal_order)
        block = _int_vector(b, "SparsityParameters", "BlockMap", sp.block_map) if sp.block_map else None
        dim_vec = _offset_vector(b, "SparsityParameters", "DimMetadata", dims)
        _call("SparsityParameters", "Start", b)
        _call("SparsityParameters", "AddTraversalOrder", b, order)
        if block is not None:
            _call("SparsityParameters", "AddBlockMap", b, block)
        _call("SparsityParameters", "AddDimMetadata", b, dim_vec)
        return int(_call("SparsityParameters", "End", b))

    def _index_vector(self, b: flatbuffers.Builder, values: Sequence[int]) -> int:
        vec = _int_vector(b, "Int32Vector", "Values", values)
        _call("Int32Vector", "Start", b)
        _call("Int32Vector", "AddValues", b, vec)
        return int(_call("Int32Vector", "End", b))

    def build(self, inputs: Sequence[int], outputs: Sequence[int]) -> bytes:
        b = flatbuffers.Builder(1024)
        buffers = []
        for data in self.buffers:
            vec = None
            if data:
                vec = b.CreateNumpyVector(np.frombuffer(data, dtype=np.uint8))
            _call("Buffer", "Start", b)
            if vec is not None:
                _call("Buffer", "AddData", b, vec)
            buffers.append(_call("Buffer", "End", b))
        tensors = []
        for t in self.tensors:
            name = b.CreateString(t.name)
            shape = _int_vector(b, "Tensor", "Shape", t.shape)
            sparsity = self._sparsity(b, t.sparsity) if t.sparsity is not None else None
            _call("Tensor", "Start", b)
            _call("Tensor", "AddShape", b, shape)
            _call("Tensor", "AddType", b, _TYPES[t.dtype])
            _call("Tensor", "AddBuffer", b, t.buffer)
            _call("Tensor", "AddName", b, name)
            if sparsity is not None:
                _call("Tensor", "AddSparsity", b, sparsity)
            tensors.append(_call("Tensor", "End", b))
        ops = []
        for op in self.ops:
            ins = _int_vector(b, "Operator", "Inputs", op.inputs)
            outs = _int_vector(b, "Operator", "Outputs", op.outputs)
            opts = self._options(b, op.options) if op.options is not None else None
            custom = None
            if op.custom is not None:
                custom = b.CreateByteVector(op.custom)
            _call("Operator", "Start", b)
            _call("Operator", "AddOpcodeIndex", b, op.opcode)
            _call("Operator", "AddInputs", b, ins)
            _call("Operator", "AddOutputs", b, outs)
            if opts is not None and op.options is not None:
                _call("Operator", "AddBuiltinOptionsType", b, getattr(BuiltinOptions, op.options[0]))
                _call("Operator", "AddBuiltinOptions", b, opts)
            if custom is not None:
                _call("Operator", "AddCustomOptions", b, custom)
            ops.append(_call("Operator", "End", b))
        t_vec = _offset_vector(b, "SubGraph", "Tensors", tensors)
        o_vec = _offset_vector(b, "SubGraph", "Operators", ops)
        in_vec = _int_vector(b, "SubGraph", "Inputs", inputs)
        out_vec = _int_vector(b, "SubGraph", "Outputs", outputs)
        sg_name = b.CreateString("main")
        _call("SubGraph", "Start", b)
        _call("SubGraph", "AddTensors", b, t_vec)
        _call("SubGraph", "AddInputs", b, in_vec)
        _call("SubGraph", "AddOutputs", b, out_vec)
        _call("SubGraph", "AddOperators", b, o_vec)
        _call("SubGraph", "AddName", b, sg_name)
        subgraph = _call("SubGraph", "End", b)
        codes = []
        for code, custom_code in self.opcodes:
            cc = b.CreateString(custom_code) if custom_code else None
            _call("OperatorCode", "Start", b)
            _call("OperatorCode", "AddDeprecatedBuiltinCode", b, min(code, 127))
            _call("OperatorCode", "AddBuiltinCode", b, code)
            _call("OperatorCode", "AddVersion", b, 1)
            if cc is not None:
                _call("OperatorCode", "AddCustomCode", b, cc)
            codes.append(_call("OperatorCode", "End", b))
        code_vec = _offset_vector(b, "Model", "OperatorCodes", codes)
        sg_vec = _offset_vector(b, "Model", "Subgraphs", [subgraph])
        buf_vec = _offset_vector(b, "Model", "Buffers", buffers)
        desc = b.CreateString("tryon test model")
        _call("Model", "Start", b)
        _call("Model", "AddVersion", b, 3)
        _call("Model", "AddOperatorCodes", b, code_vec)
        _call("Model", "AddSubgraphs", b, sg_vec)
        _call("Model", "AddDescription", b, desc)
        _call("Model", "AddBuffers", b, buf_vec)
        model = _call("Model", "End", b)
        b.Finish(model, file_identifier=b"TFL3")
        return bytes(b.Output())


# ------------------------------------------------------------------------------------ running
def run_litert(model: bytes, feeds: Sequence[NDArray[np.float32]], threads: int = 1) -> list[NDArray[Any]]:
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_content=model, num_threads=threads)
    it.allocate_tensors()
    for detail, x in zip(it.get_input_details(), feeds, strict=True):
        it.set_tensor(detail["index"], x)
    it.invoke()
    return [it.get_tensor(d["index"]).copy() for d in it.get_output_details()]


def run_onnx(
    model: bytes, feeds: Sequence[NDArray[np.float32]], cpu_friendly: bool = True, name: str = "test"
) -> tuple[list[NDArray[Any]], Any]:
    result = convert_tflite(model, name, ConversionOptions(cpu_friendly=cpu_friendly))
    so = ort.SessionOptions()
    so.log_severity_level = 3
    sess = ort.InferenceSession(result.model.SerializeToString(), so, providers=["CPUExecutionProvider"])
    names = [i.name for i in sess.get_inputs()]
    return list(sess.run(None, dict(zip(names, feeds, strict=True)))), result


def assert_parity(
    onnx_out: Sequence[NDArray[Any]], tfl_out: Sequence[NDArray[Any]], rtol: float = 1e-4
) -> None:
    """The project's parity rule: max |onnx − tflite| ≤ rtol × max(1, max |tflite|), shapes equal."""
    assert len(onnx_out) == len(tfl_out)
    for got, want in zip(onnx_out, tfl_out, strict=True):
        assert got.shape == want.shape, f"expected shape {want.shape}, got {got.shape}"
        scale = max(1.0, float(np.abs(want).max()) if want.size else 1.0)
        err = float(np.abs(got.astype(np.float64) - want.astype(np.float64)).max()) if want.size else 0.0
        assert err <= rtol * scale, f"max |onnx - tflite| = {err:.3g} > {rtol} x {scale:.3g}"
