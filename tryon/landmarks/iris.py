"""Iris refinement: 468 face landmarks → 478 (refined eye contours plus 5 iris points per eye).

For each eye a square ROI around the two eye corners (scaled 2.3) is cropped to 64×64; the
subject's left eye is mirrored so both eyes look like the model's training eye. The model's 71
eye-contour/brow points overwrite the mesh's, and the 5 iris points of each eye are appended
(indices 468–472 around landmark 33, 473–477 around landmark 263), MediaPipe's 478 layout.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from tryon.frame import Frame
from tryon.geometry import Roi, apply_affine, crop, roi_from_box, rotation_between, tensor_to_image, to_tensor
from tryon.runtime.session import OnnxModel
from tryon.timing import step

INPUT_SIZE = 64
ROI_SCALE = 2.3
EYE_CORNERS = ((33, 133), (362, 263))
"""(outer, inner) corners of the eye around landmark 33, then of the eye around landmark 263."""

# Mesh indices written by the model's 71 eye-contour and brow points (MediaPipe's mapping).
EYE_AROUND_33 = (
    33, 7, 163, 144, 145, 153, 154, 155, 133, 246, 161, 160, 159, 158, 157, 173, 130, 25, 110, 24, 23, 22,
    26, 112, 243, 247, 30, 29, 27, 28, 56, 190, 226, 31, 228, 229, 230, 231, 232, 233, 244, 113, 225, 224,
    223, 222, 221, 189, 35, 124, 46, 53, 52, 65, 143, 111, 117, 118, 119, 120, 121, 128, 245, 156, 70, 63,
    105, 66, 107, 55, 193,
)  # fmt: skip
EYE_AROUND_263 = (
    263, 249, 390, 373, 374, 380, 381, 382, 362, 466, 388, 387, 386, 385, 384, 398, 359, 255, 339, 254,
    253, 252, 256, 341, 463, 467, 260, 259, 257, 258, 286, 414, 446, 261, 448, 449, 450, 451, 452, 453,
    464, 342, 445, 444, 443, 442, 441, 413, 265, 353, 276, 283, 282, 295, 372, 340, 346, 347, 348, 349,
    350, 357, 465, 383, 300, 293, 334, 296, 336, 285, 417,
)  # fmt: skip


def eye_roi(landmarks: NDArray[np.float32], outer: int, inner: int) -> Roi:
    """Square ROI over one eye, turned along its corners, ×2.3."""
    a, b = landmarks[outer, :2], landmarks[inner, :2]
    x0, y0 = np.minimum(a, b)
    x1, y1 = np.maximum(a, b)
    return roi_from_box(float(x0), float(y0), float(x1), float(y1), rotation_between(a, b, 0.0)).transformed(
        scale=ROI_SCALE, square_long=True
    )


def decode_eye(
    contour: NDArray[np.float32], iris: NDArray[np.float32], roi: Roi, mirrored: bool
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Raw outputs (64-px units) → ``(71, 3)`` contour and ``(5, 3)`` iris in image pixels."""
    pts = np.concatenate([contour.reshape(-1, 3), iris.reshape(-1, 3)], axis=0).astype(np.float32)
    if mirrored:
        pts[:, 0] = INPUT_SIZE - pts[:, 0]
    xy = apply_affine(tensor_to_image(roi, INPUT_SIZE, INPUT_SIZE), pts[:, :2])
    z = pts[:, 2:3] * (roi.width / INPUT_SIZE)
    out = np.concatenate([xy, z], axis=1).astype(np.float32)
    return out[:71], out[71:]


class IrisModel:
    """Runs iris_landmark on both eyes of a face and returns the 478-point mesh."""

    def __init__(self, model: OnnxModel) -> None:
        self.model = model
        self.input_name = next(iter(model.inputs))
        self.contour_name, self.iris_name = model.output_names

    def refine(self, frame: Frame, landmarks: NDArray[np.float32]) -> NDArray[np.float32]:
        refined = np.array(landmarks[:468], dtype=np.float32, copy=True)
        irises = []
        for (outer, inner), indices, mirrored in (
            (EYE_CORNERS[0], EYE_AROUND_33, False),
            (EYE_CORNERS[1], EYE_AROUND_263, True),
        ):
            roi = eye_roi(landmarks, outer, inner)
            with step("crop"):
                image = crop(frame, roi, INPUT_SIZE, INPUT_SIZE, half_pixel=True)
                if mirrored:
                    image = np.ascontiguousarray(image[:, ::-1])
                tensor = to_tensor(image, (0.0, 1.0))
            out = self.model.run({self.input_name: tensor})
            with step("decode"):
                contour, iris = decode_eye(out[self.contour_name], out[self.iris_name], roi, mirrored)
            refined[list(indices)] = contour
            irises.append(iris)
        return np.concatenate([refined, *irises], axis=0)
