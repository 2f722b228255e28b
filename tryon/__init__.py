"""tryon: a real-time virtual try-on engine for live shopping."""

from tryon.catalog import Catalog, Product, Variant
from tryon.errors import (
    CatalogError,
    ConversionError,
    InputError,
    MediaError,
    ModelError,
    ModelHashMismatchError,
    ModelNotFoundError,
    ProductValidationError,
    RuntimeSetupError,
    TryOnError,
    UnknownProductError,
    UnsupportedOpError,
)
from tryon.headpose import HeadPose, HeadPoseSmoother, estimate_head_pose
from tryon.perception import Perception, PerceptionConfig
from tryon.pipeline import PipelineConfig, TryOnPipeline
from tryon.results import Face, FrameResult, Hand, Pose, Segmentation
from tryon.runtime.session import ModelLoader, RuntimeConfig

__version__ = "0.1.0"

__all__ = [
    "Catalog",
    "CatalogError",
    "ConversionError",
    "Face",
    "FrameResult",
    "Hand",
    "HeadPose",
    "HeadPoseSmoother",
    "InputError",
    "MediaError",
    "ModelError",
    "ModelHashMismatchError",
    "ModelLoader",
    "ModelNotFoundError",
    "Perception",
    "PerceptionConfig",
    "PipelineConfig",
    "Pose",
    "Product",
    "ProductValidationError",
    "RuntimeConfig",
    "RuntimeSetupError",
    "Segmentation",
    "TryOnError",
    "TryOnPipeline",
    "UnknownProductError",
    "UnsupportedOpError",
    "Variant",
    "__version__",
    "estimate_head_pose",
]
