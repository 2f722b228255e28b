"""ONNX Runtime layer: the model store (manifest, build on first use) and sessions on GPU or CPU."""

from tryon.runtime.providers import choose_providers, cuda_device_count
from tryon.runtime.session import ModelLoader, OnnxModel, RuntimeConfig, shared_pool_threads
from tryon.runtime.specs import MODEL_SPECS, ModelSpec
from tryon.runtime.store import ModelStatus, ModelStore, default_models_dir

__all__ = [
    "MODEL_SPECS",
    "ModelLoader",
    "ModelSpec",
    "ModelStatus",
    "ModelStore",
    "OnnxModel",
    "RuntimeConfig",
    "choose_providers",
    "cuda_device_count",
    "default_models_dir",
    "shared_pool_threads",
]
