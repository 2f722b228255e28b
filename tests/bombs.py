"""Decompression bombs: tiny files whose headers declare huge images (built here, nothing committed)."""

from __future__ import annotations

import struct
import zlib


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def webp_lossless_bomb(width: int = 16383, height: int = 16383) -> bytes:
    """A lossless WebP (VP8L) of a few dozen bytes declaring ``width``×``height``."""
    bits = (width - 1) | ((height - 1) << 14) | (1 << 28)  # alpha used, version 0
    vp8l = b"\x2f" + struct.pack("<I", bits) + b"\x00" * 12
    chunk = b"VP8L" + struct.pack("<I", len(vp8l)) + vp8l
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


def png_bomb(width: int = 30000, height: int = 30000, real_rows: int | None = None) -> bytes:
    """A greyscale PNG declaring ``width``×``height`` whose IDAT holds ``real_rows`` rows of zeros
    (all of them by default: about 0.9 MB for 30000×30000, 900 MB once decoded)."""
    rows = height if real_rows is None else real_rows
    comp = zlib.compressobj(9)
    row = b"\x00" * (width + 1)
    block = row * max(1, (1 << 20) // len(row))
    per_block = len(block) // len(row)
    parts = []
    done = 0
    while done < rows:
        n = min(per_block, rows - done)
        parts.append(comp.compress(block if n == per_block else row * n))
        done += n
    parts.append(comp.flush())
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", b"".join(parts))
        + _png_chunk(b"IEND", b"")
    )


def jpeg_bomb(width: int = 65500, height: int = 65500) -> bytes:
    """A baseline JPEG header (SOI, SOF0) declaring ``width``×``height``, then nothing useful."""
    sof = struct.pack(">BHHB", 8, height, width, 3) + b"\x01\x11\x00\x02\x11\x01\x03\x11\x01"
    return b"\xff\xd8" + b"\xff\xc0" + struct.pack(">H", len(sof) + 2) + sof + b"\xff\xd9"
