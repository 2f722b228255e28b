"""Densify TFLite sparse constants (the DENSIFY operator, folded at conversion time).

TFLite stores a sparse tensor as its non-zero values in traversal order plus, per traversal
dimension, either a dense size or CSR segments and indices. Block dimensions (``block_map``)
split an original dimension into blocks. This expands all paths level by level with numpy,
the same traversal the TFLite ``FormatConverter`` does recursively.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from tryon.convert.tflite_reader import Sparsity
from tryon.errors import ConversionError


def densify(values: NDArray[Any], dense_shape: tuple[int, ...], sparsity: Sparsity) -> NDArray[Any]:
    """Return the dense array of shape ``dense_shape`` described by ``values`` and ``sparsity``."""
    rank = len(dense_shape)
    order = sparsity.traversal_order
    levels = len(order)
    if len(sparsity.dims) != levels:
        raise ConversionError(
            f"sparse tensor: expected {levels} dimension metadata entries, got {len(sparsity.dims)}"
        )
    if levels != rank + len(sparsity.block_map):
        raise ConversionError(
            f"sparse tensor: traversal order of length {levels} does not match rank {rank} "
            f"plus {len(sparsity.block_map)} block dimensions"
        )
    block_sizes = [sparsity.dims[order.index(rank + b)].dense_size for b in range(len(sparsity.block_map))]

    # pos: the position of each partial path in its level's storage; coords: index per level.
    pos = np.zeros(1, dtype=np.int64)
    coords: list[NDArray[np.int64]] = []
    for dim in sparsity.dims:
        if dim.dense:
            size = dim.dense_size
            new_pos = (pos[:, None] * size + np.arange(size)[None, :]).reshape(-1)
            coords = [np.repeat(c, size) for c in coords]
            coords.append(np.tile(np.arange(size, dtype=np.int64), len(pos)))
            pos = new_pos
        else:
            if dim.segments is None or dim.indices is None:
                raise ConversionError("sparse tensor: a CSR dimension lacks segments or indices")
            segments = np.asarray(dim.segments, dtype=np.int64)
            indices = np.asarray(dim.indices, dtype=np.int64)
            starts = segments[pos]
            counts = segments[pos + 1] - starts
            total = int(counts.sum())
            parent = np.repeat(np.arange(len(pos)), counts)
            offsets = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
            new_pos = starts[parent] + offsets
            coords = [c[parent] for c in coords]
            coords.append(indices[new_pos])
            pos = new_pos

    n_paths = len(pos)
    flat_values = np.asarray(values).reshape(-1)
    if flat_values.size != n_paths:
        raise ConversionError(f"sparse tensor: expected {n_paths} stored values, got {flat_values.size}")
    orig = [np.zeros(n_paths, dtype=np.int64) for _ in range(rank)]
    for level in range(rank):
        orig[order[level]] = coords[level]
    for level in range(rank, levels):
        block_dim = order[level] - rank
        orig_dim = sparsity.block_map[block_dim]
        orig[orig_dim] = orig[orig_dim] * block_sizes[block_dim] + coords[level]
    dense = np.zeros(dense_shape, dtype=flat_values.dtype)
    dense[tuple(orig)] = flat_values
    return dense
