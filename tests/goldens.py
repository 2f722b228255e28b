"""Golden images: renders compared with reviewed PNGs in tests/golden/.

``TRYON_UPDATE_GOLDEN=1`` rewrites them after a deliberate change; look at them before committing.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("TRYON_UPDATE_GOLDEN") == "1"


def assert_golden(out: NDArray[np.uint8], name: str, bare: NDArray[np.uint8], visible: int) -> None:
    """``out`` matches ``golden/name`` (mean difference ≤ 0.5, 99.5th percentile ≤ 10), and the
    golden differs from ``bare`` (the image without the product) by at least ``visible`` somewhere."""
    path = GOLDEN / name
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        cv2.imwrite(str(path), cv2.cvtColor(out, cv2.COLOR_RGB2BGR))
    assert path.exists(), f"missing golden {path}; run with TRYON_UPDATE_GOLDEN=1 and review it"
    golden = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
    diff = np.abs(out.astype(np.int16) - golden.astype(np.int16))
    assert diff.mean() <= 0.5, diff.mean()
    assert np.percentile(diff, 99.5) <= 10, diff.max()
    assert np.abs(golden.astype(np.int16) - bare).max() >= visible
