"""DENSIFY folding: sparse constants in TFLite's format, decoded by our converter and by LiteRT."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.typing import NDArray
from tflite_builder import SparseDim, Sparsity, TFLiteBuilder, assert_parity, run_litert, run_onnx

from tryon.convert import sparse as sparse_mod
from tryon.convert.tflite_reader import DimMetadata
from tryon.convert.tflite_reader import Sparsity as ReaderSparsity


def encode(
    dense: NDArray[np.float32], formats: str, block: tuple[int, int] | None = None
) -> tuple[NDArray[np.float32], Sparsity]:
    """TFLite's sparse encoding of ``dense`` (traversal in dimension order; 'D' dense, 'S' CSR).

    With ``block=(dim, size)`` the dimension ``dim`` is split into blocks of ``size`` that are
    traversed last (the block dimension is always dense).
    """
    expanded = dense
    order = list(range(dense.ndim))
    block_map: list[int] = []
    if block is not None:
        dim, size = block
        shape = list(dense.shape)
        shape[dim : dim + 1] = [shape[dim] // size, size]
        expanded = dense.reshape(shape)
        axes = [a for a in range(len(shape)) if a != dim + 1] + [dim + 1]
        expanded = expanded.transpose(axes)
        order = list(range(dense.ndim + 1))
        block_map = [dim]
        formats = formats + "D"
    paths: list[tuple[int, ...]] = [()]
    dims: list[SparseDim] = []
    for level, fmt in enumerate(formats):
        size = expanded.shape[level]
        if fmt == "D":
            dims.append(SparseDim(dense_size=size))
            paths = [(*p, i) for p in paths for i in range(size)]
            continue
        segments, indices, new_paths = [0], [], []
        for p in paths:
            for i in range(size):
                if np.any(expanded[(*p, i)] != 0):
                    indices.append(i)
                    new_paths.append((*p, i))
            segments.append(len(indices))
        dims.append(SparseDim(segments=segments, indices=indices))
        paths = new_paths
    values = np.asarray([expanded[p] for p in paths], dtype=dense.dtype)
    return values, Sparsity(traversal_order=order, dims=dims, block_map=block_map)


def sparse_weights(shape: tuple[int, ...], density: float, seed: int) -> NDArray[np.float32]:
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(shape).astype(np.float32)
    w[rng.random(shape) > density] = 0.0
    return w


def to_reader(sp: Sparsity) -> ReaderSparsity:
    return ReaderSparsity(
        traversal_order=tuple(sp.traversal_order),
        block_map=tuple(sp.block_map),
        dims=tuple(
            DimMetadata(dense=True, dense_size=d.dense_size)
            if d.segments is None
            else DimMetadata(dense=False, segments=np.asarray(d.segments), indices=np.asarray(d.indices))
            for d in sp.dims
        ),
    )


@settings(max_examples=40, deadline=None)
@given(
    dense=arrays(
        np.float32,
        st.tuples(st.integers(1, 5), st.integers(1, 6), st.integers(1, 7)),
        elements=st.sampled_from([0.0, 0.0, 0.0, 1.5, -2.0, 3.25]),
    ),
    formats=st.sampled_from(["DDS", "DSS", "SDS", "SSS", "DDD"]),
)
def test_densify_roundtrip(dense: NDArray[np.float32], formats: str) -> None:
    values, sp = encode(dense, formats)
    np.testing.assert_array_equal(sparse_mod.densify(values, dense.shape, to_reader(sp)), dense)


def test_densify_block_sparse_roundtrip() -> None:
    dense = sparse_weights((6, 8), 0.4, 1)
    dense[:, 4:] = 0.0  # whole empty blocks
    values, sp = encode(dense, "DS", block=(1, 4))
    np.testing.assert_array_equal(sparse_mod.densify(values, dense.shape, to_reader(sp)), dense)


def test_densify_rejects_wrong_value_count() -> None:
    dense = sparse_weights((3, 4), 0.5, 2)
    values, sp = encode(dense, "DS")
    with pytest.raises(Exception, match="stored values"):
        sparse_mod.densify(values[:-1], dense.shape, to_reader(sp))


@pytest.mark.parametrize(
    ("shape", "formats", "block"),
    [((8, 1, 1, 16), "DDDS", None), ((6, 3, 3, 4), "DSDS", None), ((8, 12), "DS", (1, 4))],
    ids=["mediapipe-1x1-conv", "conv3x3", "block-fc"],
)
def test_densify_matches_litert(shape: tuple[int, ...], formats: str, block: tuple[int, int] | None) -> None:
    """Float16 sparse weights → DENSIFY → DEQUANTIZE → consumer, as in face_detection_full_range_sparse."""
    dense = sparse_weights(shape, 0.25, 3).astype(np.float16)
    values, sp = encode(dense, formats, block)
    b = TFLiteBuilder()
    w_sparse = b.sparse_const(shape, values, sp)
    w16 = b.tensor(list(shape), np.float16)
    b.op("DENSIFY", [w_sparse], [w16])
    w32 = b.tensor(list(shape))
    b.op("DEQUANTIZE", [w16], [w32])
    if len(shape) == 4:
        c_out, _k, _, c_in = shape
        x = b.tensor([1, 6, 6, c_in])
        y = b.tensor([1, 6, 6, c_out])
        b.op(
            "CONV_2D",
            [x, w32, b.const(np.zeros(c_out, np.float32))],
            [y],
            (
                "Conv2DOptions",
                {"Padding": 0, "StrideW": 1, "StrideH": 1, "DilationWFactor": 1, "DilationHFactor": 1},
            ),
        )
        feed = np.random.default_rng(4).random((1, 6, 6, c_in), dtype=np.float32)
    else:
        x = b.tensor([1, shape[1]])
        y = b.tensor([1, shape[0]])
        b.op(
            "FULLY_CONNECTED",
            [x, w32, b.const(np.zeros(shape[0], np.float32))],
            [y],
            ("FullyConnectedOptions", {}),
        )
        feed = np.random.default_rng(4).random((1, shape[1]), dtype=np.float32)
    model = b.build([x], [y])
    got, result = run_onnx(model, [feed])
    assert_parity(got, run_litert(model, [feed]))
    assert result.tflite_ops["DENSIFY"] == 1
    assert "Cast" not in result.onnx_ops
