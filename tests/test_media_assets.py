"""The one asset reader: every PNG layout a product's artist may save reads to the same RGBA, and
what it returns cannot be written to (the caches share it between sessions)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tryon.errors import InputError
from tryon.media.assets import read_mask, read_rgba


def test_palette_grey_rgba_and_16_bit_pngs_read_alike(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    colours = rng.integers(0, 256, (6, 3), dtype=np.uint8)
    index = rng.integers(0, 6, (24, 32), dtype=np.uint8)
    rgb = colours[index]
    alpha = np.where(index % 2 == 0, 255, 0).astype(np.uint8)
    rgba = np.dstack([rgb, alpha])
    Image.fromarray(rgba, "RGBA").save(tmp_path / "rgba.png")
    # The same picture as a palette image with transparency (what many editors export).
    pal = Image.fromarray(index, "P")
    pal.putpalette(colours.reshape(-1).tolist())
    pal.info["transparency"] = bytes(0 if i % 2 else 255 for i in range(6))
    pal.save(tmp_path / "palette.png", transparency=pal.info["transparency"])
    want = read_rgba(tmp_path / "rgba.png")
    np.testing.assert_array_equal(want, rgba)
    np.testing.assert_array_equal(read_rgba(tmp_path / "palette.png"), rgba)
    grey = rng.integers(0, 256, (24, 32), dtype=np.uint8)
    Image.fromarray(grey, "L").save(tmp_path / "grey.png")
    with pytest.raises(InputError, match="grey"):
        read_rgba(tmp_path / "grey.png")
    opaque = read_rgba(tmp_path / "grey.png", allow_opaque=True)
    np.testing.assert_array_equal(opaque[..., 0], grey)
    assert (opaque[..., 3] == 255).all()
    Image.fromarray(grey.astype(np.uint16) * 257).save(tmp_path / "grey16.png")
    np.testing.assert_array_equal(read_mask(tmp_path / "grey16.png", "a mask"), grey)


def test_what_the_reader_returns_is_read_only(tmp_path: Path) -> None:
    Image.fromarray(np.zeros((8, 8, 4), np.uint8), "RGBA").save(tmp_path / "a.png")
    for array in (read_rgba(tmp_path / "a.png"), read_mask(tmp_path / "a.png", "a mask")):
        assert not array.flags.writeable
        with pytest.raises(ValueError, match="read-only"):
            array[0, 0] = 1
