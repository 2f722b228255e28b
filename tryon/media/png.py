"""PNG bytes without the ancillary chunks OpenCV ignores but libpng checks and complains about.

libpng prints its warnings straight to stderr (``libpng warning: iCCP: known incorrect sRGB
profile``, ``cHRM chunk does not match sRGB``, a text chunk's CRC): OpenCV installs no warning
handler, so a shopper's photo or an imported product image with such a chunk put raw lines in the
server's log. OpenCV does no colour management, so dropping those chunks before decoding changes
no pixel; the ones decoding needs (``IHDR``, ``PLTE``, ``IDAT``, ``IEND``, ``tRNS``, ``sBIT``) and
the EXIF orientation (``eXIf``) are kept.
"""

from __future__ import annotations

import struct

SIGNATURE = b"\x89PNG\r\n\x1a\n"
QUIET_DROPS = frozenset({b"iCCP", b"sRGB", b"cHRM", b"gAMA", b"tEXt", b"zTXt", b"iTXt", b"tIME", b"sPLT"})
"""Colour-management and text chunks: unused by OpenCV's decoder, the source of libpng's warnings."""


def without_noisy_chunks(data: bytes) -> bytes:
    """``data`` without :data:`QUIET_DROPS` chunks if it is a PNG that has any; else unchanged
    (not a PNG, or malformed: the decoder says what is wrong)."""
    if not data.startswith(SIGNATURE):
        return data
    kept: list[bytes] = [SIGNATURE]
    dropped = False
    at = len(SIGNATURE)
    while at + 8 <= len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind = data[at + 4 : at + 8]
        end = at + 12 + length
        if end > len(data):
            return data
        if kind in QUIET_DROPS:
            dropped = True
        else:
            kept.append(data[at:end])
        at = end
        if kind == b"IEND":
            break
    return b"".join(kept) if dropped else data
