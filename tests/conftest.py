"""Shared fixtures: the model store (models built on first use) and test images."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from tryon.runtime.store import ModelStore, mediapipe_root

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
logging.getLogger("tryon").setLevel(logging.INFO)


@pytest.fixture(scope="session")
def store() -> ModelStore:
    """The repository's model store; builds missing models (they are not committed)."""
    return ModelStore(auto_build=True)


@pytest.fixture(scope="session")
def mp_root() -> Path:
    return mediapipe_root()


@pytest.fixture(scope="session")
def astronaut() -> NDArray[np.uint8]:
    """skimage.data.astronaut(): a public-domain portrait with shoulders, RGB uint8 512x512."""
    from skimage.data import astronaut as load

    return np.ascontiguousarray(load())


@pytest.fixture(scope="session")
def portrait(astronaut: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """Head-and-shoulders 360×360 crop of the astronaut: the face fills a webcam-like share."""
    return np.ascontiguousarray(astronaut[0:360, 50:410])
