"""Selfie segmentation (the model with MediaPipe's custom transposed convolution) against the
mediapipe 0.10.14 solution that runs the TFLite original, on the astronaut and transforms of it.

MediaPipe's graph (selfie_segmentation_cpu): the whole frame stretched to the model input
(no letterbox), values in [0, 1], the model's sigmoid output resized back to the frame.
Tolerances: mask IoU at 0.5 ≥ 0.99 and mean absolute difference ≤ 0.01.
"""

from __future__ import annotations

from collections.abc import Iterator

import cv2
import numpy as np
import onnxruntime as ort
import pytest
from numpy.typing import NDArray

from tryon.runtime.store import ModelStore


def transforms(img: NDArray[np.uint8]) -> Iterator[tuple[str, NDArray[np.uint8]]]:
    h, w = img.shape[:2]
    yield "original", img
    for angle in (-30, 20):
        m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
        yield f"rot{angle}", cv2.warpAffine(img, m, (w, h), borderMode=cv2.BORDER_REFLECT)
    m = cv2.getRotationMatrix2D((w / 2, h / 2), 0, 0.7)
    m[:, 2] += (40, 30)
    yield "scale0.7-shift", cv2.warpAffine(img, m, (w, h), borderMode=cv2.BORDER_CONSTANT)
    yield "dark", (img.astype(np.float32) * 0.55).astype(np.uint8)
    yield "landscape", cv2.copyMakeBorder(img, 0, 0, 192, 192, cv2.BORDER_CONSTANT, value=(60, 90, 120))


def onnx_mask(sess: ort.InferenceSession, img: NDArray[np.uint8]) -> NDArray[np.float32]:
    _, th, tw, _ = sess.get_inputs()[0].shape
    h, w = img.shape[:2]
    # MediaPipe's ImageToTensor maps the ROI's corners onto the tensor's corners (x_src = x_dst ·
    # W / tw, no half-pixel offset) and samples bilinearly, zero outside.
    to_src = np.array([[w / tw, 0, 0], [0, h / th, 0]], dtype=np.float64)
    x = (
        cv2.warpAffine(
            img,
            to_src,
            (tw, th),
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_CONSTANT,
        ).astype(np.float32)
        / 255.0
    )
    out = sess.run(None, {sess.get_inputs()[0].name: x[None]})[0][0, :, :, 0]
    return cv2.resize(out, (img.shape[1], img.shape[0]), interpolation=cv2.INTER_LINEAR)


@pytest.mark.parametrize(
    ("model_selection", "name"), [(0, "selfie_segmentation"), (1, "selfie_segmentation_landscape")]
)
def test_selfie_segmentation_matches_mediapipe(
    model_selection: int, name: str, store: ModelStore, astronaut: NDArray[np.uint8]
) -> None:
    import mediapipe as mp

    so = ort.SessionOptions()
    so.log_severity_level = 3
    sess = ort.InferenceSession(str(store.path(name)), so, providers=["CPUExecutionProvider"])
    with mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=model_selection) as seg:
        for label, img in transforms(astronaut):
            want = seg.process(img).segmentation_mask
            got = onnx_mask(sess, img)
            assert got.shape == want.shape
            a, b = got > 0.5, want > 0.5
            iou = np.logical_and(a, b).sum() / max(1, np.logical_or(a, b).sum())
            mad = float(np.abs(got - want).mean())
            assert iou >= 0.99, f"{label}: IoU {iou:.4f}"
            assert mad <= 0.01, f"{label}: mean abs diff {mad:.4f}"
