"""Photos of real people for tests, never committed: ``ultralytics/assets/zidane.jpg`` and ``bus.jpg``
from the ``ultralytics`` wheel on PyPI, fetched with ``pip download --no-deps`` into a cache
(``$TRYON_TEST_CACHE`` or ``~/.cache/tryon-tests``) on first use.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

WHEEL = "ultralytics==8.4.190"
NAMES = ("zidane.jpg", "bus.jpg")


def cache_dir() -> Path:
    root = os.environ.get("TRYON_TEST_CACHE") or Path.home() / ".cache" / "tryon-tests"
    return Path(root) / "ultralytics-8.4.190"


def fetch_photos() -> dict[str, Path]:
    """``{name: path}`` of the two photos, downloading the wheel once. Raises ``RuntimeError``
    saying why when the package index cannot be reached."""
    folder = cache_dir()
    paths = {name: folder / name for name in NAMES}
    if all(p.exists() for p in paths.values()):
        return paths
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", tmp, WHEEL],
            capture_output=True,
            text=True,
            timeout=300,
        )
        wheels = list(Path(tmp).glob("*.whl"))
        if proc.returncode != 0 or not wheels:
            raise RuntimeError(f"pip download {WHEEL} failed: {proc.stderr.strip()[-300:]}")
        with zipfile.ZipFile(wheels[0]) as z:
            for name, path in paths.items():
                part = path.with_suffix(".part")
                part.write_bytes(z.read(f"ultralytics/assets/{name}"))
                part.replace(path)
    return paths
