"""Read an encoded image's header (format, size, bit depth, frames) without decoding any pixels.

:func:`probe_image` is pure Python (``struct``, ``re``, ``zlib.crc32``): it reads a few dozen bytes
of a JPEG, PNG, WebP, BMP or TIFF file, so a caller can refuse a decompression bomb (a small file
declaring a huge image) before a decoder allocates anything. The work is bounded by the length of
the data, whatever the data is: every loop advances through it or stops, and loops in a TIFF's
chain of directories are caught. Truncated, inconsistent or unknown data raises
:class:`~tryon.errors.MediaError`, never another exception.
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal, NoReturn

from tryon.errors import MediaError

ImageFormat = Literal["jpeg", "png", "webp", "bmp", "tiff"]

FORMAT_LABELS: dict[str, str] = {"jpeg": "JPEG", "png": "PNG", "webp": "WebP", "bmp": "BMP", "tiff": "TIFF"}
"""The formats :func:`probe_image` reads, and how messages name them."""


@dataclass(frozen=True, slots=True)
class ImageInfo:
    """What an image's header declares.

    ``bit_depth`` is bits per sample (JPEG precision, PNG bit depth, TIFF's first BitsPerSample,
    8 for WebP), except for BMP, where it is the header's bits per *pixel* (1, 4, 8, 16, 24 or 32).
    ``frames`` counts APNG frames (``acTL``), animated WebP frames (``ANMF`` chunks) or TIFF pages
    (directories); ``animated`` is true for an APNG or an animated WebP, not for a multi-page TIFF.
    Width and height are as stored: a JPEG's EXIF orientation may swap them once decoded.
    """

    format: ImageFormat
    width: int
    height: int
    bit_depth: int
    frames: int = 1
    animated: bool = False

    @property
    def pixels(self) -> int:
        """Width times height: what one decoded frame holds."""
        return self.width * self.height

    @property
    def label(self) -> str:
        """The format as messages name it: ``"JPEG"``, ``"PNG"``, ``"WebP"``, ``"BMP"``, ``"TIFF"``."""
        return FORMAT_LABELS[self.format]


def describe_formats(formats: Iterable[str]) -> str:
    """``("jpeg", "png", "webp")`` as ``"JPEG, PNG or WebP"``."""
    labels = [FORMAT_LABELS.get(f, f) for f in formats]
    return labels[0] if len(labels) == 1 else f"{', '.join(labels[:-1])} or {labels[-1]}"


def describe_bytes(data: bytes | bytearray | memoryview) -> str:
    """A short account of unrecognised data for messages: its length and first bytes."""
    n = len(data)
    return "an empty file" if n == 0 else f"{n} bytes starting {bytes(data[:8])!r}"


def sniff_format(data: bytes | bytearray | memoryview) -> ImageFormat | None:
    """The format that ``data``'s magic bytes announce, or ``None`` (nothing else is checked)."""
    head = bytes(data[:12])
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:2] == b"BM":
        return "bmp"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "tiff"
    return None


def probe_image(data: bytes | bytearray | memoryview, name: str = "image") -> ImageInfo:
    """Read the header of the JPEG, PNG, WebP, BMP or TIFF image in ``data``; decode nothing.

    Raises :class:`MediaError`, its message starting with ``name``, when the format is none of
    these, or the header is truncated or inconsistent (zero sides, impossible lengths, chunks or
    segments out of order).
    """
    buf = data if isinstance(data, bytes) else bytes(data)
    fmt = sniff_format(buf)
    if fmt is None:
        raise MediaError(
            f"{name}: expected a {describe_formats(FORMAT_LABELS)} image, got {describe_bytes(buf)}"
        )
    return _PARSERS[fmt](_Reader(buf, name, FORMAT_LABELS[fmt]))


class _Reader:
    """The data, plus the messages for what is wrong with it."""

    def __init__(self, buf: bytes, name: str, label: str) -> None:
        self.buf, self.name, self.label = buf, name, label

    def need(self, offset: int, size: int, what: str) -> None:
        """Raise unless ``size`` bytes of ``what`` lie at ``offset``."""
        if offset < 0 or size < 0 or offset + size > len(self.buf):
            got = max(0, len(self.buf) - max(offset, 0))
            raise MediaError(
                f"{self.name}: truncated {self.label}: expected {size} bytes of {what} at offset {offset}, "
                f"got {got} ({len(self.buf)} bytes in all)"
            )

    def truncated(self, what: str) -> NoReturn:
        raise MediaError(f"{self.name}: truncated {self.label}: expected {what}, got the end of the data")

    def bad(self, message: str) -> NoReturn:
        raise MediaError(f"{self.name}: invalid {self.label} header: {message}")

    def unpack(self, fmt: str, offset: int, what: str) -> tuple[Any, ...]:
        self.need(offset, struct.calcsize(fmt), what)
        return struct.unpack_from(fmt, self.buf, offset)

    def sides(self, width: int, height: int) -> None:
        if width <= 0 or height <= 0:
            self.bad(f"expected a positive width and height, got {width}x{height}")


# --- JPEG ----------------------------------------------------------------------------------------

# A marker: 0xFF (the last of any fill bytes) and a code that is neither 0x00 (a stuffed byte) nor
# 0xFF. Bytes before it are skipped, as libjpeg does. Fixed length, so searching stays linear.
_JPEG_MARKER = re.compile(rb"\xff[^\x00\xff]")
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}  # not DHT, JPG, DAC
_JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})  # TEM, RST0..7: no length


def _jpeg(r: _Reader) -> ImageInfo:
    pos = 2
    while True:
        found = _JPEG_MARKER.search(r.buf, pos)
        if found is None:
            r.truncated(f"a frame header (SOF marker) after offset {pos}")
        marker, pos = r.buf[found.start() + 1], found.end()
        if marker in _JPEG_STANDALONE:
            continue
        if marker == 0xD8:
            r.bad(f"expected one start-of-image marker, got a second at offset {pos - 2}")
        if marker == 0xD9:
            r.bad("expected a frame header (SOF marker), got the end-of-image marker")
        if marker == 0xDA:
            r.bad("expected a frame header (SOF marker), got a scan (SOS) before it")
        (length,) = r.unpack(">H", pos, f"the length of segment FF{marker:02X}")
        if length < 2:
            r.bad(f"expected a length of at least 2 for segment FF{marker:02X}, got {length}")
        r.need(pos, length, f"segment FF{marker:02X}")
        if marker in _JPEG_SOF:
            if length < 8:
                r.bad(f"expected a frame header (SOF) of at least 8 bytes, got {length}")
            precision, height, width, components = struct.unpack_from(">BHHB", r.buf, pos + 2)
            if components == 0 or length != 8 + 3 * components:
                r.bad(f"expected a frame header of 8 + 3 x {components} components bytes, got {length}")
            if not 2 <= precision <= 16:
                r.bad(f"expected a sample precision of 2 to 16 bits, got {precision}")
            if height == 0 and width > 0:
                r.bad("expected a height in the frame header, got 0 (a DNL marker; unsupported)")
            r.sides(width, height)
            return ImageInfo("jpeg", width, height, precision)
        pos += length


# --- PNG -----------------------------------------------------------------------------------------

_PNG_DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}
_PNG_MAX = 0x7FFFFFFF
_CHUNK_NAME = re.compile(rb"[A-Za-z]{4}")


def _png(r: _Reader) -> ImageInfo:
    length, ctype = r.unpack(">I4s", 8, "the first chunk's header")
    if ctype != b"IHDR":
        r.bad(f"expected IHDR as the first chunk, got {bytes(ctype)!r}")
    if length != 13:
        r.bad(f"expected an IHDR of 13 bytes, got {length}")
    width, height, depth, colour, compression, filtering, interlace, crc = r.unpack(">IIBBBBBI", 16, "IHDR")
    if zlib.crc32(r.buf[12:29]) != crc:
        r.bad(f"expected IHDR's CRC {zlib.crc32(r.buf[12:29]):08x}, got {crc:08x}")
    r.sides(width, height)
    if width > _PNG_MAX or height > _PNG_MAX:
        r.bad(f"expected sides of at most {_PNG_MAX}, got {width}x{height}")
    if colour not in _PNG_DEPTHS or depth not in _PNG_DEPTHS[colour]:
        r.bad(f"expected a valid colour type and bit depth, got colour type {colour}, {depth} bits")
    if compression or filtering or interlace > 1:
        r.bad(
            f"expected compression 0, filter 0, interlace 0 or 1, got {compression}, {filtering}, {interlace}"
        )
    frames, animated, pos = 1, False, 33
    while True:  # to the first IDAT, for an APNG's acTL; every pass advances pos by 12 or more
        length, ctype = r.unpack(">I4s", pos, "a chunk header (looking for IDAT)")
        if length > _PNG_MAX:
            r.bad(f"expected a chunk length of at most {_PNG_MAX}, got {length} at offset {pos}")
        if not _CHUNK_NAME.fullmatch(ctype):
            r.bad(f"expected a chunk type of 4 letters, got {bytes(ctype)!r} at offset {pos}")
        if ctype == b"IDAT":
            return ImageInfo("png", width, height, depth, frames, animated)
        if ctype in (b"IEND", b"IHDR"):
            r.bad(f"expected image data (IDAT), got {ctype.decode()} at offset {pos}")
        r.need(pos + 8, length + 4, f"the {ctype.decode(errors='replace')} chunk")
        if ctype == b"acTL":
            if length != 8:
                r.bad(f"expected an acTL of 8 bytes, got {length}")
            (frames,) = struct.unpack_from(">I", r.buf, pos + 8)
            if frames == 0:
                r.bad("expected at least one frame in acTL, got 0")
            animated = True
        pos += 12 + length


# --- WebP ----------------------------------------------------------------------------------------


def _webp(r: _Reader) -> ImageInfo:
    (riff,) = r.unpack("<I", 4, "the RIFF size")
    if riff < 4 + 8 + 1:
        r.bad(f"expected a RIFF size of at least 13, got {riff}")
    r.need(8, riff, f"RIFF data ({riff} bytes, as the RIFF header says)")
    end = 8 + riff  # bytes past the RIFF data are ignored, as libwebp does
    fourcc, size, body = _webp_chunk(r, 12, end)
    if fourcc == b"VP8 ":
        return ImageInfo("webp", *_vp8(r, body, size), 8)
    if fourcc == b"VP8L":
        return ImageInfo("webp", *_vp8l(r, body, size), 8)
    if fourcc != b"VP8X":
        r.bad(f"expected a VP8, VP8L or VP8X chunk first, got {fourcc!r}")
    if size < 10:
        r.bad(f"expected a VP8X chunk of at least 10 bytes, got {size}")
    flags = r.buf[body]
    width = int.from_bytes(r.buf[body + 4 : body + 7], "little") + 1
    height = int.from_bytes(r.buf[body + 7 : body + 10], "little") + 1
    if width * height >= 1 << 32:
        r.bad(f"expected a canvas of less than 2**32 pixels, got {width}x{height}")
    animated, frames, pos = bool(flags & 0x02), 0, body + size + (size & 1)
    while end - pos >= 8:  # every pass advances pos by 8 or more
        fourcc, size, body = _webp_chunk(r, pos, end)
        if animated and fourcc == b"ANMF":
            frames += 1
        elif not animated and fourcc in (b"VP8 ", b"VP8L"):
            sides = _vp8(r, body, size) if fourcc == b"VP8 " else _vp8l(r, body, size)
            if sides != (width, height):
                r.bad(f"expected an image of the canvas size {width}x{height}, got {sides[0]}x{sides[1]}")
            return ImageInfo("webp", width, height, 8)
        pos = body + size + (size & 1)
    if not animated:
        r.bad("expected an image chunk (VP8 or VP8L) after VP8X, got none")
    if frames == 0:
        r.bad("expected animation frames (ANMF chunks), got none")
    return ImageInfo("webp", width, height, 8, frames, True)


def _webp_chunk(r: _Reader, pos: int, end: int) -> tuple[bytes, int, int]:
    """The fourcc, size and offset of the body of the chunk at ``pos``, all within ``end``."""
    if end - pos < 8:
        r.bad(f"expected a chunk header at offset {pos}, got the end of the RIFF data")
    fourcc, size = struct.unpack_from("<4sI", r.buf, pos)
    if size > end - pos - 8:
        r.bad(f"expected chunk {fourcc!r} at offset {pos} to fit the RIFF data, got {size} bytes")
    return fourcc, size, pos + 8


def _vp8(r: _Reader, body: int, size: int) -> tuple[int, int]:
    if size < 10:
        r.bad(f"expected a VP8 chunk of at least 10 bytes, got {size}")
    tag = int.from_bytes(r.buf[body : body + 3], "little")
    if tag & 1 or not tag & 0x10 or (tag >> 1) & 7 > 3:
        r.bad(f"expected a shown key frame of version 0 to 3, got frame tag {tag:06x}")
    if tag >> 5 >= size:
        r.bad(f"expected a first partition shorter than the VP8 chunk ({size} bytes), got {tag >> 5}")
    if r.buf[body + 3 : body + 6] != b"\x9d\x01\x2a":
        r.bad(f"expected the VP8 start code 9d012a, got {r.buf[body + 3 : body + 6].hex()}")
    width, height = struct.unpack_from("<HH", r.buf, body + 6)
    sides = width & 0x3FFF, height & 0x3FFF
    r.sides(*sides)
    return sides


def _vp8l(r: _Reader, body: int, size: int) -> tuple[int, int]:
    if size < 5:
        r.bad(f"expected a VP8L chunk of at least 5 bytes, got {size}")
    if r.buf[body] != 0x2F:
        r.bad(f"expected the VP8L signature 0x2f, got {r.buf[body]:#04x}")
    (bits,) = struct.unpack_from("<I", r.buf, body + 1)
    if bits >> 29:
        r.bad(f"expected VP8L version 0, got {bits >> 29}")
    return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1


# --- BMP -----------------------------------------------------------------------------------------

_BMP_HEADERS = (12, 40, 52, 56, 64, 108, 124)  # core, info, v2, v3, OS/2 v2, v4, v5


def _bmp(r: _Reader) -> ImageInfo:
    (header,) = r.unpack("<I", 14, "the DIB header size")
    if header not in _BMP_HEADERS:
        r.bad(f"expected a DIB header of {', '.join(map(str, _BMP_HEADERS))} bytes, got {header}")
    r.need(14, header, "the DIB header")
    if header == 12:
        width, height, planes, bits = struct.unpack_from("<HHHH", r.buf, 18)
    else:
        width, height, planes, bits = struct.unpack_from("<iiHH", r.buf, 18)
    if planes != 1:
        r.bad(f"expected 1 colour plane, got {planes}")
    if bits not in (1, 4, 8, 16, 24, 32):
        r.bad(f"expected 1, 4, 8, 16, 24 or 32 bits per pixel, got {bits}")
    r.sides(width, abs(height))  # a negative height: rows stored top-down
    return ImageInfo("bmp", width, abs(height), bits)


# --- TIFF ----------------------------------------------------------------------------------------

_TIFF_INTS = {3: "H", 4: "I", 16: "Q"}  # SHORT, LONG, LONG8: the types a size may have


def _tiff(r: _Reader) -> ImageInfo:
    order = "<" if r.buf[:2] == b"II" else ">"
    big = r.buf[2:4] in (b"\x00+", b"+\x00")
    if big:  # BigTIFF: 8-byte offsets and counts, 20-byte entries
        size, zero, first = r.unpack(f"{order}HHQ", 4, "the BigTIFF header")
        if (size, zero) != (8, 0):
            r.bad(f"expected BigTIFF offsets of 8 bytes, got {size}")
    else:
        (first,) = r.unpack(f"{order}I", 4, "the first IFD offset")
    count_fmt, word = (f"{order}Q", "Q") if big else (f"{order}H", "I")
    entry = 20 if big else 12
    value_size = struct.calcsize(word)

    def directory(offset: int) -> tuple[int, int]:
        """The entry count and the next directory's offset of the IFD at ``offset``."""
        (n,) = r.unpack(count_fmt, offset, f"an IFD's entry count at offset {offset}")
        if n == 0:
            r.bad(f"expected an IFD with entries at offset {offset}, got 0 entries")
        start = offset + struct.calcsize(count_fmt)
        (following,) = r.unpack(f"{order}{word}", start + n * entry, f"an IFD of {n} entries")
        return n, following

    n, following = directory(first)
    tags: dict[int, int] = {}
    start = first + struct.calcsize(count_fmt)
    for i in range(n):  # n entries, all present: directory() checked it
        tag, kind, count = struct.unpack_from(f"{order}HH{word}", r.buf, start + i * entry)
        if tag not in (256, 257, 258) or tag in tags:
            continue
        if kind not in _TIFF_INTS or count < 1:
            r.bad(f"expected tag {tag} to hold a SHORT or LONG, got {count} of type {kind}")
        value, fmt = start + i * entry + 4 + value_size, order + _TIFF_INTS[kind]
        if count * struct.calcsize(fmt) > value_size:  # the values lie elsewhere; the first is enough
            (value,) = struct.unpack_from(f"{order}{word}", r.buf, value)
            r.need(value, struct.calcsize(fmt), f"the values of tag {tag}")
        (tags[tag],) = struct.unpack_from(fmt, r.buf, value)
    if 256 not in tags or 257 not in tags:
        r.bad("expected ImageWidth (256) and ImageLength (257) in the first IFD, got neither or one")
    r.sides(tags[256], tags[257])
    bits = tags.get(258, 1)
    if not 1 <= bits <= 64:
        r.bad(f"expected 1 to 64 bits per sample, got {bits}")
    frames, seen = 1, {first}
    while following:  # the other pages; each pass visits a new offset within the data
        if following in seen:
            r.bad(f"expected a chain of IFDs, got a loop back to offset {following}")
        seen.add(following)
        _, following = directory(following)
        frames += 1
    return ImageInfo("tiff", tags[256], tags[257], bits, frames)


_PARSERS = {"jpeg": _jpeg, "png": _png, "webp": _webp, "bmp": _bmp, "tiff": _tiff}
