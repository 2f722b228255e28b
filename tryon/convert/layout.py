"""Layout bookkeeping for NHWC→NCHW propagation.

Every converted tensor carries a permutation ``perm`` such that
``onnx_value == tflite_value.transpose(perm)``. TFLite is channels-last; ONNX convolutions are
channels-first. Ops that care about layout ask for the one they need; layout-agnostic ops
(elementwise, pad, mean, slice, concat) keep whatever layout their input already has, so a
chain of convolutions and elementwise ops needs no Transpose at all.
"""

from __future__ import annotations

from collections.abc import Sequence

Perm = tuple[int, ...]


def identity(rank: int) -> Perm:
    return tuple(range(rank))


def channels_first(rank: int) -> Perm:
    """Permutation taking a channels-last tensor of ``rank`` to channels-first."""
    if rank < 3:
        return identity(rank)
    return (0, rank - 1, *range(1, rank - 1))


def is_identity(perm: Perm) -> bool:
    return all(i == p for i, p in enumerate(perm))


def relative(src: Perm, dst: Perm) -> Perm:
    """The Transpose ``perm`` attribute that turns a value stored as ``src`` into ``dst``."""
    return tuple(src.index(d) for d in dst)


def permute_shape(shape: Sequence[int], perm: Perm) -> tuple[int, ...]:
    return tuple(int(shape[p]) for p in perm)


def onnx_axis(tfl_axis: int, perm: Perm) -> int:
    """Axis of the ONNX value that holds TFLite axis ``tfl_axis``."""
    rank = len(perm)
    return perm.index(tfl_axis % rank)


def is_memory_noop(src_shape: Sequence[int], rel: Perm) -> bool:
    """True when transposing by ``rel`` only moves axes of size 1 (a Reshape does the same)."""
    moved = [a for a in rel if src_shape[a] != 1]
    return moved == sorted(moved)


def reduce_perm(perm: Perm, reduced_tfl_axes: Sequence[int]) -> Perm:
    """Layout of the result of reducing (without keepdims) ``reduced_tfl_axes`` of a value in ``perm``."""
    reduced = {a % len(perm) for a in reduced_tfl_axes}
    kept_tfl = [a for a in range(len(perm)) if a not in reduced]
    renumber = {a: i for i, a in enumerate(kept_tfl)}
    return tuple(renumber[p] for p in perm if p not in reduced)
