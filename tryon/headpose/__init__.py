"""Head pose from face landmarks: a rigid fit of a canonical face shape (3D rotation, translation,
scale; yaw, pitch, roll), and its temporal smoothing."""

from tryon.headpose.canonical import CanonicalFace, load_canonical
from tryon.headpose.estimate import HeadPose, estimate_head_pose, euler_from_matrix, matrix_from_euler
from tryon.headpose.smooth import HeadPoseSmoother

__all__ = [
    "CanonicalFace",
    "HeadPose",
    "HeadPoseSmoother",
    "estimate_head_pose",
    "euler_from_matrix",
    "load_canonical",
    "matrix_from_euler",
]
