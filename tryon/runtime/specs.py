"""The perception models tryon builds from the TFLite files inside the mediapipe wheel."""

from __future__ import annotations

from dataclasses import dataclass

MEDIAPIPE_VERSION = "0.10.14"


@dataclass(frozen=True)
class ModelSpec:
    name: str
    source: str
    """Path of the TFLite file inside the installed mediapipe distribution."""
    input_range: tuple[float, float]
    """Value range of the image input MediaPipe feeds this model (ImageToTensor float range)."""
    description: str
    batch: bool = False
    """Converted with a symbolic batch dimension (the landmark and segmentation models, which
    :mod:`tryon.runtime.batcher` runs for many sessions at once); the detectors keep batch 1."""

    @property
    def filename(self) -> str:
        return f"{self.name}.onnx"


MODEL_SPECS: tuple[ModelSpec, ...] = (
    ModelSpec(
        "face_detection_short_range",
        "mediapipe/modules/face_detection/face_detection_short_range.tflite",
        (-1.0, 1.0),
        "BlazeFace short range: faces within ~2 m, 128x128 input, 896 anchors",
    ),
    ModelSpec(
        "face_detection_full_range_sparse",
        "mediapipe/modules/face_detection/face_detection_full_range_sparse.tflite",
        (-1.0, 1.0),
        "BlazeFace full range (sparse weights): small and distant faces, 192x192 input, 2304 anchors",
    ),
    ModelSpec(
        "face_landmark",
        "mediapipe/modules/face_landmark/face_landmark.tflite",
        (0.0, 1.0),
        "Face mesh: 468 landmarks (x, y, z) and a face-presence score from a 192x192 ROI",
        batch=True,
    ),
    ModelSpec(
        "iris_landmark",
        "mediapipe/modules/iris_landmark/iris_landmark.tflite",
        (0.0, 1.0),
        "Iris: 71 eye-contour and brow points and 5 iris points from a 64x64 eye ROI",
        batch=True,
    ),
    ModelSpec(
        "pose_detection",
        "mediapipe/modules/pose_detection/pose_detection.tflite",
        (-1.0, 1.0),
        "BlazePose detector: person boxes with alignment keypoints, 224x224 input, 2254 anchors",
    ),
    ModelSpec(
        "pose_landmark_full",
        "mediapipe/modules/pose_landmark/pose_landmark_full.tflite",
        (0.0, 1.0),
        "BlazePose full: 33 landmarks with visibility and presence, heatmap, world landmarks, mask",
        batch=True,
    ),
    ModelSpec(
        "selfie_segmentation",
        "mediapipe/modules/selfie_segmentation/selfie_segmentation.tflite",
        (0.0, 1.0),
        "Selfie segmentation, general model: 256x256 person mask",
        batch=True,
    ),
    ModelSpec(
        "selfie_segmentation_landscape",
        "mediapipe/modules/selfie_segmentation/selfie_segmentation_landscape.tflite",
        (0.0, 1.0),
        "Selfie segmentation, landscape model: 256x144 person mask",
        batch=True,
    ),
    ModelSpec(
        "palm_detection_full",
        "mediapipe/modules/palm_detection/palm_detection_full.tflite",
        (0.0, 1.0),
        "Palm detector: palm boxes with 7 keypoints, 192x192 input, 2016 anchors",
    ),
    ModelSpec(
        "hand_landmark_full",
        "mediapipe/modules/hand_landmark/hand_landmark_full.tflite",
        (0.0, 1.0),
        "Hand landmarks: 21 points, presence, handedness and world landmarks from a 224x224 ROI",
        batch=True,
    ),
)

SPECS_BY_NAME: dict[str, ModelSpec] = {s.name: s for s in MODEL_SPECS}
