"""RESIZE_BILINEAR and RESIZE_NEAREST_NEIGHBOR, with TFLite's align_corners / half_pixel_centers."""

from __future__ import annotations

from typing import Any

from tryon.convert.graph import GraphBuilder
from tryon.convert.layout import channels_first, permute_shape
from tryon.convert.ops.common import options
from tryon.convert.registry import register
from tryon.convert.tflite_reader import Operator

CF4 = channels_first(4)


def coordinate_mode(align_corners: bool, half_pixel_centers: bool, nearest: bool) -> str:
    """ONNX Resize ``coordinate_transformation_mode`` equivalent to TFLite's two flags."""
    if align_corners:
        return "align_corners"
    if half_pixel_centers:
        return "tf_half_pixel_for_nn" if nearest else "half_pixel"
    return "asymmetric"


@register("RESIZE_BILINEAR", "RESIZE_NEAREST_NEIGHBOR")
def resize(g: GraphBuilder, op: Operator) -> None:
    o = options(g, op)
    nearest = op.opcode == "RESIZE_NEAREST_NEIGHBOR"
    out = op.outputs[0]
    src = g.get(op.inputs[0], CF4)
    sizes = g.resize_sizes(src, permute_shape(g.shape(out), CF4), "resize_sizes")
    attrs: dict[str, Any] = {
        "mode": "nearest" if nearest else "linear",
        "coordinate_transformation_mode": coordinate_mode(
            bool(o.AlignCorners()), bool(o.HalfPixelCenters()), nearest
        ),
    }
    if nearest:
        # TFLite rounds half away from zero with align_corners, floors otherwise.
        attrs["nearest_mode"] = "round_prefer_ceil" if o.AlignCorners() else "floor"
    g.emit("Resize", [src, "", "", sizes], out, CF4, **attrs)
