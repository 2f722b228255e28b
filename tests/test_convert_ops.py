"""Per-operator parity: one-op TFLite models run by LiteRT against our ONNX conversion.

Tolerance everywhere: max |onnx − tflite| ≤ 1e-4 × max(1, max |tflite|). Every case runs with
and without the CPU-friendly lowerings (``cpu_friendly``), which must not change results.
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray
from tflite_builder import TFLiteBuilder, assert_parity, run_litert, run_onnx

from tryon.errors import ConversionError

SAME, VALID = 0, 1
NONE, RELU, RELU_N1_TO_1, RELU6 = 0, 1, 2, 3

lowering = pytest.mark.parametrize("cpu_friendly", [True, False], ids=["lowered", "plain"])


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def rand(shape: tuple[int, ...], seed: int = 0, lo: float = -1.0, hi: float = 1.0) -> NDArray[np.float32]:
    return (rng(seed).random(shape, dtype=np.float32) * (hi - lo) + lo).astype(np.float32)


def check(
    b: TFLiteBuilder,
    inputs: list[int],
    outputs: list[int],
    feeds: list[NDArray[np.float32]],
    cpu_friendly: bool = True,
) -> Any:
    model = b.build(inputs, outputs)
    want = run_litert(model, feeds)
    got, result = run_onnx(model, feeds, cpu_friendly=cpu_friendly)
    assert_parity(got, want)
    return result


def conv_options(padding: int, stride: int, act: int, dilation: int = 1) -> tuple[str, dict[str, int]]:
    return (
        "Conv2DOptions",
        {
            "Padding": padding,
            "StrideW": stride,
            "StrideH": stride,
            "FusedActivationFunction": act,
            "DilationWFactor": dilation,
            "DilationHFactor": dilation,
        },
    )


@lowering
@pytest.mark.parametrize(
    ("size", "kernel", "stride", "padding", "act", "c_out"),
    [
        (9, 3, 1, SAME, NONE, 4),
        (9, 3, 2, SAME, RELU, 5),
        (10, 3, 2, SAME, RELU6, 8),
        (10, 5, 2, VALID, RELU_N1_TO_1, 3),
        (8, 1, 1, VALID, NONE, 16),
        (16, 3, 1, SAME, NONE, 1),  # one output channel: the depthwise + channel-sum lowering
    ],
)
def test_conv_2d(
    size: int, kernel: int, stride: int, padding: int, act: int, c_out: int, cpu_friendly: bool
) -> None:
    b = TFLiteBuilder()
    c_in = 3
    x = b.tensor([1, size, size, c_in])
    w = b.const(rand((c_out, kernel, kernel, c_in), 1))
    bias = b.const(rand((c_out,), 2))
    out = -(-size // stride) if padding == SAME else (size - kernel) // stride + 1
    y = b.tensor([1, out, out, c_out])
    b.op("CONV_2D", [x, w, bias], [y], conv_options(padding, stride, act))
    result = check(b, [x], [y], [rand((1, size, size, c_in), 3, -3, 3)], cpu_friendly)
    # The input's transpose, and the output's (a plain Reshape when one channel): none inside.
    assert result.transpose_count == (1 if c_out == 1 else 2)


@settings(max_examples=12, deadline=None)
@given(
    h=st.integers(3, 12),
    w=st.integers(3, 12),
    k=st.sampled_from([1, 2, 3, 5]),
    stride=st.integers(1, 3),
    dilation=st.integers(1, 2),
    same=st.booleans(),
)
def test_conv_2d_shapes(h: int, w: int, k: int, stride: int, dilation: int, same: bool) -> None:
    if dilation > 1 and stride > 1:
        stride = 1  # TFLite requires stride 1 with dilation
    eff = (k - 1) * dilation + 1
    if not same and eff > min(h, w):
        return
    b = TFLiteBuilder()
    x = b.tensor([1, h, w, 2])
    wt = b.const(rand((3, k, k, 2), 5))
    bias = b.const(rand((3,), 6))
    oh = -(-h // stride) if same else (h - eff) // stride + 1
    ow = -(-w // stride) if same else (w - eff) // stride + 1
    y = b.tensor([1, oh, ow, 3])
    b.op("CONV_2D", [x, wt, bias], [y], conv_options(SAME if same else VALID, stride, NONE, dilation))
    check(b, [x], [y], [rand((1, h, w, 2), 7)])


@lowering
@pytest.mark.parametrize(("stride", "padding", "multiplier"), [(1, SAME, 1), (2, SAME, 1), (2, VALID, 2)])
def test_depthwise_conv_2d(stride: int, padding: int, multiplier: int, cpu_friendly: bool) -> None:
    b = TFLiteBuilder()
    c, size, k = 4, 11, 3
    x = b.tensor([1, size, size, c])
    w = b.const(rand((1, k, k, c * multiplier), 1))
    bias = b.const(rand((c * multiplier,), 2))
    out = -(-size // stride) if padding == SAME else (size - k) // stride + 1
    y = b.tensor([1, out, out, c * multiplier])
    b.op(
        "DEPTHWISE_CONV_2D",
        [x, w, bias],
        [y],
        (
            "DepthwiseConv2DOptions",
            {
                "Padding": padding,
                "StrideW": stride,
                "StrideH": stride,
                "DepthMultiplier": multiplier,
                "FusedActivationFunction": RELU6,
                "DilationWFactor": 1,
                "DilationHFactor": 1,
            },
        ),
    )
    check(b, [x], [y], [rand((1, size, size, c), 3, -4, 4)], cpu_friendly)


@lowering
@pytest.mark.parametrize(("op", "table"), [("ADD", "AddOptions"), ("MUL", "MulOptions")])
@pytest.mark.parametrize("act", [NONE, RELU, RELU6])
@pytest.mark.parametrize("other_shape", [(1, 6, 5, 4), (4,), (1, 1, 1, 4)])
def test_binary(op: str, table: str, act: int, other_shape: tuple[int, ...], cpu_friendly: bool) -> None:
    b = TFLiteBuilder()
    a = b.tensor([1, 6, 5, 4])
    # Put `a` in channels-first first (as in a real model), then combine with the other operand.
    conv_out = b.tensor([1, 6, 5, 4])
    b.op(
        "CONV_2D",
        [a, b.const(rand((4, 1, 1, 4), 9)), b.const(np.zeros(4, np.float32))],
        [conv_out],
        conv_options(SAME, 1, NONE),
    )
    inputs = [a]
    feeds = [rand((1, 6, 5, 4), 1, -8, 8)]
    if len(other_shape) == 4 and other_shape[1] > 1:
        other = b.tensor(list(other_shape))
        inputs.append(other)
        feeds.append(rand(other_shape, 2, -8, 8))
    else:
        other = b.const(rand(other_shape, 2, -2, 2))
    y = b.tensor([1, 6, 5, 4])
    b.op(op, [conv_out, other], [y], (table, {"FusedActivationFunction": act}))
    check(b, inputs, [y], feeds, cpu_friendly)


@lowering
@pytest.mark.parametrize("op", ["RELU", "LOGISTIC", "HARD_SWISH", "RELU6", "TANH"])
@pytest.mark.parametrize("shape", [(1, 5, 7, 3), (2, 9)])
def test_unary(op: str, shape: tuple[int, ...], cpu_friendly: bool) -> None:
    b = TFLiteBuilder()
    x = b.tensor(list(shape))
    y = b.tensor(list(shape))
    options = {"HARD_SWISH": ("HardSwishOptions", {})}.get(op)
    b.op(op, [x], [y], options)
    check(b, [x], [y], [rand(shape, 1, -8, 8)], cpu_friendly)


@lowering
@pytest.mark.parametrize("alpha_range", [(0.0, 0.9), (-0.5, 2.5)], ids=["alpha<=1", "alpha>1"])
def test_prelu(alpha_range: tuple[float, float], cpu_friendly: bool) -> None:
    b = TFLiteBuilder()
    x = b.tensor([1, 6, 6, 8])
    conv_out = b.tensor([1, 6, 6, 8])
    b.op(
        "CONV_2D",
        [x, b.const(rand((8, 3, 3, 8), 4)), b.const(rand((8,), 5))],
        [conv_out],
        conv_options(SAME, 1, NONE),
    )
    alpha = b.const(rand((1, 1, 8), 2, *alpha_range))
    y = b.tensor([1, 6, 6, 8])
    b.op("PRELU", [conv_out, alpha], [y])
    result = check(b, [x], [y], [rand((1, 6, 6, 8), 1, -3, 3)], cpu_friendly)
    assert ("PRelu" in result.onnx_ops) == (not cpu_friendly)


@lowering
@pytest.mark.parametrize(
    ("op", "kernel", "stride", "padding"),
    [
        ("MAX_POOL_2D", 2, 2, VALID),
        ("MAX_POOL_2D", 3, 2, SAME),
        ("AVERAGE_POOL_2D", 3, 1, SAME),
        ("AVERAGE_POOL_2D", 2, 2, VALID),
    ],
)
def test_pool(op: str, kernel: int, stride: int, padding: int, cpu_friendly: bool) -> None:
    b = TFLiteBuilder()
    size = 9
    x = b.tensor([1, size, size, 5])
    out = -(-size // stride) if padding == SAME else (size - kernel) // stride + 1
    y = b.tensor([1, out, out, 5])
    b.op(
        op,
        [x],
        [y],
        (
            "Pool2DOptions",
            {
                "Padding": padding,
                "StrideW": stride,
                "StrideH": stride,
                "FilterWidth": kernel,
                "FilterHeight": kernel,
                "FusedActivationFunction": NONE,
            },
        ),
    )
    check(b, [x], [y], [rand((1, size, size, 5), 1, -5, 5)], cpu_friendly)


@pytest.mark.parametrize(("axes", "keep"), [([1, 2], True), ([1, 2], False), ([3], True), ([2], False)])
def test_mean(axes: list[int], keep: bool) -> None:
    b = TFLiteBuilder()
    shape = (1, 6, 7, 5)
    x = b.tensor(list(shape))
    out_shape = (
        [1 if i in axes else s for i, s in enumerate(shape)]
        if keep
        else [s for i, s in enumerate(shape) if i not in axes]
    )
    y = b.tensor(out_shape)
    b.op("MEAN", [x, b.const(np.asarray(axes, np.int32))], [y], ("ReducerOptions", {"KeepDims": keep}))
    check(b, [x], [y], [rand(shape, 1)])


@lowering
@pytest.mark.parametrize(
    "pads",
    [[[0, 0], [1, 2], [2, 1], [0, 0]], [[0, 0], [0, 0], [0, 0], [0, 4]], [[0, 0], [0, 0], [0, 0], [2, 3]]],
    ids=["spatial", "channels", "both-ends"],
)
def test_pad(pads: list[list[int]], cpu_friendly: bool) -> None:
    b = TFLiteBuilder()
    shape = (1, 5, 6, 4)
    x = b.tensor(list(shape))
    conv_out = b.tensor(list(shape))
    b.op(
        "CONV_2D",
        [x, b.const(rand((4, 1, 1, 4), 3)), b.const(np.zeros(4, np.float32))],
        [conv_out],
        conv_options(SAME, 1, NONE),
    )
    out = [s + p[0] + p[1] for s, p in zip(shape, pads, strict=True)]
    y = b.tensor(out)
    b.op("PAD", [conv_out, b.const(np.asarray(pads, np.int32))], [y])
    check(b, [x], [y], [rand(shape, 1)], cpu_friendly)


def test_reshape_and_concat_of_detector_heads() -> None:
    # The detector pattern: two conv heads, each reshaped to [1, anchors, values], concatenated.
    b = TFLiteBuilder()
    x = b.tensor([1, 8, 8, 3])
    heads = []
    for i, (size, stride) in enumerate([(8, 1), (4, 2)]):
        h = b.tensor([1, size, size, 12])
        b.op(
            "CONV_2D",
            [x, b.const(rand((12, 3, 3, 3), i)), b.const(rand((12,), i + 5))],
            [h],
            conv_options(SAME, stride, NONE),
        )
        r = b.tensor([1, size * size * 2, 6])
        b.op(
            "RESHAPE",
            [h, b.const(np.asarray([1, size * size * 2, 6], np.int32))],
            [r],
            ("ReshapeOptions", {}),
        )
        heads.append(r)
    y = b.tensor([1, 160, 6])
    b.op("CONCATENATION", heads, [y], ("ConcatenationOptions", {"Axis": 1, "FusedActivationFunction": NONE}))
    result = check(b, [x], [y], [rand((1, 8, 8, 3), 1)])
    assert result.transpose_count == 3  # the input, and one per head before its reshape


@pytest.mark.parametrize("axis", [3, -1, 1])
def test_concatenation_channels_first(axis: int) -> None:
    b = TFLiteBuilder()
    x = b.tensor([1, 4, 5, 3])
    parts = []
    for i in range(2):
        p = b.tensor([1, 4, 5, 3])
        b.op(
            "CONV_2D",
            [x, b.const(rand((3, 1, 1, 3), i)), b.const(rand((3,), i))],
            [p],
            conv_options(SAME, 1, NONE),
        )
        parts.append(p)
    shape = [1, 4, 5, 3]
    shape[axis] *= 2
    y = b.tensor(shape)
    b.op(
        "CONCATENATION", parts, [y], ("ConcatenationOptions", {"Axis": axis, "FusedActivationFunction": NONE})
    )
    check(b, [x], [y], [rand((1, 4, 5, 3), 1)])


def test_concatenation_with_fused_activation_is_rejected() -> None:
    # TFLite's float CONCATENATION kernel rejects a fused activation (XNNPACK silently ignores
    # it): refuse to guess, name the operator.
    b = TFLiteBuilder()
    x = b.tensor([1, 2, 2, 3])
    y = b.tensor([1, 2, 2, 6])
    b.op("CONCATENATION", [x, x], [y], ("ConcatenationOptions", {"Axis": 3, "FusedActivationFunction": RELU}))
    with pytest.raises(ConversionError, match=r"CONCATENATION.*fused activation"):
        run_onnx(b.build([x], [y]), [rand((1, 2, 2, 3))])


@pytest.mark.parametrize(("align_corners", "half_pixel"), [(False, True), (True, False), (False, False)])
@pytest.mark.parametrize(("src", "dst"), [((4, 5), (8, 10)), ((6, 6), (9, 4)), ((7, 3), (7, 3))])
def test_resize_bilinear(
    align_corners: bool, half_pixel: bool, src: tuple[int, int], dst: tuple[int, int]
) -> None:
    b = TFLiteBuilder()
    x = b.tensor([1, *src, 3])
    y = b.tensor([1, *dst, 3])
    b.op(
        "RESIZE_BILINEAR",
        [x, b.const(np.asarray(dst, np.int32))],
        [y],
        ("ResizeBilinearOptions", {"AlignCorners": align_corners, "HalfPixelCenters": half_pixel}),
    )
    check(b, [x], [y], [rand((1, *src, 3), 1)])


@pytest.mark.parametrize("block", [2, 3])
def test_depth_to_space(block: int) -> None:
    b = TFLiteBuilder()
    c = 2 * block * block
    x = b.tensor([1, 3, 4, c])
    y = b.tensor([1, 3 * block, 4 * block, 2])
    b.op("DEPTH_TO_SPACE", [x], [y], ("DepthToSpaceOptions", {"BlockSize": block}))
    check(b, [x], [y], [rand((1, 3, 4, c), 1)])


@pytest.mark.parametrize("act", [NONE, RELU])
@pytest.mark.parametrize("in_shape", [(1, 12), (1, 2, 2, 3)])
def test_fully_connected(act: int, in_shape: tuple[int, ...]) -> None:
    b = TFLiteBuilder()
    n_in = int(np.prod(in_shape[1:]))
    x = b.tensor(list(in_shape))
    y = b.tensor([1, 7])
    b.op(
        "FULLY_CONNECTED",
        [x, b.const(rand((7, n_in), 1)), b.const(rand((7,), 2))],
        [y],
        ("FullyConnectedOptions", {"FusedActivationFunction": act, "KeepNumDims": False}),
    )
    check(b, [x], [y], [rand(in_shape, 3)])


@pytest.mark.parametrize(
    ("begin", "end", "strides", "begin_mask", "end_mask", "shrink", "out_shape"),
    [
        ([0, 1, 0, 0], [1, 5, 6, 2], [1, 1, 1, 1], 0, 0, 0, [1, 4, 6, 2]),
        ([0, 0, 0, 1], [1, 6, 6, 4], [1, 2, 3, 1], 0b0111, 0b0111, 0, [1, 3, 2, 3]),
        ([0, -3, 0, 0], [1, -1, 6, 4], [1, 1, 1, 1], 0, 0, 0, [1, 2, 6, 4]),
        ([0, 0, 2, 0], [1, 6, 3, 4], [1, 1, 1, 1], 0, 0b1011, 0b0100, [1, 6, 4]),
        ([0, 5, 0, 0], [1, 0, 6, 4], [1, -2, 1, 1], 0, 0, 0, [1, 3, 6, 4]),
    ],
)
def test_strided_slice(
    begin: list[int],
    end: list[int],
    strides: list[int],
    begin_mask: int,
    end_mask: int,
    shrink: int,
    out_shape: list[int],
) -> None:
    b = TFLiteBuilder()
    x = b.tensor([1, 6, 6, 4])
    conv_out = b.tensor([1, 6, 6, 4])  # a channels-first producer: the slice must map its axes
    b.op(
        "CONV_2D",
        [x, b.const(rand((4, 1, 1, 4), 3)), b.const(np.zeros(4, np.float32))],
        [conv_out],
        conv_options(SAME, 1, NONE),
    )
    y = b.tensor(out_shape)
    consts = [b.const(np.asarray(v, np.int32)) for v in (begin, end, strides)]
    b.op(
        "STRIDED_SLICE",
        [conv_out, *consts],
        [y],
        ("StridedSliceOptions", {"BeginMask": begin_mask, "EndMask": end_mask, "ShrinkAxisMask": shrink}),
    )
    check(b, [x], [y], [rand((1, 6, 6, 4), 1)])


def test_dequantize_float16_weights_are_folded() -> None:
    b = TFLiteBuilder()
    x = b.tensor([1, 6, 6, 3])
    w16 = b.const(rand((4, 3, 3, 3), 1).astype(np.float16))
    w32 = b.tensor([4, 3, 3, 3])
    b.op("DEQUANTIZE", [w16], [w32])
    y = b.tensor([1, 6, 6, 4])
    b.op("CONV_2D", [x, w32, b.const(rand((4,), 2))], [y], conv_options(SAME, 1, NONE))
    result = check(b, [x], [y], [rand((1, 6, 6, 3), 3)])
    assert "Cast" not in result.onnx_ops  # folded to a float32 initializer, no runtime cast
    init = {t.name: t for t in result.model.graph.initializer}
    assert all(t.data_type == 1 for t in init.values() if len(t.dims) == 4)


def _transpose_conv_model(
    custom: bool, size: int, k: int, stride: int, padding: int, c_in: int = 4, c_out: int = 2
) -> tuple[bytes, int]:
    b = TFLiteBuilder()
    x = b.tensor([1, size, size, c_in])
    w = b.const(rand((c_out, k, k, c_in), 1))
    bias = b.const(rand((c_out,), 2))
    out = size * stride if padding == SAME else (size - 1) * stride + k
    y = b.tensor([1, out, out, c_out])
    if custom:
        c_padding = {SAME: 1, VALID: 2}[padding]
        b.op(
            "CUSTOM",
            [x, w, bias],
            [y],
            custom_code="Convolution2DTransposeBias",
            custom_options=struct.pack("<iii", c_padding, stride, stride),
        )
    else:
        shape = b.const(np.asarray([1, out, out, c_out], np.int32))
        b.op(
            "TRANSPOSE_CONV",
            [shape, w, x, bias],
            [y],
            ("TransposeConvOptions", {"Padding": padding, "StrideW": stride, "StrideH": stride}),
        )
    return b.build([x], [y]), out


def _transpose_conv_reference(
    x: NDArray[np.float32],
    w: NDArray[np.float32],
    bias: NDArray[np.float32],
    stride: int,
    out: int,
    padding: int,
) -> NDArray[np.float32]:
    """Scatter-add definition of a transposed convolution with TensorFlow's padding offsets."""
    _, h, wd, _ = x.shape
    c_out, k, _, _ = w.shape
    full = (h - 1) * stride + k
    y = np.zeros((1, full, full, c_out), np.float64)
    for i in range(h):
        for j in range(wd):
            contrib = np.einsum("c,okpc->kpo", x[0, i, j].astype(np.float64), w.astype(np.float64))
            y[0, i * stride : i * stride + k, j * stride : j * stride + k] += contrib
    total = max(full - out, 0) if padding == SAME else 0
    top = total // 2
    return (y[:, top : top + out, top : top + out] + bias).astype(np.float32)


@pytest.mark.parametrize(
    ("size", "k", "stride", "padding"), [(8, 2, 2, SAME), (5, 3, 2, SAME), (4, 3, 1, VALID), (6, 4, 2, SAME)]
)
def test_convolution_2d_transpose_bias_handler(size: int, k: int, stride: int, padding: int) -> None:
    """MediaPipe's custom op, checked against its definition and against TFLite's TRANSPOSE_CONV."""
    x = rand((1, size, size, 4), 3)
    custom, out = _transpose_conv_model(True, size, k, stride, padding)
    got, result = run_onnx(custom, [x])
    assert "ConvTranspose" in result.onnx_ops
    w = rand((2, k, k, 4), 1)
    bias = rand((2,), 2)
    want = _transpose_conv_reference(x, w, bias, stride, out, padding)
    assert_parity(got, [want])
    builtin, _ = _transpose_conv_model(False, size, k, stride, padding)
    assert_parity(got, run_litert(builtin, [x]))
    # LiteRT's XNNPACK delegate also runs this custom op: compare with it directly.
    assert_parity(got, run_litert(custom, [x]))
