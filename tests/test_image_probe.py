"""tryon.media.probe and the guarded decode_image: headers read without decoding, bombs refused."""

from __future__ import annotations

import functools
import io
import json
import struct
import subprocess
import sys
import zlib
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray
from PIL import Image

from tryon.errors import InputError, MediaError
from tryon.media import UPLOAD_FORMATS, ImageInfo, decode_image, probe_image
from tryon.media.probe import FORMAT_LABELS

ROOT = Path(__file__).resolve().parents[1]
SIZES = [(1, 1), (3, 2), (61, 97), (1000, 17)]  # (width, height)


def noise(width: int, height: int, channels: int = 3, seed: int = 0) -> NDArray[np.uint8]:
    return np.random.default_rng(seed).integers(0, 256, (height, width, channels), dtype=np.uint8)


def cv_encode(ext: str, image: NDArray[Any], *params: int) -> bytes:
    ok, buf = cv2.imencode(ext, image, list(params))
    assert ok
    return buf.tobytes()


def encode_noise(ext: str, width: int, height: int, *params: int) -> bytes:
    return cv_encode(ext, noise(width, height), *params)


def pil_encode(fmt: str, frames: list[Image.Image], **kw: object) -> bytes:
    out = io.BytesIO()
    frames[0].save(out, fmt, save_all=len(frames) > 1, append_images=frames[1:], **kw)
    return out.getvalue()


def pil_frames(width: int, height: int, n: int, mode: str = "RGB") -> list[Image.Image]:
    return [Image.fromarray(noise(width, height, seed=i)).convert(mode) for i in range(n)]


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def cv_rgb(data: bytes, flag: int = cv2.IMREAD_COLOR) -> NDArray[np.uint8]:
    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), flag)
    assert bgr is not None
    return np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), dtype=np.uint8)


def top_down_bmp(image: NDArray[np.uint8]) -> bytes:
    """A 24-bit BMP with a negative height: rows stored top row first."""
    data = bytearray(cv_encode(".bmp", np.ascontiguousarray(image[::-1])))
    (height,) = struct.unpack_from("<i", data, 22)
    struct.pack_into("<i", data, 22, -height)
    return bytes(data)


def tiff_by_hand(order: str, width: int, height: int, bits: tuple[int, ...], pages: int = 1) -> bytes:
    """A classic TIFF of ``pages`` directories holding only ImageWidth, ImageLength, BitsPerSample.

    Each directory is 42 bytes (count, 3 entries, next offset), then BitsPerSample's values when
    more than two (they do not fit in the entry); the first directory is at offset 8.
    """
    o = "<" if order == "II" else ">"
    out = bytearray(order.encode() + struct.pack(f"{o}HI", 42, 8))
    outside = len(bits) > 2
    for page in range(pages):
        start = len(out)
        values = struct.pack(f"{o}{len(bits)}H", *bits)
        field = struct.pack(f"{o}I", start + 42) if outside else values.ljust(4, b"\0")
        out += struct.pack(f"{o}H", 3)
        out += struct.pack(f"{o}HHII", 256, 4, 1, width) + struct.pack(f"{o}HHIH2x", 257, 3, 1, height)
        out += struct.pack(f"{o}HHI", 258, 3, len(bits)) + field
        out += struct.pack(f"{o}I", 0 if page == pages - 1 else start + 42 + (len(values) if outside else 0))
        out += values if outside else b""
    return bytes(out)


def exif(orientation: int) -> Image.Exif:
    tags = Image.Exif()
    tags[0x0112] = orientation
    return tags


def big_tiff(width: int, height: int) -> bytes:
    """A little-endian BigTIFF with one directory."""
    ifd = struct.pack("<Q", 2)
    ifd += struct.pack("<HHQQ", 256, 16, 1, width) + struct.pack("<HHQQ", 257, 4, 1, height)
    return b"II+\x00" + struct.pack("<HHQ", 8, 0, 16) + ifd + struct.pack("<Q", 0)


# name -> (encoded bytes, expected info)
CASES: dict[str, tuple[Callable[[], bytes], ImageInfo]] = {}
for w, h in SIZES:
    for kind, ext, params, depth in [
        ("jpeg", ".jpg", (), 8),
        ("png", ".png", (), 8),
        ("webp-lossy", ".webp", (cv2.IMWRITE_WEBP_QUALITY, 80), 8),
        ("webp-lossless", ".webp", (cv2.IMWRITE_WEBP_QUALITY, 101), 8),
        ("bmp", ".bmp", (), 24),
        ("tiff", ".tiff", (), 8),
    ]:
        fmt = "webp" if kind.startswith("webp") else kind
        make = functools.partial(encode_noise, ext, w, h, *params)
        CASES[f"{kind}-{w}x{h}"] = (make, ImageInfo(fmt, w, h, depth))  # type: ignore[arg-type]
CASES |= {
    "jpeg-progressive": (
        lambda: cv_encode(".jpg", noise(80, 60), cv2.IMWRITE_JPEG_PROGRESSIVE, 1),
        ImageInfo("jpeg", 80, 60, 8),
    ),
    "jpeg-grey-exif": (
        lambda: pil_encode("JPEG", pil_frames(33, 21, 1, "L"), exif=exif(6)),
        ImageInfo("jpeg", 33, 21, 8),
    ),
    "png-grey": (lambda: cv_encode(".png", noise(30, 20, 1)), ImageInfo("png", 30, 20, 8)),
    "png-rgba": (lambda: cv_encode(".png", noise(30, 20, 4)), ImageInfo("png", 30, 20, 8)),
    "png-16bit": (
        lambda: cv_encode(".png", noise(9, 8).astype(np.uint16) * 257),
        ImageInfo("png", 9, 8, 16),
    ),
    "png-16bit-pillow": (
        lambda: pil_encode("PNG", [Image.fromarray(np.full((7, 5), 40000, np.uint16))]),
        ImageInfo("png", 5, 7, 16),
    ),
    "png-1bit": (lambda: pil_encode("PNG", pil_frames(13, 11, 1, "1")), ImageInfo("png", 13, 11, 1)),
    "png-palette": (lambda: pil_encode("PNG", pil_frames(13, 11, 1, "P")), ImageInfo("png", 13, 11, 8)),
    "apng": (lambda: pil_encode("PNG", pil_frames(60, 40, 3)), ImageInfo("png", 60, 40, 8, 3, True)),
    "webp-alpha": (
        lambda: cv_encode(".webp", noise(40, 30, 4), cv2.IMWRITE_WEBP_QUALITY, 80),
        ImageInfo("webp", 40, 30, 8),
    ),
    "webp-exif": (
        lambda: pil_encode("WEBP", pil_frames(40, 30, 1), exif=exif(1)),
        ImageInfo("webp", 40, 30, 8),
    ),
    "webp-animated": (
        lambda: pil_encode("WEBP", pil_frames(60, 40, 3), lossless=True),
        ImageInfo("webp", 60, 40, 8, 3, True),
    ),
    "bmp-top-down": (lambda: top_down_bmp(noise(17, 9)), ImageInfo("bmp", 17, 9, 24)),
    "bmp-8bit": (lambda: pil_encode("BMP", pil_frames(17, 9, 1, "L")), ImageInfo("bmp", 17, 9, 8)),
    "bmp-1bit": (lambda: pil_encode("BMP", pil_frames(17, 9, 1, "1")), ImageInfo("bmp", 17, 9, 1)),
    "tiff-16bit": (
        lambda: cv_encode(".tiff", noise(9, 8).astype(np.uint16) * 257),
        ImageInfo("tiff", 9, 8, 16),
    ),
    "tiff-pages": (lambda: pil_encode("TIFF", pil_frames(60, 40, 3)), ImageInfo("tiff", 60, 40, 8, 3)),
    "tiff-grey-pillow": (lambda: pil_encode("TIFF", pil_frames(5, 7, 1, "L")), ImageInfo("tiff", 5, 7, 8)),
    "tiff-mm-by-hand": (
        lambda: tiff_by_hand("MM", 70000, 3, (8, 8, 8), 2),
        ImageInfo("tiff", 70000, 3, 8, 2),
    ),
    "tiff-ii-by-hand": (lambda: tiff_by_hand("II", 4, 5, (16,), 3), ImageInfo("tiff", 4, 5, 16, 3)),
    "bigtiff-by-hand": (lambda: big_tiff(1 << 33, 2), ImageInfo("tiff", 1 << 33, 2, 1)),
}
DECODABLE = [name for name in CASES if "by-hand" not in name]


@functools.cache
def encode_case(name: str) -> bytes:
    return CASES[name][0]()


@pytest.fixture(scope="module")
def encoded() -> dict[str, bytes]:
    return {name: encode_case(name) for name in CASES}


@pytest.mark.parametrize("name", list(CASES))
def test_probe_reports_the_header(encoded: dict[str, bytes], name: str) -> None:
    info = probe_image(encoded[name], name)
    assert info == CASES[name][1]
    assert info.pixels == info.width * info.height
    assert probe_image(memoryview(encoded[name])) == info
    assert probe_image(bytearray(encoded[name])) == info


@pytest.mark.parametrize("name", DECODABLE)
def test_decode_matches_opencv(encoded: dict[str, bytes], name: str) -> None:
    data = encoded[name]
    rgb = decode_image(data, name)
    np.testing.assert_array_equal(rgb, cv_rgb(data))
    assert rgb.flags.c_contiguous
    np.testing.assert_array_equal(decode_image(np.frombuffer(data, np.uint8), name), rgb)
    info = CASES[name][1]
    assert rgb.shape[:2] in ((info.height, info.width), (info.width, info.height))  # EXIF may turn it


def test_read_image_goes_through_the_probe(tmp_path: Path, encoded: dict[str, bytes]) -> None:
    from tryon.media import read_image

    for name, suffix in [("tiff-pages", ".tif"), ("bmp-top-down", ".bmp"), ("webp-animated", ".webp")]:
        path = tmp_path / f"x{suffix}"
        path.write_bytes(encoded[name])
        np.testing.assert_array_equal(read_image(path), cv_rgb(encoded[name]))
    np.testing.assert_array_equal(read_image(tmp_path / "x.bmp")[0], noise(17, 9)[0, :, ::-1])  # BGR; top row
    (tmp_path / "bomb.png").write_bytes(png_bomb())
    with pytest.raises(MediaError, match=r"bomb\.png: expected at most 80000000 pixels, got 30000x30000"):
        read_image(tmp_path / "bomb.png")


@pytest.mark.parametrize("name", list(CASES))
def test_every_truncation_raises_media_error(encoded: dict[str, bytes], name: str) -> None:
    """Each prefix is refused or (once the header is whole) reads as the full file does."""
    data, info = encoded[name], CASES[name][1]
    ends = range(len(data)) if len(data) <= 20_000 else [*range(4096), *range(len(data) - 64, len(data))]
    read = []
    for end in ends:
        try:
            got = probe_image(data[:end], "cut")
        except MediaError as exc:
            message = str(exc)
            assert message.startswith("cut: ")
            read.append(False)
        else:
            assert got == info, end
            read.append(True)
    assert not read[0]
    first = read.index(True) if True in read else len(read)
    assert all(read[first:]), "once the header is whole, longer prefixes read too"
    assert first >= {"jpeg": 4, "png": 41, "webp": 25, "bmp": 26, "tiff": 8}[info.format]
    if info.format == "webp":
        assert not any(read), "a WebP shorter than its RIFF size is truncated"


def test_messages_say_what_was_expected_and_got(encoded: dict[str, bytes]) -> None:
    png = encoded["png-3x2"]
    with pytest.raises(MediaError, match=r"^p: truncated PNG: expected 8 bytes of the first chunk's header"):
        probe_image(png[:12], "p")
    with pytest.raises(
        MediaError, match=r"^p: invalid PNG header: expected IHDR as the first chunk, got b'ID"
    ):
        probe_image(png[:8] + png_chunk(b"IDAT", b"") + png[8:], "p")
    gif = pil_encode("GIF", pil_frames(4, 3, 1, "P"))
    with pytest.raises(
        MediaError, match=rf"^g: expected a JPEG, PNG, WebP, BMP or TIFF image, got {len(gif)} "
    ):
        probe_image(gif, "g")
    with pytest.raises(
        MediaError, match=r"^e: expected a JPEG, PNG, WebP, BMP or TIFF image, got an empty file"
    ):
        probe_image(b"", "e")
    zero = bytearray(encoded["bmp-3x2"])
    struct.pack_into("<i", zero, 18, 0)
    with pytest.raises(
        MediaError, match=r"^b: invalid BMP header: expected a positive width and height, got 0x"
    ):
        probe_image(bytes(zero), "b")
    looped = bytearray(tiff_by_hand("II", 4, 5, (8,), 2))
    struct.pack_into("<I", looped, 50 + 2 + 36, 8)  # the second IFD (at 50) points back at the first
    with pytest.raises(MediaError, match="loop back to offset 8"):
        probe_image(bytes(looped), "t")


# --- fuzzing -------------------------------------------------------------------------------------

MAGICS = [
    b"\xff\xd8\xff",
    b"\x89PNG\r\n\x1a\n",
    b"RIFF\x40\x00\x00\x00WEBP",
    b"BM",
    b"II*\x00",
    b"MM\x00*",
    b"II+\x00",
]
FUZZ = settings(max_examples=300, deadline=timedelta(seconds=2), suppress_health_check=[HealthCheck.too_slow])


def check_probe(data: bytes) -> None:
    try:
        info = probe_image(data, "fuzz")
    except MediaError as exc:
        message = str(exc)
        assert message.startswith("fuzz: ")
        return
    assert info.format in FORMAT_LABELS
    assert info.width > 0
    assert info.height > 0
    assert info.frames >= 1
    assert info.bit_depth > 0


@FUZZ
@given(st.binary(max_size=600))
def test_fuzz_random_bytes(data: bytes) -> None:
    check_probe(data)


@FUZZ
@given(st.sampled_from(MAGICS), st.binary(max_size=600))
def test_fuzz_magic_then_random(magic: bytes, rest: bytes) -> None:
    check_probe(magic + rest)


@FUZZ
@given(st.sampled_from(sorted(CASES)), st.data())
def test_fuzz_mutated_real_headers(name: str, draw: st.DataObject) -> None:
    data = bytearray(encode_case(name)[:2048])
    for _ in range(draw.draw(st.integers(1, 8))):
        at = draw.draw(st.integers(0, min(len(data), 120) - 1))
        op = draw.draw(st.sampled_from(["set", "insert", "delete", "cut"]))
        if op == "set":
            data[at] = draw.draw(st.integers(0, 255))
        elif op == "insert":
            data[at:at] = draw.draw(st.binary(min_size=1, max_size=8))
        elif op == "delete" and len(data) > 1:
            del data[at]
        elif op == "cut":
            del data[at + 1 :]
    check_probe(bytes(data))


def test_bounded_work_on_adversarial_input() -> None:
    """Inputs that make a careless parser loop long or forever: each ends in one pass."""
    fills = b"\xff\xd8" + b"\xff" * 1_000_000 + b"\x00"  # fill bytes, then a stuffed zero, no marker
    with pytest.raises(MediaError, match="truncated JPEG"):
        probe_image(fills)
    segments = b"\xff\xd8\xff" + b"\xfe\x00\x02\xff" * 200_000 + bombs()[2][2:]
    assert probe_image(segments).width == 65500
    chunks = b"".join([png_chunk(b"tEXt", b"")] * 100_000)
    png = bombs()[1]
    assert probe_image(png[:33] + chunks + png[33:]).width == 30000
    pages = tiff_by_hand("II", 4, 5, (8,), 50_000)
    assert probe_image(pages).frames == 50_000
    anmf = b"ANMF\x00\x00\x00\x00" * 100_000
    body = b"WEBP" + b"VP8X" + struct.pack("<I", 10) + b"\x02\0\0\0" + b"\x3b\0\0\x27\0\0" + anmf
    assert probe_image(b"RIFF" + struct.pack("<I", len(body)) + body).frames == 100_000


# --- bombs ---------------------------------------------------------------------------------------


def webp_bomb() -> bytes:
    """38 bytes: a lossless WebP declaring 16383x16383."""
    bits = (16383 - 1) | ((16383 - 1) << 14)
    vp8l = b"\x2f" + struct.pack("<I", bits) + bytes(13)
    chunk = b"VP8L" + struct.pack("<I", len(vp8l)) + vp8l
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


def png_bomb(side: int = 30000) -> bytes:
    """A grey PNG declaring side x side whose IDAT holds every row, all zeros: 0.9 MB for 30000.

    Built in milliseconds: the deflate stream is one fully flushed run of 1000 rows (byte-aligned,
    no history), repeated, then a final empty block; the Adler-32 of n zeros is ``n << 16 | 1``.
    """
    row, rows = side + 1, 1000
    raw = zlib.compressobj(9, zlib.DEFLATED, -15)
    run = raw.compress(bytes(row * rows)) + raw.flush(zlib.Z_FULL_FLUSH)
    tail = zlib.compressobj(9, zlib.DEFLATED, -15)
    rest = tail.compress(bytes(row * (side % rows))) + tail.flush()
    total = row * side
    idat = b"\x78\xda" + run * (side // rows) + rest + struct.pack(">I", (total % 65521) << 16 | 1)
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")
    )


def jpeg_bomb() -> bytes:
    """A baseline JPEG declaring 65500x65500: SOI, APP0, SOF0, a scan header, a few bytes, EOI."""
    app0 = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof = struct.pack(">BHHB", 8, 65500, 65500, 3) + b"\x01\x11\x00\x02\x11\x01\x03\x11\x01"
    sos = b"\x03\x01\x00\x02\x11\x03\x11\x00\x3f\x00"
    segments = [(0xE0, app0), (0xC0, sof), (0xDA, sos)]
    body = b"".join(b"\xff" + bytes([m]) + struct.pack(">H", len(d) + 2) + d for m, d in segments)
    return b"\xff\xd8" + body + bytes(64) + b"\xff\xd9"


def bombs() -> list[bytes]:
    return [webp_bomb(), png_bomb(), jpeg_bomb()]


def test_bombs_declare_huge_images() -> None:
    webp, png, jpeg = bombs()
    assert len(webp) == 38
    assert len(png) < 1_000_000
    assert probe_image(webp) == ImageInfo("webp", 16383, 16383, 8)
    assert probe_image(png) == ImageInfo("png", 30000, 30000, 8)
    assert probe_image(jpeg) == ImageInfo("jpeg", 65500, 65500, 8)


@pytest.mark.parametrize(
    ("index", "declared"),
    [(0, "16383x16383 \\(WebP\\)"), (1, "30000x30000 \\(PNG\\)"), (2, "65500x65500 \\(JPEG\\)")],
)
def test_bombs_refused_before_decoding(index: int, declared: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def never(*_: object) -> None:
        raise AssertionError("cv2.imdecode called on a bomb")

    monkeypatch.setattr(cv2, "imdecode", never)
    with pytest.raises(MediaError, match=f"^photo: expected at most 25000000 pixels, got {declared}$"):
        decode_image(bombs()[index], "photo", max_pixels=25_000_000, formats=UPLOAD_FORMATS)
    with pytest.raises(MediaError, match=f"expected at most 80000000 pixels, got {declared}"):
        decode_image(bombs()[index])  # the default limit refuses them too


MEMORY_SCRIPT = """
import json, resource, sys
from tryon.errors import MediaError
from tryon.media import decode_image
bombs = [open(p, "rb").read() for p in sys.argv[1:]]
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
refused = 0
for _ in range(3):
    for bomb in bombs:
        try:
            decode_image(bomb, "bomb", max_pixels=25_000_000)
        except MediaError:
            refused += 1
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"grew_kib": after - before, "refused": refused}))
"""


def test_bombs_cost_no_memory(tmp_path: Path) -> None:
    """In a fresh process (so an earlier test's peak cannot hide it): peak RSS grows < 50 MB."""
    paths = []
    for i, bomb in enumerate(bombs()):
        paths.append(tmp_path / f"bomb{i}")
        paths[-1].write_bytes(bomb)
    run = subprocess.run(
        [sys.executable, "-c", MEMORY_SCRIPT, *map(str, paths)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["refused"] == 9
    assert result["grew_kib"] < 50 * 1024  # ru_maxrss is in KiB on Linux


# --- formats and arguments -----------------------------------------------------------------------


def test_formats_restriction(encoded: dict[str, bytes]) -> None:
    for name in ("png-3x2", "jpeg-3x2", "webp-lossy-3x2", "webp-animated", "apng"):
        decode_image(encoded[name], "photo", formats=UPLOAD_FORMATS)
    for name, label in [("bmp-3x2", "BMP"), ("tiff-3x2", "TIFF"), ("tiff-mm-by-hand", "TIFF")]:
        with pytest.raises(MediaError, match=f"^photo: expected JPEG, PNG or WebP, got {label}$"):
            decode_image(encoded[name], "photo", formats=UPLOAD_FORMATS)
    gif = pil_encode("GIF", pil_frames(4, 3, 1, "P"))
    expected = rf"^photo: expected a JPEG, PNG or WebP image, got {len(gif)} bytes starting b'GIF8[79]a"
    with pytest.raises(MediaError, match=expected):
        decode_image(gif, "photo", formats=UPLOAD_FORMATS)
    expected = r"^photo: not an image OpenCV can read \(expected a JPEG, PNG, WebP, BMP or TIFF image, got"
    with pytest.raises(MediaError, match=expected):
        decode_image(gif, "photo")
    with pytest.raises(MediaError, match=r"^photo: expected PNG, got JPEG$"):
        decode_image(encoded["jpeg-3x2"], "photo", formats=["png"])
    with pytest.raises(InputError, match="formats: expected some of"):
        decode_image(encoded["png-3x2"], formats=["gif"])
    with pytest.raises(InputError, match="max_side"):
        decode_image(encoded["png-3x2"], max_side=0)
    with pytest.raises(InputError, match="max_pixels"):
        decode_image(encoded["png-3x2"], max_pixels=0)


def test_pixel_limit_is_inclusive(encoded: dict[str, bytes]) -> None:
    assert decode_image(encoded["png-61x97"], max_pixels=61 * 97).shape == (97, 61, 3)
    with pytest.raises(MediaError, match="expected at most 5916 pixels, got 61x97 \\(PNG\\)"):
        decode_image(encoded["png-61x97"], max_pixels=61 * 97 - 1)


def test_header_disagreeing_with_decoder(encoded: dict[str, bytes], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cv2, "imdecode", lambda *_: np.zeros((5, 4, 3), np.uint8))
    with pytest.raises(MediaError, match=r"^x: header says 61x97, decoded 4x5$"):
        decode_image(encoded["png-61x97"], "x")


# --- reduced JPEG decode -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def big_jpeg() -> bytes:
    x = (np.arange(4001) % 256).astype(np.uint8)[None, :]
    y = (np.arange(2999) % 256).astype(np.uint8)[:, None]
    image = np.empty((2999, 4001, 3), np.uint8)
    image[..., 0], image[..., 1], image[..., 2] = x, y, x + y  # uint8: wraps at 256
    return cv_encode(".jpg", image)


@pytest.mark.parametrize(
    ("max_side", "scale"),
    [
        *[(5000, 1), (4001, 1), (4000, 1), (2002, 1), (2001, 2), (2000, 2), (1002, 2)],
        *[(1001, 4), (1000, 4), (600, 4), (502, 4), (501, 8), (100, 8)],
    ],
)
def test_reduced_jpeg_decode(big_jpeg: bytes, max_side: int, scale: int) -> None:
    rgb = decode_image(big_jpeg, max_side=max_side)
    assert rgb.shape == (-(-2999 // scale), -(-4001 // scale), 3)
    flags = [
        cv2.IMREAD_COLOR,
        cv2.IMREAD_REDUCED_COLOR_2,
        cv2.IMREAD_REDUCED_COLOR_4,
        cv2.IMREAD_REDUCED_COLOR_8,
    ]
    np.testing.assert_array_equal(rgb, cv_rgb(big_jpeg, flags[scale.bit_length() - 1]))
    longer = rgb.shape[1]
    assert longer >= min(max_side, 4001)
    if scale < 8 and max_side < 4001:
        assert longer < 2 * max_side  # the smallest scale still at least max_side


def test_reduced_decode_keeps_exif_orientation_and_skips_other_formats(encoded: dict[str, bytes]) -> None:
    image = Image.fromarray(noise(400, 300))
    turned = pil_encode("JPEG", [image], exif=exif(6))  # 90 degrees clockwise
    assert decode_image(turned).shape == (400, 300, 3)
    assert decode_image(turned, max_side=100).shape == (100, 75, 3)  # 1/4 scale, then turned
    png = encoded["png-1000x17"]
    assert decode_image(png, max_side=10).shape == (17, 1000, 3)
