"""tryon: a real-time virtual try-on engine for live shopping."""

from tryon.errors import (
    ConversionError,
    InputError,
    ModelError,
    ModelHashMismatchError,
    ModelNotFoundError,
    RuntimeSetupError,
    TryOnError,
    UnsupportedOpError,
)
from tryon.perception import Perception, PerceptionConfig
from tryon.results import Face, FrameResult, Hand, Pose, Segmentation
from tryon.runtime.session import ModelLoader, RuntimeConfig

__version__ = "0.1.0"

__all__ = [
    "ConversionError",
    "Face",
    "FrameResult",
    "Hand",
    "InputError",
    "ModelError",
    "ModelHashMismatchError",
    "ModelLoader",
    "ModelNotFoundError",
    "Perception",
    "PerceptionConfig",
    "Pose",
    "RuntimeConfig",
    "RuntimeSetupError",
    "Segmentation",
    "TryOnError",
    "UnsupportedOpError",
    "__version__",
]
