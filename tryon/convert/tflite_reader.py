"""Read a TFLite flatbuffer into plain Python objects.

The ``tflite`` package (generated flatbuffer accessors) does the parsing; this module turns its
lazy accessors into small dataclasses so the converter never touches flatbuffer offsets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import tflite
from numpy.typing import NDArray
from tflite.BuiltinOperator import BuiltinOperator
from tflite.BuiltinOptions import BuiltinOptions
from tflite.TensorType import TensorType

from tryon.errors import ConversionError

_OP_NAMES: dict[int, str] = {v: k for k, v in vars(BuiltinOperator).items() if not k.startswith("_")}
_OPTION_NAMES: dict[int, str] = {v: k for k, v in vars(BuiltinOptions).items() if not k.startswith("_")}

_DTYPES: dict[int, np.dtype[Any]] = {
    TensorType.FLOAT32: np.dtype(np.float32),
    TensorType.FLOAT16: np.dtype(np.float16),
    TensorType.INT32: np.dtype(np.int32),
    TensorType.INT64: np.dtype(np.int64),
    TensorType.UINT8: np.dtype(np.uint8),
    TensorType.INT8: np.dtype(np.int8),
    TensorType.INT16: np.dtype(np.int16),
    TensorType.BOOL: np.dtype(np.bool_),
}


@dataclass(frozen=True)
class DimMetadata:
    """One traversal dimension of a sparse tensor (TFLite ``DimensionMetadata``)."""

    dense: bool
    dense_size: int = 0
    segments: NDArray[np.int64] | None = None
    indices: NDArray[np.int64] | None = None


@dataclass(frozen=True)
class Sparsity:
    """TFLite sparsity parameters of a constant tensor."""

    traversal_order: tuple[int, ...]
    block_map: tuple[int, ...]
    dims: tuple[DimMetadata, ...]


@dataclass
class Tensor:
    index: int
    name: str
    shape: tuple[int, ...]
    dtype: np.dtype[Any]
    data: NDArray[Any] | None = None
    """Constant value in TFLite layout, or ``None`` for a runtime tensor."""
    sparsity: Sparsity | None = None
    raw: bytes = b""
    """Buffer bytes of a sparse constant (the packed non-zero values)."""

    @property
    def is_constant(self) -> bool:
        return self.data is not None


@dataclass
class Operator:
    index: int
    opcode: str
    """Builtin operator name (``CONV_2D``) or ``CUSTOM:<code>`` for custom ops."""
    inputs: list[int]
    outputs: list[int]
    options: Any = None
    """The builtin options table (a ``tflite.*Options`` object), or ``None``."""
    custom_options: bytes = b""


@dataclass
class TFLiteModel:
    name: str
    tensors: list[Tensor]
    operators: list[Operator]
    inputs: list[int]
    outputs: list[int]
    description: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _index_vector(vec_type: int, table: Any) -> NDArray[np.int64]:
    """Read a ``SparseIndexVector`` union (Int32Vector, Uint16Vector or Uint8Vector)."""
    classes = {1: tflite.Int32Vector, 2: tflite.Uint16Vector, 3: tflite.Uint8Vector}
    if vec_type not in classes:
        raise ConversionError(f"sparse index vector: expected type 1, 2 or 3, got {vec_type}")
    vec = classes[vec_type]()
    vec.Init(table.Bytes, table.Pos)
    return np.asarray(vec.ValuesAsNumpy(), dtype=np.int64).reshape(-1)


def _read_sparsity(t: Any) -> Sparsity | None:
    sp = t.Sparsity()
    if sp is None:
        return None
    dims = []
    for d in range(sp.DimMetadataLength()):
        dm = sp.DimMetadata(d)
        if dm.Format() == 0:  # DENSE
            dims.append(DimMetadata(dense=True, dense_size=int(dm.DenseSize())))
        else:  # SPARSE_CSR
            dims.append(
                DimMetadata(
                    dense=False,
                    segments=_index_vector(dm.ArraySegmentsType(), dm.ArraySegments()),
                    indices=_index_vector(dm.ArrayIndicesType(), dm.ArrayIndices()),
                )
            )
    block_map = tuple(int(v) for v in sp.BlockMapAsNumpy()) if not sp.BlockMapIsNone() else ()
    return Sparsity(
        traversal_order=tuple(int(v) for v in sp.TraversalOrderAsNumpy()),
        block_map=block_map,
        dims=tuple(dims),
    )


def _read_options(op: Any) -> Any:
    table = op.BuiltinOptions()
    if table is None:
        return None
    name = _OPTION_NAMES.get(op.BuiltinOptionsType())
    if name is None or name == "NONE":
        return None
    cls = getattr(tflite, name, None)
    if cls is None:
        return None
    obj = cls()
    obj.Init(table.Bytes, table.Pos)
    return obj


def read_tflite(data: bytes, name: str = "model") -> TFLiteModel:
    """Parse a TFLite flatbuffer. Only the first subgraph is read (the models here have one)."""
    try:
        model = tflite.Model.GetRootAsModel(data, 0)
        n_sub = model.SubgraphsLength()
    except Exception as exc:  # flatbuffers raises assorted errors on garbage
        raise ConversionError(f"{name}: not a TFLite flatbuffer ({exc})") from exc
    if n_sub < 1:
        raise ConversionError(f"{name}: expected at least 1 subgraph, got {n_sub}")
    graph = model.Subgraphs(0)

    tensors: list[Tensor] = []
    for i in range(graph.TensorsLength()):
        t = graph.Tensors(i)
        ttype = t.Type()
        if ttype not in _DTYPES:
            raise ConversionError(f"{name}: tensor {i} has unsupported TFLite type {ttype}")
        dtype = _DTYPES[ttype]
        shape = tuple(int(s) for s in t.ShapeAsNumpy()) if t.ShapeLength() else ()
        tensor_name = t.Name().decode("utf-8") if t.Name() else f"tensor_{i}"
        buf = model.Buffers(t.Buffer())
        raw = b""
        if buf is not None and buf.DataLength() > 0:
            raw = buf.DataAsNumpy().tobytes()
        elif buf is not None and buf.Offset() > 1:
            raw = data[buf.Offset() : buf.Offset() + buf.Size()]
        sparsity = _read_sparsity(t)
        const: NDArray[Any] | None = None
        if raw and sparsity is None:
            const = np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
        tensors.append(
            Tensor(
                index=i,
                name=tensor_name,
                shape=shape,
                dtype=dtype,
                data=const,
                sparsity=sparsity,
                raw=raw if sparsity is not None else b"",
            )
        )

    operators: list[Operator] = []
    for i in range(graph.OperatorsLength()):
        op = graph.Operators(i)
        code = model.OperatorCodes(op.OpcodeIndex())
        builtin = max(int(code.BuiltinCode()), int(code.DeprecatedBuiltinCode()))
        opname = _OP_NAMES.get(builtin, f"BUILTIN_{builtin}")
        custom = b""
        if opname == "CUSTOM":
            opname = "CUSTOM:" + (code.CustomCode() or b"").decode("utf-8")
            if not op.CustomOptionsIsNone():
                custom = op.CustomOptionsAsNumpy().tobytes()
        operators.append(
            Operator(
                index=i,
                opcode=opname,
                inputs=[int(v) for v in op.InputsAsNumpy()] if op.InputsLength() else [],
                outputs=[int(v) for v in op.OutputsAsNumpy()] if op.OutputsLength() else [],
                options=_read_options(op),
                custom_options=custom,
            )
        )

    desc = model.Description()
    return TFLiteModel(
        name=name,
        tensors=tensors,
        operators=operators,
        inputs=[int(v) for v in graph.InputsAsNumpy()],
        outputs=[int(v) for v in graph.OutputsAsNumpy()],
        description=desc.decode("utf-8", "replace") if desc else "",
    )
