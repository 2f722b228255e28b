"""Pose landmarks (33 body points + 2 auxiliary ROI points, world points, person mask) on
``pose_landmark_full``.

The model stage is :class:`PoseLandmarkModel` with one typed per-frame method, :meth:`run`; the
pre/post-processing of MediaPipe's pose graphs (detection → ROI, 256×256 letterboxed crop, decoding,
heatmap refinement, projection, mask back-projection, landmarks → next-frame ROI) are pure numpy
functions beside it. Numbers follow ``docs/mediapipe-params.md`` §4, §7 and §8.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from tryon.detect.ssd import Detection
from tryon.errors import InputError, ModelError
from tryon.frame import Frame
from tryon.geometry import (
    Roi,
    apply_affine,
    crop,
    letterbox,
    remove_letterbox,
    roi_from_alignment,
    tensor_to_image,
    to_tensor,
)
from tryon.runtime.session import OnnxModel
from tryon.timing import step

INPUT_SIZE = 256
NUM_LANDMARKS = 39
"""What the model outputs: 33 body landmarks, 2 auxiliary (ROI) points, 4 unused."""
BODY_LANDMARKS = 33
AUX = (33, 34)
"""Auxiliary landmarks: the hip centre and the point that encodes the body's size and rotation."""
TARGET_ANGLE = math.pi / 2
ROI_SCALE = 1.25
HEATMAP_KERNEL = 9
"""MediaPipe 0.10.14 refines as if ``kernel_size`` were 9, not the 7 its graph sets (doc §7)."""
MIN_REFINE_CONFIDENCE = 0.5
_VALUE_RANGE = (0.0, 1.0)
_EXPECTED_OUTPUTS = (
    (1, NUM_LANDMARKS * 5),  # landmarks: x, y, z, visibility logit, presence logit (256-px units)
    (1, 1),  # pose flag (a probability)
    (1, INPUT_SIZE, INPUT_SIZE, 1),  # segmentation logits
    (1, 64, 64, NUM_LANDMARKS),  # heatmap logits, HWC
    (1, NUM_LANDMARKS * 3),  # world landmarks, metres
)
MASK_OUTPUT = 2
WITHOUT_MASK = tuple(i for i in range(len(_EXPECTED_OUTPUTS)) if i != MASK_OUTPUT)
"""The outputs to load when no person mask is wanted: the mask's decoder is half the model's
time on CPU (8.4 → 4.5 ms at 2 threads), and ONNX Runtime runs it unless it is pruned away."""


def _sigmoid(x: NDArray[np.floating]) -> NDArray[np.float32]:
    with np.errstate(over="ignore"):
        return (1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64)))).astype(np.float32)


@dataclass(frozen=True)
class PoseLandmarkOutput:
    """One pose-landmark inference on one ROI, in image pixels."""

    landmarks: NDArray[np.float32]
    """``(39, 3)``: x, y in pixels, z in pixels (relative to the hips, smaller is nearer).
    Rows 0–32 are the body, 33–34 the auxiliary ROI points, 35–38 unused."""
    visibility: NDArray[np.float32]
    """``(39,)`` probability that each landmark is visible (not occluded)."""
    presence: NDArray[np.float32]
    """``(39,)`` probability that each landmark is inside the image."""
    world: NDArray[np.float32]
    """``(39, 3)`` metres, origin between the hips, rotated by the ROI rotation."""
    score: float
    """Pose flag: probability that a person is in the ROI."""
    roi: Roi
    """The ROI the model ran on (before letterboxing)."""
    mask: NDArray[np.float32] | None = None
    """Person probability ``(H, W)`` in [0, 1] at frame size, when requested."""

    def __post_init__(self) -> None:
        for name, arr, shape in (
            ("landmarks", self.landmarks, (NUM_LANDMARKS, 3)),
            ("visibility", self.visibility, (NUM_LANDMARKS,)),
            ("presence", self.presence, (NUM_LANDMARKS,)),
            ("world", self.world, (NUM_LANDMARKS, 3)),
        ):
            if arr.dtype != np.float32 or arr.shape != shape:
                raise InputError(
                    f"PoseLandmarkOutput.{name}: expected float32 {shape}, got {arr.dtype} {arr.shape}"
                )
        if self.mask is not None and (self.mask.dtype != np.float32 or self.mask.ndim != 2):
            raise InputError(
                f"PoseLandmarkOutput.mask: expected a float32 (H, W) array, got "
                f"{self.mask.dtype} {self.mask.shape}"
            )

    @property
    def aux(self) -> NDArray[np.float32]:
        """``(2, 2)`` pixel positions of the auxiliary landmarks (the next-frame ROI's points)."""
        return self.landmarks[list(AUX), :2]


# ---- ROIs ---------------------------------------------------------------------------------------


def alignment_roi(center: NDArray[np.floating], scale_point: NDArray[np.floating]) -> Roi:
    """MediaPipe's pose ROI: a square on ``center`` (side 2·|scale − centre|), rotated so that
    centre → scale point points up, ×1.25."""
    return roi_from_alignment(center, scale_point, TARGET_ANGLE).transformed(
        scale=ROI_SCALE, square_long=True
    )


def detection_to_roi(detection: Detection) -> Roi:
    """Pose detection → landmark ROI: centre keypoint 0 (mid-hip), scale keypoint 1."""
    kp = detection.keypoints
    return alignment_roi(kp[0], kp[1])


def aux_object_scale(aux: NDArray[np.floating]) -> float:
    """Smoothing object scale: the mean side of the alignment rect of the two auxiliary points
    (no ×1.25), i.e. 2·|aux1 − aux0| pixels."""
    a = np.asarray(aux, dtype=np.float64)
    return 2.0 * float(np.hypot(*(a[1, :2] - a[0, :2])))


# ---- pre/post-processing -----------------------------------------------------------------------


def preprocess(
    frame: Frame, roi: Roi, size: int = INPUT_SIZE, exact: bool = True
) -> tuple[NDArray[np.float32], Roi, tuple[float, float, float, float]]:
    """Letterboxed ``size``×``size`` crop of ``roi`` (border replicated), values in [0, 1].

    Returns the ``(1, size, size, 3)`` tensor, the padded ROI it samples and the letterbox padding.
    ``exact`` samples bit for bit as MediaPipe (:func:`tryon.geometry.crop_exact`): this model's
    output moves by a few percent of the shoulder width for a half-pixel change of its input.
    """
    padded, padding = letterbox(roi, size, size)
    image = crop(frame, padded, size, size, border=cv2.BORDER_REPLICATE, exact=exact)
    return to_tensor(image, _VALUE_RANGE), padded, padding


def decode_landmarks(raw: NDArray[np.floating], size: int = INPUT_SIZE) -> NDArray[np.float32]:
    """Raw ``(..., 39·5)`` → ``(39, 5)``: x, y, z divided by ``size`` (normalised to the tensor),
    visibility and presence turned from logits to probabilities."""
    values = np.asarray(raw, dtype=np.float32).reshape(-1)
    if values.size % 5:
        raise InputError(f"pose landmarks: expected a multiple of 5 values, got {values.size}")
    lm = values.reshape(-1, 5).copy()
    lm[:, :3] /= np.float32(size)
    lm[:, 3:] = _sigmoid(lm[:, 3:])
    return lm


def refine_from_heatmap(
    xy: NDArray[np.floating],
    heatmap: NDArray[np.floating],
    kernel_size: int = HEATMAP_KERNEL,
    min_confidence: float = MIN_REFINE_CONFIDENCE,
) -> NDArray[np.float32]:
    """MediaPipe's RefineLandmarksFromHeatmap on normalised tensor coordinates ``(N, 2)``.

    ``heatmap`` is ``(h, w, N)`` logits. For each landmark, the cell under it (truncated toward
    zero) centres a ``kernel_size`` window clipped to the heatmap; with ``conf = sigmoid(logit)``,
    if the window's max conf ≥ ``min_confidence`` the point becomes the conf-weighted mean of the
    cell indices divided by the heatmap size (no half-cell offset). As in MediaPipe, a point is
    skipped when its column is outside the heatmap or its row is negative; a row past the bottom
    is *not* skipped (the window is clipped, and refines only if a few rows remain).
    """
    hm = np.asarray(heatmap, dtype=np.float32)
    h, w, n = hm.shape
    pts = np.asarray(xy, dtype=np.float32)
    if pts.shape != (n, 2):
        raise InputError(f"heatmap refinement: expected points of shape {(n, 2)}, got {pts.shape}")
    out = pts.copy()
    finite = np.all(np.isfinite(pts), axis=1) & np.all(np.abs(pts) < 1e6, axis=1)
    safe = np.where(finite[:, None], pts, -1.0)
    col = np.trunc(safe[:, 0] * np.float32(w)).astype(np.int64)
    row = np.trunc(safe[:, 1] * np.float32(h)).astype(np.int64)
    todo = finite & (col >= 0) & (col < w) & (row >= 0)
    if not np.any(todo):
        return out
    idx = np.nonzero(todo)[0]
    offsets = np.arange(kernel_size, dtype=np.int64) - (kernel_size - 1) // 2
    rows = row[idx, None] + offsets  # (M, k)
    cols = col[idx, None] + offsets
    valid = ((rows >= 0) & (rows < h))[:, :, None] & ((cols >= 0) & (cols < w))[:, None, :]
    logits = hm[np.clip(rows, 0, h - 1)[:, :, None], np.clip(cols, 0, w - 1)[:, None, :], idx[:, None, None]]
    conf = np.where(valid, _sigmoid(logits), np.float32(0.0))
    total = conf.sum(axis=(1, 2))
    best = conf.max(axis=(1, 2))
    wcol = (conf * cols[:, None, :]).sum(axis=(1, 2))
    wrow = (conf * rows[:, :, None]).sum(axis=(1, 2))
    ok = (best >= min_confidence) & (total > 0)
    safe_total = np.where(ok, total, 1.0)
    out[idx[ok], 0] = (wcol / w / safe_total)[ok]
    out[idx[ok], 1] = (wrow / h / safe_total)[ok]
    return out


def project_landmarks(
    xyz: NDArray[np.floating], roi: Roi, padding: tuple[float, float, float, float]
) -> NDArray[np.float32]:
    """Normalised letterboxed-tensor coordinates ``(N, 3)`` → image pixels.

    Letterbox removal, then the ROI's map; z is scaled like x (``z · padded ROI width``).
    """
    pts = np.asarray(xyz, dtype=np.float32)
    xy = remove_letterbox(pts[:, :2], padding)
    z = pts[:, 2] / np.float32(1.0 - padding[0] - padding[2])
    out = np.empty((pts.shape[0], 3), dtype=np.float32)
    out[:, :2] = apply_affine(tensor_to_image(roi, 1, 1), xy)
    out[:, 2] = z * np.float32(roi.width)
    return out


def rotate_world(world: NDArray[np.floating], rotation: float) -> NDArray[np.float32]:
    """World landmarks ``(N, 3)`` rotated in x, y by the ROI rotation (z unchanged)."""
    w = np.asarray(world, dtype=np.float64)
    c, s = math.cos(rotation), math.sin(rotation)
    out = w.copy()
    out[:, 0] = c * w[:, 0] - s * w[:, 1]
    out[:, 1] = s * w[:, 0] + c * w[:, 1]
    return out.astype(np.float32)


def mask_to_frame(
    logits: NDArray[np.floating], padded_roi: Roi, width: int, height: int
) -> NDArray[np.float32]:
    """Segmentation logits in ROI (tensor) space → person probability ``(height, width)`` in the
    frame: sigmoid, then a bilinear warp with the tensor→image map, zero outside the ROI."""
    arr = np.asarray(logits, dtype=np.float32)
    prob = _sigmoid(arr.reshape(arr.shape[-3:-1]) if arr.ndim >= 3 else arr)
    th, tw = prob.shape
    m = tensor_to_image(padded_roi, tw, th)
    out = cv2.warpAffine(
        prob, m, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0.0
    )
    return np.clip(np.asarray(out, dtype=np.float32), 0.0, 1.0)


# ---- the model stage ---------------------------------------------------------------------------


class PoseLandmarkModel:
    """Runs ``pose_landmark_full`` on one ROI of a frame and returns landmarks in pixels."""

    def __init__(
        self,
        model: OnnxModel,
        kernel_size: int = HEATMAP_KERNEL,
        min_refine_confidence: float = MIN_REFINE_CONFIDENCE,
        exact_sampling: bool = True,
    ) -> None:
        self.model = model
        self.exact_sampling = exact_sampling
        self.kernel_size = kernel_size
        self.min_refine_confidence = min_refine_confidence
        self.input_name = next(iter(model.inputs))
        shape = model.inputs[self.input_name][0]
        if tuple(shape) != (1, INPUT_SIZE, INPUT_SIZE, 3):
            raise ModelError(f"{model.name}: expected input (1, 256, 256, 3), got {tuple(shape)}")
        got = model.output_shapes
        without_mask = tuple(_EXPECTED_OUTPUTS[i] for i in WITHOUT_MASK)
        if got not in (_EXPECTED_OUTPUTS, without_mask):
            raise ModelError(
                f"{model.name}: expected outputs {_EXPECTED_OUTPUTS} (or those without the mask), got {got}"
            )
        self.has_mask = got == _EXPECTED_OUTPUTS
        """Whether the model was loaded with its person-mask head (see :data:`WITHOUT_MASK`)."""

    def run(self, frame: Frame, roi: Roi, *, mask: bool = False) -> PoseLandmarkOutput:
        """Landmarks of the person in ``roi``; with ``mask``, the person mask at frame size too."""
        if mask and not self.has_mask:
            raise InputError(
                f"{self.model.name}: a mask was asked for, but the model was loaded without its mask "
                "output (load it with every output)"
            )
        with step("crop"):
            tensor, padded, padding = preprocess(frame, roi, exact=self.exact_sampling)
        out = self.model.run({self.input_name: tensor})
        with step("decode"):
            return self._decode(frame, roi, out, padded, padding, mask)

    def _decode(
        self,
        frame: Frame,
        roi: Roi,
        out: dict[str, NDArray[np.float32]],
        padded: Roi,
        padding: tuple[float, float, float, float],
        mask: bool,
    ) -> PoseLandmarkOutput:
        values = [out[n] for n in self.model.output_names]
        if not self.has_mask:
            values.insert(MASK_OUTPUT, np.zeros((1, 1, 1, 1), np.float32))
        raw, flag, seg, heatmap, world = values
        lm = decode_landmarks(raw)
        xy = refine_from_heatmap(lm[:, :2], heatmap[0], self.kernel_size, self.min_refine_confidence)
        xyz = np.concatenate([xy, lm[:, 2:3]], axis=1)
        h, w = frame.shape[:2]
        return PoseLandmarkOutput(
            landmarks=project_landmarks(xyz, roi, padding),
            visibility=np.ascontiguousarray(lm[:, 3]),
            presence=np.ascontiguousarray(lm[:, 4]),
            world=rotate_world(world.reshape(NUM_LANDMARKS, 3), roi.rotation),
            score=float(flag.reshape(-1)[0]),
            roi=roi,
            mask=mask_to_frame(seg[0], padded, w, h) if mask else None,
        )
