"""Shared fixtures: the model store (models built on first use) and test images."""

from __future__ import annotations

import logging
import os
import subprocess
from pathlib import Path
from typing import Any

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


CAMERA_SIZE = (640, 480)


@pytest.fixture(scope="session")
def camera_scene(portrait: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """A 640×480 webcam-like frame: the portrait at 360×360 on grey, clear of the top-left corner
    (where the live tests draw their frame counter)."""
    import cv2

    frame = np.full((480, 640, 3), 90, np.uint8)
    frame[60:420, 180:540] = cv2.resize(portrait, (360, 360), interpolation=cv2.INTER_AREA)
    return frame


def moving_frame(scene: NDArray[np.uint8], i: int) -> NDArray[np.uint8]:
    """Frame ``i`` of a slow head-and-camera motion over ``scene`` (rotation ±5°, drift ±12 px)."""
    from tryon.testing import Transform

    t = Transform(angle=5 * np.sin(i / 15), dx=12 * np.sin(i / 20), dy=6 * np.sin(i / 25))
    return t.apply(scene)


@pytest.fixture(scope="session")
def real_photos() -> dict[str, NDArray[np.uint8]]:
    """Two photos of real people (``zidane.jpg``: two men, ``bus.jpg``: a street with four people)
    from the ``ultralytics`` wheel, as RGB arrays; fetched into a cache, never committed. Skipped
    with the reason when the package index cannot be reached (CI reaches it)."""
    from photos import fetch_photos

    from tryon.media import read_image

    try:
        paths = fetch_photos()
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"photos of real people not available: {exc}")
    return {name: read_image(path) for name, path in paths.items()}


@pytest.fixture(scope="session")
def two_hands() -> tuple[NDArray[np.uint8], list[Any]]:
    """The cartoon hands of ``tryon.testing`` (two, back towards the camera) and the hands our
    perception finds on them: what the hand renderers (nails, wristwear) are tested on."""
    from tryon.perception import Perception, PerceptionConfig
    from tryon.testing import TWO_HANDS, hands_image

    img = hands_image(TWO_HANDS)
    perception = Perception(PerceptionConfig(faces=False, hands=True, static_image_mode=True))
    hands = perception.process(img, 0.0).hands
    assert len(hands) == 2
    return img, hands
