"""Crop, resize and normalise as ONNX nodes in front of a landmark model: the whole frame goes in.

On a GPU the landmark stages' crop (:func:`tryon.geometry.crop`: OpenCV's bilinear warp of a
rotated ROI into the model's tensor, edges replicated) costs a host→device copy of each crop
and the CPU work; fused, the frame (``uint8``, ``(H, W, 3)``, any size) and one 2×3 affine map per
sample (tensor pixel → image pixel, :func:`tryon.geometry.tensor_to_image`) are the inputs,
and ``GridSample`` does the sampling where the model runs.

Conventions match the OpenCV path: tensor pixel ``(i, j)`` samples the image at
``affine @ (i, j, 1)`` with pixel centres at integer coordinates (``align_corners=1``),
bilinear, coordinates outside clamped to the border (``BORDER_REPLICATE``), the result rounded
to an integer level like OpenCV's ``uint8`` output, then scaled to the model's value range.
OpenCV rounds sample positions to 1/32 pixel and GridSample does not, so a few pixels differ by a
level (landmark tolerances in ``tests/test_gpu_path.py``). The samples of one call come from one
frame: the N grids are stacked along the height so the frame is read once, not copied N times.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import onnx
from numpy.typing import NDArray
from onnx import TensorProto, helper, numpy_helper

from tryon.errors import InputError, ModelError
from tryon.geometry import Roi, tensor_to_image

if TYPE_CHECKING:
    from tryon.runtime.session import OnnxModel

FRAME = "frame"
AFFINE = "affine"
PREFIX = "crop_"
VARIANT = "crop"
"""The TensorRT cache key's variant for a fused model."""


def _const(name: str, value: NDArray[Any]) -> onnx.NodeProto:
    return helper.make_node("Constant", [], [name], value=numpy_helper.from_array(value, name))


def crop_nodes(
    tensor_h: int, tensor_w: int, value_range: tuple[float, float], output: str
) -> list[onnx.NodeProto]:
    """Nodes from ``frame`` (``uint8 (H, W, 3)``) and ``affine`` (``float (N, 2, 3)``) to
    ``output`` (``float (N, tensor_h, tensor_w, 3)`` in ``value_range``)."""
    p = PREFIX
    jj, ii = np.meshgrid(np.arange(tensor_h), np.arange(tensor_w), indexing="ij")
    base = np.stack([ii.ravel(), jj.ravel(), np.ones(ii.size)], axis=1).astype(np.float32)
    lo, hi = value_range
    n = helper.make_node
    return [
        _const(p + "base", base),  # (P, 3): (i, j, 1) per tensor pixel, row-major
        _const(p + "wh_idx", np.array([1, 0], np.int64)),
        _const(p + "one", np.array(1.0, np.float32)),
        _const(p + "two", np.array(2.0, np.float32)),
        _const(p + "grid_shape", np.array([1, -1, tensor_w, 2], np.int64)),
        _const(p + "out_shape", np.array([3, -1, tensor_h, tensor_w], np.int64)),
        _const(p + "axis0", np.array([0], np.int64)),
        _const(p + "scale", np.array((hi - lo) / 255.0, np.float32)),
        _const(p + "offset", np.array(lo, np.float32)),
        # image positions (N, P, 2) = base (P, 3) @ affineᵀ (N, 3, 2)
        n("Transpose", [AFFINE], [p + "affine_t"], perm=[0, 2, 1]),
        n("MatMul", [p + "base", p + "affine_t"], [p + "pos"]),
        # normalised to [-1, 1] over pixel centres 0 .. W-1, 0 .. H-1
        n("Shape", [FRAME], [p + "hw3"]),
        n("Gather", [p + "hw3", p + "wh_idx"], [p + "wh_i"]),
        n("Cast", [p + "wh_i"], [p + "wh"], to=TensorProto.FLOAT),
        n("Sub", [p + "wh", p + "one"], [p + "wh1"]),
        n("Div", [p + "two", p + "wh1"], [p + "norm"]),
        n("Mul", [p + "pos", p + "norm"], [p + "pos_n"]),
        n("Sub", [p + "pos_n", p + "one"], [p + "grid_flat"]),
        n("Reshape", [p + "grid_flat", p + "grid_shape"], [p + "grid"]),  # (1, N*h, w, 2)
        # the frame once, as (1, 3, H, W) float
        n("Cast", [FRAME], [p + "frame_f"], to=TensorProto.FLOAT),
        n("Transpose", [p + "frame_f"], [p + "chw"], perm=[2, 0, 1]),
        n("Unsqueeze", [p + "chw", p + "axis0"], [p + "nchw"]),
        n(
            "GridSample",
            [p + "nchw", p + "grid"],
            [p + "sampled"],
            mode="bilinear",
            padding_mode="border",
            align_corners=1,
        ),
        n("Round", [p + "sampled"], [p + "levels"]),  # OpenCV's uint8 crop
        n("Reshape", [p + "levels", p + "out_shape"], [p + "cnhw"]),  # (3, N, h, w)
        n("Transpose", [p + "cnhw"], [p + "nhwc"], perm=[1, 2, 3, 0]),
        n("Mul", [p + "nhwc", p + "scale"], [p + "scaled"]),
        n("Add", [p + "scaled", p + "offset"], [output]),
    ]


def fuse_crop(model: onnx.ModelProto, value_range: tuple[float, float]) -> onnx.ModelProto:
    """``model`` (one NHWC image input with a symbolic batch) with the crop graph in front: its
    inputs become ``frame`` and ``affine``, its outputs are unchanged."""
    inits = {i.name for i in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in inits]
    if len(inputs) != 1:
        raise ModelError(f"fused crop: expected a model with one image input, got {[i.name for i in inputs]}")
    image = inputs[0]
    dims = image.type.tensor_type.shape.dim
    if len(dims) != 4 or dims[3].dim_value != 3 or not dims[1].dim_value or not dims[2].dim_value:
        raise ModelError(
            f"fused crop: expected an NHWC (N, h, w, 3) input, got {image.type.tensor_type.shape}"
        )
    batch = dims[0].dim_param or "batch"
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)
    if opset < 16:
        raise ModelError(f"fused crop: GridSample needs opset 16 or later, the model has {opset}")
    fused = onnx.ModelProto()
    fused.CopyFrom(model)
    g = fused.graph
    nodes = crop_nodes(dims[1].dim_value, dims[2].dim_value, value_range, image.name)
    taken = {o for node in g.node for o in node.output} | inits
    clash = [o for node in nodes for o in node.output if o in taken and o != image.name]
    if clash:
        raise ModelError(f"fused crop: the model already has tensors named {clash}")
    old = list(g.node)
    del g.node[:]
    g.node.extend(nodes + old)
    kept = [i for i in g.input if i.name != image.name]
    del g.input[:]
    g.input.extend(
        [
            helper.make_tensor_value_info(FRAME, TensorProto.UINT8, ["height", "width", 3]),
            helper.make_tensor_value_info(AFFINE, TensorProto.FLOAT, [batch, 2, 3]),
            *kept,
        ]
    )
    onnx.checker.check_model(fused)
    return fused


def affine_batch(maps: list[NDArray[np.float64]]) -> NDArray[np.float32]:
    """2×3 tensor→image maps (float64) as the ``affine`` input, ``float32 (N, 2, 3)``."""
    return np.ascontiguousarray(np.stack(maps), dtype=np.float32)


def crop_feeds(
    frame: NDArray[np.uint8], rois: list[Roi], tensor_w: int, tensor_h: int
) -> dict[str, NDArray[Any]]:
    """A fused model's inputs for ``rois`` of ``frame`` (what :func:`tryon.geometry.crop` samples)."""
    for roi in rois:
        if not roi.valid:
            raise InputError(f"region of interest: expected a finite, non-empty rectangle, got {roi}")
    return {FRAME: frame, AFFINE: affine_batch([tensor_to_image(r, tensor_w, tensor_h) for r in rois])}


def is_fused(model: OnnxModel) -> bool:
    """The model takes the frame and affine maps (:meth:`ModelLoader.load_cropping`)."""
    return set(model.inputs) == {FRAME, AFFINE}
