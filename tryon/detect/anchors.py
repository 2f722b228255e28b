"""SSD anchor centres, as MediaPipe's SsdAnchorsCalculator generates them (fixed anchor size)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class AnchorOptions:
    input_width: int
    input_height: int
    strides: tuple[int, ...]
    aspect_ratios: tuple[float, ...] = (1.0,)
    interpolated_scale_aspect_ratio: float = 1.0
    offset_x: float = 0.5
    offset_y: float = 0.5


def generate_anchors(o: AnchorOptions) -> NDArray[np.float32]:
    """``(N, 2)`` anchor centres in normalised tensor coordinates (w = h = 1 for every anchor).

    Consecutive layers with the same stride share one feature map; each layer contributes
    ``len(aspect_ratios)`` anchors per cell plus one when the interpolated scale is used.
    """
    per_layer = len(o.aspect_ratios) + (1 if o.interpolated_scale_aspect_ratio > 0 else 0)
    centres: list[NDArray[np.float32]] = []
    i = 0
    while i < len(o.strides):
        stride = o.strides[i]
        count = 0
        while i < len(o.strides) and o.strides[i] == stride:
            count += per_layer
            i += 1
        fh = math.ceil(o.input_height / stride)
        fw = math.ceil(o.input_width / stride)
        ys, xs = np.meshgrid(np.arange(fh), np.arange(fw), indexing="ij")
        grid = np.stack([(xs + o.offset_x) / fw, (ys + o.offset_y) / fh], axis=-1).reshape(-1, 1, 2)
        centres.append(np.repeat(grid, count, axis=1).reshape(-1, 2).astype(np.float32))
    return np.concatenate(centres, axis=0)
