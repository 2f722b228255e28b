"""The ONNX graph under construction, with TFLite tensors mapped to ONNX values in some layout."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
import onnx
from numpy.typing import NDArray
from onnx import helper, numpy_helper

from tryon.convert.layout import (
    Perm,
    channels_first,
    identity,
    is_identity,
    is_memory_noop,
    permute_shape,
    relative,
)
from tryon.convert.tflite_reader import Operator, Tensor, TFLiteModel
from tryon.errors import ConversionError

# TFLite ActivationFunctionType
_ACT_NONE, _ACT_RELU, _ACT_RELU_N1_TO_1, _ACT_RELU6, _ACT_TANH = 0, 1, 2, 3, 4

_NAME_SAFE = re.compile(r"[^A-Za-z0-9_./:-]+")

FUSED_CLIPS = {_ACT_RELU6: (0.0, 6.0), _ACT_RELU_N1_TO_1: (-1.0, 1.0)}


@dataclass(frozen=True)
class ConversionOptions:
    cpu_friendly: bool = True
    """Lower PRelu, channel Pad and Clip-after-non-convolution into convolutions that ONNX
    Runtime's blocked CPU layout keeps (see :mod:`tryon.convert.ops.lowering`)."""
    dynamic_batch: bool = False
    """Give the graph's inputs and outputs a symbolic first dimension (``batch``): the TFLite
    model's batch of 1 becomes any batch. Shape constants that carry the batch (reshapes, resize
    sizes) take it from the data instead; samples stay independent (a layout change that would
    move the batch axis is a Transpose, never a Reshape)."""


BATCH_DIM = "batch"
"""Name of the symbolic batch dimension of a converted model's inputs and outputs."""


class GraphBuilder:
    """Accumulates ONNX nodes and initializers while TFLite operators are converted in order.

    A TFLite tensor can be materialised in several layouts; ``get`` returns the one asked for,
    inserting (and caching) a Transpose only where the layout really changes.
    """

    def __init__(self, model: TFLiteModel, options: ConversionOptions | None = None) -> None:
        self.model = model
        self.options = options or ConversionOptions()
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self.consts: dict[int, NDArray[Any]] = {t.index: t.data for t in model.tensors if t.data is not None}
        self._values: dict[int, dict[Perm, str]] = {}
        self._const_names: dict[tuple[int, Perm], str] = {}
        self._used: set[str] = set()
        self._base: dict[int, str] = {}
        self.transpose_count = 0
        self.op_counts: Counter[str] = Counter()
        self._op: Operator | None = None
        for t in model.tensors:
            self._base[t.index] = self.unique(_NAME_SAFE.sub("_", t.name) or f"t{t.index}")

    # ----------------------------------------------------------------------------- naming
    def unique(self, base: str) -> str:
        name, k = base, 1
        while name in self._used:
            k += 1
            name = f"{base}__{k}"
        self._used.add(name)
        return name

    def _value_name(self, index: int, perm: Perm) -> str:
        base = self._base[index]
        if is_identity(perm):
            return base
        return self.unique(f"{base}__p{''.join(map(str, perm))}")

    # ----------------------------------------------------------------------------- tensors
    def tensor(self, index: int) -> Tensor:
        return self.model.tensors[index]

    def shape(self, index: int) -> tuple[int, ...]:
        return self.model.tensors[index].shape

    def is_const(self, index: int) -> bool:
        return index in self.consts

    def const_value(self, index: int) -> NDArray[Any]:
        if index not in self.consts:
            raise self.error(f"expected tensor {self.tensor(index).name!r} to be a constant")
        return self.consts[index]

    def set_const(self, index: int, value: NDArray[Any]) -> None:
        """Record ``value`` as the folded constant value of TFLite tensor ``index``."""
        expected = self.shape(index)
        if tuple(value.shape) != tuple(expected):
            raise self.error(f"folded constant: expected shape {expected}, got {value.shape}")
        self.consts[index] = value

    def native_perm(self, index: int) -> Perm:
        """Layout of the first materialisation of a tensor (identity for constants)."""
        if index in self._values:
            return next(iter(self._values[index]))
        if index in self.consts:
            return identity(len(self.shape(index)))
        raise self.error(f"tensor {self.tensor(index).name!r} is used before it is produced")

    def agnostic_perm(self, index: int) -> Perm:
        """Layout for a layout-agnostic op reading ``index``: its native layout, except that a
        4-D value still in TFLite's channels-last layout (a graph input, a reshape result) is
        taken channels-first, where the convolutions that follow will want it anyway."""
        perm = self.native_perm(index)
        if len(perm) == 4 and is_identity(perm) and index not in self.consts:
            return channels_first(4)
        return perm

    def add_input(self, index: int) -> str:
        rank = len(self.shape(index))
        name = self._value_name(index, identity(rank))
        self._values[index] = {identity(rank): name}
        return name

    def output(self, index: int, perm: Perm) -> str:
        """Name for the value of TFLite tensor ``index`` produced by the current op in layout ``perm``."""
        if index in self._values:
            raise self.error(f"tensor {self.tensor(index).name!r} is produced twice")
        name = self._value_name(index, perm)
        self._values[index] = {perm: name}
        return name

    def const(self, value: NDArray[Any], hint: str) -> str:
        name = self.unique(_NAME_SAFE.sub("_", hint))
        # np.ascontiguousarray would turn a 0-d scalar into shape (1,): keep scalars scalar.
        self.initializers.append(numpy_helper.from_array(np.require(value, requirements="C"), name))
        return name

    def get(self, index: int, perm: Perm | None = None) -> str:
        """ONNX name of TFLite tensor ``index`` in layout ``perm`` (its native layout when ``None``)."""
        rank = len(self.shape(index))
        if index in self.consts:
            perm = identity(rank) if perm is None else perm
            key = (index, perm)
            if key not in self._const_names:
                value = np.transpose(self.consts[index], perm) if rank else self.consts[index]
                hint = self._base[index] if is_identity(perm) else f"{self._base[index]}__p"
                self._const_names[key] = self.const(value, hint)
            return self._const_names[key]
        layouts = self._values.get(index)
        if layouts is None:
            raise self.error(f"tensor {self.tensor(index).name!r} is used before it is produced")
        if perm is None:
            return next(iter(layouts.values()))
        if perm in layouts:
            return layouts[perm]
        src_perm, src_name = next(iter(layouts.items()))
        rel = relative(src_perm, perm)
        src_shape = permute_shape(self.shape(index), src_perm)
        name = self._value_name(index, perm)
        if is_memory_noop(src_shape, rel) and (not self.options.dynamic_batch or rel[:1] == (0,)):
            shape_name = self.shape_const(permute_shape(self.shape(index), perm), f"{name}__shape")
            self.node("Reshape", [src_name, shape_name], [name])
        else:
            self.node("Transpose", [src_name], [name], perm=list(rel))
            self.transpose_count += 1
        layouts[perm] = name
        return name

    def shape_const(self, shape: tuple[int, ...] | list[int], hint: str) -> str:
        """A Reshape target: ``shape``, except that with a dynamic batch a leading 1 (the batch)
        becomes -1, so the batch is whatever the data holds."""
        target = np.asarray(shape, dtype=np.int64)
        if self.options.dynamic_batch and target.size and target[0] == 1:
            target[0] = -1
        return self.const(target, hint)

    def resize_sizes(self, src: str, sizes: tuple[int, ...], hint: str) -> str:
        """``sizes`` input of a Resize of ``src``; with a dynamic batch, ``src``'s own batch size
        followed by ``sizes[1:]``."""
        if not self.options.dynamic_batch:
            return self.const(np.asarray(sizes, dtype=np.int64), hint)
        shape, batch, name = self.unique(f"{hint}__in"), self.unique(f"{hint}__n"), self.unique(hint)
        self.node("Shape", [src], [shape])
        self.node(
            "Slice",
            [
                shape,
                self.const(np.asarray([0], np.int64), "zero"),
                self.const(np.asarray([1], np.int64), "one"),
            ],
            [batch],
        )
        self.node(
            "Concat", [batch, self.const(np.asarray(sizes[1:], np.int64), f"{hint}__rest")], [name], axis=0
        )
        return name

    # ----------------------------------------------------------------------------- nodes
    def node(self, op_type: str, inputs: list[str], outputs: list[str], **attrs: Any) -> None:
        name = self.unique(f"{op_type}_{len(self.nodes)}")
        self.nodes.append(helper.make_node(op_type, inputs, outputs, name=name, **attrs))
        self.op_counts[op_type] += 1

    def activation(self, fused: int, src: str, dst: str) -> None:
        """Emit TFLite fused activation ``fused`` from ``src`` to ``dst`` (an Identity-free chain)."""
        if fused == _ACT_RELU:
            self.node("Relu", [src], [dst])
        elif fused in FUSED_CLIPS:
            lo, hi = self._clip_bounds(*FUSED_CLIPS[fused])
            self.node("Clip", [src, lo, hi], [dst])
        elif fused == _ACT_TANH:
            self.node("Tanh", [src], [dst])
        else:
            raise self.error(f"unsupported fused activation {fused}")

    def _clip_bounds(self, lo: float, hi: float) -> tuple[str, str]:
        return (
            self.const(np.array(lo, dtype=np.float32), "clip_min"),
            self.const(np.array(hi, dtype=np.float32), "clip_max"),
        )

    def emit(
        self,
        op_type: str,
        inputs: list[str],
        out_index: int,
        perm: Perm,
        fused_activation: int = _ACT_NONE,
        **attrs: Any,
    ) -> str:
        """Emit ``op_type`` producing TFLite tensor ``out_index`` in ``perm``, plus its fused activation."""
        out = self.output(out_index, perm)
        if fused_activation == _ACT_NONE:
            self.node(op_type, inputs, [out], **attrs)
        else:
            pre = self.unique(f"{out}__pre_act")
            self.node(op_type, inputs, [pre], **attrs)
            self.activation(fused_activation, pre, out)
        return out

    # ----------------------------------------------------------------------------- errors
    def begin_op(self, op: Operator | None) -> None:
        self._op = op

    def error(self, message: str) -> ConversionError:
        where = f"{self.model.name}"
        if self._op is not None:
            where += f", operator {self._op.index} ({self._op.opcode})"
        return ConversionError(f"{where}: {message}")
