"""tryon: a real-time virtual try-on engine for live shopping."""

from tryon.catalog import Catalog, KindSpec, Product, Size, Variant, kind_spec
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
from tryon.look import LookItem
from tryon.perception import Perception, PerceptionConfig, Stage
from tryon.pipeline import PipelineConfig, PipelineStats, TryOnPipeline
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
    "KindSpec",
    "LookItem",
    "MediaError",
    "ModelError",
    "ModelHashMismatchError",
    "ModelLoader",
    "ModelNotFoundError",
    "Perception",
    "PerceptionConfig",
    "PipelineConfig",
    "PipelineStats",
    "Pose",
    "Product",
    "ProductValidationError",
    "RuntimeConfig",
    "RuntimeSetupError",
    "Segmentation",
    "Size",
    "Stage",
    "TryOnError",
    "TryOnPipeline",
    "UnknownProductError",
    "UnsupportedOpError",
    "Variant",
    "__version__",
    "estimate_head_pose",
    "kind_spec",
]
