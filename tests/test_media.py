"""tryon.media: image read/write, video probe/decode, and transcode with audio kept.

The videos are synthesised here with PyAV: known gradients with the frame index written as a
block pattern, an AAC (or PCM) sine wave; H.264 is lossy, so contents compare with tolerances.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from av.audio.stream import AudioStream
from numpy.typing import NDArray

from tryon.errors import InputError, MediaError
from tryon.media import (
    TranscodeStats,
    is_image,
    is_video,
    iter_video_frames,
    probe_video,
    read_image,
    transcode_video,
    write_image,
)

FPS = 25
N_FRAMES = 30  # 1.2 s
SAMPLE_RATE = 44100
BITS = 5  # frame index blocks


def pattern(i: int, w: int, h: int) -> NDArray[np.uint8]:
    """Frame ``i``: an x/y gradient that drifts with ``i``, the index in white/black blocks on top."""
    x = np.linspace(0, 200, w)[None, :]
    y = np.linspace(0, 200, h)[:, None]
    img = np.zeros((h, w, 3), np.uint8)
    img[..., 0] = np.broadcast_to(x + 2 * i, (h, w)).astype(np.uint8)
    img[..., 1] = np.broadcast_to(y, (h, w)).astype(np.uint8)
    img[..., 2] = 60 + 4 * i
    bw = w // BITS
    for b in range(BITS):
        img[: h // 3, b * bw : (b + 1) * bw] = 255 if (i >> b) & 1 else 0
    return img


def frame_index(img: NDArray[np.uint8]) -> int:
    h, w = img.shape[:2]
    bw = w // BITS
    index = 0
    for b in range(BITS):
        cy, cx = h // 6, b * bw + bw // 2
        if img[cy - 2 : cy + 2, cx - 2 : cx + 2].mean() > 128:
            index |= 1 << b
    return index


def mad(a: NDArray[np.uint8], b: NDArray[np.uint8]) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def make_video(
    path: Path,
    w: int = 64,
    h: int = 48,
    *,
    audio: str | None = "aac",
    pts_ms: Sequence[int] | None = None,
    rotation: int | None = None,
) -> Path:
    """An H.264 video of ``pattern`` frames at 25 fps (or at ``pts_ms``), with a 440 Hz sine."""
    pts = list(pts_ms) if pts_ms is not None else [i * 40 for i in range(N_FRAMES)]
    with av.open(str(path), "w") as out:
        vs = out.add_stream("libx264", rate=FPS, options={"crf": "8", "preset": "ultrafast"})
        vs.width, vs.height = w, h
        vs.pix_fmt = "yuv420p" if w % 2 == h % 2 == 0 else "yuv444p"  # x264 4:2:0 needs even sides
        vs.codec_context.time_base = Fraction(1, 1000)
        if rotation is not None:
            vs.set_display_rotation(rotation)
        aus = out.add_stream(audio, rate=SAMPLE_RATE, layout="stereo") if audio else None
        for i, p in enumerate(pts):
            frame = av.VideoFrame.from_ndarray(pattern(i, w, h), format="rgb24")
            frame.pts, frame.time_base = p, Fraction(1, 1000)
            out.mux(vs.encode(frame))
        out.mux(vs.encode(None))
        if isinstance(aus, AudioStream):
            n = round(SAMPLE_RATE * (pts[-1] + 40) / 1000)
            wave = (0.3 * np.sin(2 * np.pi * 440 * np.arange(n) / SAMPLE_RATE)).astype(np.float32)
            for start in range(0, n, 1024):
                chunk = wave[start : start + 1024]
                if audio == "aac":
                    af = av.AudioFrame.from_ndarray(np.stack([chunk, chunk]), "fltp", "stereo")
                else:
                    pcm = (np.repeat(chunk, 2) * 32767).astype(np.int16)[None]
                    af = av.AudioFrame.from_ndarray(pcm, "s16", "stereo")
                af.sample_rate, af.pts, af.time_base = SAMPLE_RATE, start, Fraction(1, SAMPLE_RATE)
                out.mux(aus.encode(af))
            out.mux(aus.encode(None))
    return path


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("videos")
    return {
        "av": make_video(d / "av.mp4"),
        "mute": make_video(d / "mute.mp4", audio=None),
        "odd": make_video(d / "odd.mkv", 65, 49),
        "pcm": make_video(d / "pcm.mkv", audio="pcm_s16le"),
        "vfr": make_video(d / "vfr.mp4", audio=None, pts_ms=[0, 40, 120, 140, 200, 330, 360, 400, 410]),
        "rot": make_video(d / "rot.mp4", audio=None, rotation=90),
    }


def frames_of(path: Path) -> list[tuple[NDArray[np.uint8], float]]:
    return list(iter_video_frames(path))


def audio_of(path: Path) -> tuple[str, float, list[bytes]]:
    """Codec, decoded duration in seconds and packet payloads of the first audio stream."""
    with av.open(str(path)) as c:
        stream = c.streams.audio[0]
        payloads = [bytes(p) for p in c.demux(stream) if p.size]
    with av.open(str(path)) as c:
        samples = sum(f.samples for f in c.decode(audio=0))
        rate = c.streams.audio[0].codec_context.sample_rate
    return stream.codec_context.name, samples / rate, payloads


def only(tmp_path: Path, *names: str) -> None:
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names)


# --- images -------------------------------------------------------------------------------------


def test_suffixes() -> None:
    assert is_video("a/b.MP4")
    assert is_video("x.webm")
    assert is_video("x.m4v")
    assert not is_video("x.png")
    assert is_image("x.JPG")
    assert is_image("x.tiff")
    assert not is_image("x.mp4")
    assert not is_image("png")


def test_png_exact_and_jpg_close(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    noisy = rng.integers(0, 256, (37, 53, 3), dtype=np.uint8)
    write_image(tmp_path / "a.png", noisy)
    back = read_image(tmp_path / "a.png")
    assert back.dtype == np.uint8
    assert back.flags.c_contiguous
    np.testing.assert_array_equal(back, noisy)
    smooth = pattern(3, 80, 60)
    for name in ("b.jpg", "c.webp"):
        write_image(tmp_path / name, smooth)
        assert mad(read_image(tmp_path / name), smooth) < 3
    only(tmp_path, "a.png", "b.jpg", "c.webp")  # no temporary files left


def test_read_grey_rgba_16bit(tmp_path: Path) -> None:
    grey = np.arange(20 * 30, dtype=np.uint8).reshape(20, 30)
    cv2.imwrite(str(tmp_path / "g.png"), grey)
    rgb = read_image(tmp_path / "g.png")
    assert rgb.shape == (20, 30, 3)
    for c in range(3):
        np.testing.assert_array_equal(rgb[..., c], grey)
    bgra = np.zeros((10, 12, 4), np.uint8)
    bgra[..., 0], bgra[..., 2], bgra[..., 3] = 200, 10, 0  # blue, fully transparent
    cv2.imwrite(str(tmp_path / "a.png"), bgra)
    rgb = read_image(tmp_path / "a.png")
    assert rgb.shape == (10, 12, 3)
    assert rgb[0, 0].tolist() == [10, 0, 200]
    deep = np.full((8, 9, 3), 0x7F00, np.uint16)
    cv2.imwrite(str(tmp_path / "d.png"), deep)
    rgb = read_image(tmp_path / "d.png")
    assert rgb.dtype == np.uint8
    assert rgb.shape == (8, 9, 3)
    assert int(rgb.max()) == 0x7F


@pytest.mark.parametrize(
    "bad",
    [np.zeros((4, 4), np.uint8), np.zeros((4, 4, 4), np.uint8), np.zeros((4, 4, 3), np.float32), [[1]]],
)
def test_write_image_bad_array(tmp_path: Path, bad: object) -> None:
    with pytest.raises(InputError, match=r"expected an \(H, W, 3\) uint8 array, got"):
        write_image(tmp_path / "x.png", bad)  # type: ignore[arg-type]
    only(tmp_path)


def test_write_image_bad_paths(tmp_path: Path) -> None:
    img = pattern(0, 16, 16)
    with pytest.raises(MediaError, match=r"suffix '\.gif'"):
        write_image(tmp_path / "x.gif", img)
    with pytest.raises(MediaError, match="no such directory"):
        write_image(tmp_path / "missing" / "x.png", img)
    only(tmp_path)


def test_read_image_errors(tmp_path: Path) -> None:
    missing = tmp_path / "nope.png"
    with pytest.raises(MediaError, match=r"nope\.png: no such file"):
        read_image(missing)
    fake = tmp_path / "fake.png"
    fake.write_text("this is not a picture\n")
    with pytest.raises(MediaError, match=r"fake\.png: not an image OpenCV can read"):
        read_image(fake)


# --- probe and decode ---------------------------------------------------------------------------


def test_probe(videos: dict[str, Path]) -> None:
    info = probe_video(videos["av"])
    assert (info.width, info.height, info.fps, info.frames) == (64, 48, 25.0, N_FRAMES)
    assert info.duration_s == pytest.approx(1.2, abs=0.05)
    assert info.has_audio
    assert info.codec == "h264"
    assert not probe_video(videos["mute"]).has_audio
    odd = probe_video(videos["odd"])
    assert (odd.width, odd.height) == (65, 49)
    rot = probe_video(videos["rot"])
    assert (rot.width, rot.height) == (48, 64)  # the display size


def test_probe_errors(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match=r"gone\.mp4: no such file"):
        probe_video(tmp_path / "gone.mp4")
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video at all" * 10)
    with pytest.raises(MediaError, match=r"junk\.mp4"):
        probe_video(junk)
    with pytest.raises(MediaError, match=r"junk\.mp4"):
        iter_video_frames(junk)


def test_iter_video_frames(videos: dict[str, Path]) -> None:
    frames = frames_of(videos["av"])
    assert len(frames) == N_FRAMES
    times = [t for _, t in frames]
    assert times == pytest.approx([i / FPS for i in range(N_FRAMES)], abs=1e-6)
    for i, (img, _) in enumerate(frames):
        assert img.shape == (48, 64, 3)
        assert img.dtype == np.uint8
        assert img.flags.c_contiguous
        assert frame_index(img) == i
        assert mad(img, pattern(i, 64, 48)) < 6


def test_iter_rotated_video_is_upright(videos: dict[str, Path]) -> None:
    frames = frames_of(videos["rot"])
    assert len(frames) == N_FRAMES
    img = frames[7][0]
    assert img.shape == (64, 48, 3)
    assert mad(img, np.rot90(pattern(7, 64, 48), 1)) < 6  # turned counter-clockwise


# --- transcode ----------------------------------------------------------------------------------


def test_transcode_identity_keeps_frames_audio_and_timing(videos: dict[str, Path], tmp_path: Path) -> None:
    src, dst = videos["av"], tmp_path / "out.mp4"
    seen: list[float] = []

    def fn(img: NDArray[np.uint8], t: float) -> NDArray[np.uint8]:
        seen.append(t)
        return img

    stats = transcode_video(src, dst, fn, progress=False)
    assert stats == TranscodeStats(N_FRAMES, 64, 48, 25.0, "copied", stats.seconds)
    only(tmp_path, "out.mp4")
    src_info, out_info = probe_video(src), probe_video(dst)
    assert (out_info.width, out_info.height, out_info.fps, out_info.frames) == (64, 48, 25.0, N_FRAMES)
    assert out_info.codec == "h264"
    assert out_info.has_audio
    assert src_info.duration_s is not None
    assert out_info.duration_s is not None
    assert abs(out_info.duration_s - src_info.duration_s) <= 1 / FPS
    ins, outs = frames_of(src), frames_of(dst)
    assert [t for _, t in outs] == pytest.approx([t for _, t in ins], abs=1e-3)
    assert seen == [t for _, t in ins]
    for i, ((a, _), (b, _)) in enumerate(zip(ins, outs, strict=True)):
        assert frame_index(b) == i
        assert mad(a, b) < 6
    codec, seconds, payloads = audio_of(dst)
    src_codec, src_seconds, src_payloads = audio_of(src)
    assert codec == src_codec == "aac"
    assert seconds == pytest.approx(src_seconds, abs=0.1)
    assert payloads == src_payloads  # copied, not re-encoded


def test_transcode_invert(videos: dict[str, Path], tmp_path: Path) -> None:
    dst = tmp_path / "inv.mp4"
    transcode_video(videos["av"], dst, lambda img, t: 255 - img, progress=False)
    outs = frames_of(dst)
    assert len(outs) == N_FRAMES
    for i, (img, _) in enumerate(outs):
        assert mad(img, 255 - pattern(i, 64, 48)) < 6


def test_transcode_double_width(videos: dict[str, Path], tmp_path: Path) -> None:
    dst = tmp_path / "side.mp4"
    stats = transcode_video(
        videos["av"], dst, lambda img, t: np.concatenate([img, 255 - img], axis=1), progress=False
    )
    assert (stats.width, stats.height) == (128, 48)
    assert (probe_video(dst).width, probe_video(dst).height) == (128, 48)
    img = frames_of(dst)[4][0]
    assert mad(img[:, :64], pattern(4, 64, 48)) < 6
    assert mad(img[:, 64:], 255 - pattern(4, 64, 48)) < 6


def test_transcode_odd_size_pads_by_repeating_the_edge(videos: dict[str, Path], tmp_path: Path) -> None:
    dst = tmp_path / "odd.mp4"
    stats = transcode_video(videos["odd"], dst, lambda img, t: img, progress=False)
    assert (stats.width, stats.height, stats.frames, stats.audio) == (66, 50, N_FRAMES, "copied")
    outs = frames_of(dst)
    assert len(outs) == N_FRAMES
    img = outs[9][0]
    assert img.shape == (50, 66, 3)
    ref = pattern(9, 65, 49)
    assert mad(img[:49, :65], ref) < 6
    assert mad(img[:49, 65], ref[:, 64]) < 8
    assert mad(img[49, :65], ref[48]) < 8


def test_transcode_fn_error_leaves_nothing(videos: dict[str, Path], tmp_path: Path) -> None:
    class BoomError(RuntimeError):
        """Raised by the frame function."""

    error = BoomError("frame 5")
    calls: list[int] = []

    def fn(img: NDArray[np.uint8], t: float) -> NDArray[np.uint8]:
        calls.append(frame_index(img))
        if len(calls) == 6:
            raise error
        return img

    with pytest.raises(BoomError) as caught:
        transcode_video(videos["av"], tmp_path / "out.mp4", fn, progress=False)
    assert caught.value is error
    assert calls == [0, 1, 2, 3, 4, 5]
    only(tmp_path)


def test_transcode_size_change_is_an_input_error(videos: dict[str, Path], tmp_path: Path) -> None:
    def fn(img: NDArray[np.uint8], t: float) -> NDArray[np.uint8]:
        return img if t < 0.1 else img[:, :32]

    with pytest.raises(InputError, match=r"returned shape \(48, 32, 3\), expected \(48, 64, 3\)"):
        transcode_video(videos["av"], tmp_path / "out.mp4", fn, progress=False)
    with pytest.raises(InputError, match=r"expected an \(H, W, 3\) uint8 array"):
        transcode_video(videos["av"], tmp_path / "out.mp4", lambda img, t: img[..., 0], progress=False)
    only(tmp_path)


def test_transcode_bad_paths(videos: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(MediaError, match=r"missing\.mp4: no such file"):
        transcode_video(tmp_path / "missing.mp4", tmp_path / "out.mp4", lambda i, t: i, progress=False)
    junk = tmp_path / "junk.mp4"
    junk.write_text("plain text\n")
    with pytest.raises(MediaError, match=r"junk\.mp4: not a video"):
        transcode_video(junk, tmp_path / "out.mp4", lambda i, t: i, progress=False)
    with pytest.raises(MediaError, match=r"suffix '\.gif'"):
        transcode_video(videos["av"], tmp_path / "out.gif", lambda i, t: i, progress=False)
    with pytest.raises(MediaError, match="no such directory"):
        transcode_video(videos["av"], tmp_path / "no" / "out.mp4", lambda i, t: i, progress=False)
    only(tmp_path, "junk.mp4")


def test_transcode_without_audio(videos: dict[str, Path], tmp_path: Path) -> None:
    dst = tmp_path / "out.mp4"
    stats = transcode_video(videos["mute"], dst, lambda img, t: img, progress=False)
    assert stats.audio == "none"
    assert stats.frames == N_FRAMES
    assert not probe_video(dst).has_audio


def test_transcode_keeps_variable_frame_rate(videos: dict[str, Path], tmp_path: Path) -> None:
    src = videos["vfr"]
    ins = [t for _, t in frames_of(src)]
    assert ins == pytest.approx([0, 0.04, 0.12, 0.14, 0.2, 0.33, 0.36, 0.4, 0.41], abs=1e-6)
    for name in ("out.mp4", "out.mkv"):
        transcode_video(src, tmp_path / name, lambda img, t: img, progress=False)
        outs = frames_of(tmp_path / name)
        assert [t for _, t in outs] == pytest.approx(ins, abs=1e-3)
        assert [frame_index(img) for img, _ in outs] == list(range(len(ins)))


def test_transcode_reencodes_audio_the_container_cannot_take(videos: dict[str, Path], tmp_path: Path) -> None:
    src, dst = videos["pcm"], tmp_path / "out.mp4"  # PCM in Matroska → AAC in MP4
    stats = transcode_video(src, dst, lambda img, t: img, progress=False)
    assert stats.audio == "transcoded"
    codec, seconds, _ = audio_of(dst)
    assert codec == "aac"
    assert seconds == pytest.approx(audio_of(src)[1], abs=0.1)


def test_transcode_webm(videos: dict[str, Path], tmp_path: Path) -> None:
    dst = tmp_path / "out.webm"  # AAC is not allowed in WebM → Opus
    stats = transcode_video(videos["av"], dst, lambda img, t: img, progress=False)
    assert stats.audio == "transcoded"
    info = probe_video(dst)
    assert info.codec in ("vp9", "vp8")
    assert info.has_audio
    codec, seconds, _ = audio_of(dst)
    assert codec in ("opus", "libopus")
    assert seconds == pytest.approx(1.2, abs=0.1)
    outs = frames_of(dst)
    assert len(outs) == N_FRAMES
    assert all(frame_index(img) == i for i, (img, _) in enumerate(outs))


def test_transcode_rotated_input_is_written_upright(videos: dict[str, Path], tmp_path: Path) -> None:
    dst = tmp_path / "out.mp4"
    stats = transcode_video(videos["rot"], dst, lambda img, t: img, progress=False)
    assert (stats.width, stats.height) == (48, 64)
    img = frames_of(dst)[3][0]
    assert img.shape == (64, 48, 3)
    assert mad(img, np.rot90(pattern(3, 64, 48), 1)) < 6


def test_transcode_colours_and_silence(
    videos: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    colours = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255], [0, 0, 0], [200, 120, 40]])

    def solid(img: NDArray[np.uint8], t: float) -> NDArray[np.uint8]:
        out = np.empty_like(img)
        out[:] = colours[round(t * FPS) % len(colours)]
        return out

    stats = transcode_video(videos["mute"], tmp_path / "out.mp4", solid, progress=False)
    assert capsys.readouterr() == ("", "")  # no bar, nothing printed
    assert stats.frames == N_FRAMES
    for i, (img, _) in enumerate(frames_of(tmp_path / "out.mp4")):
        # The BT.709 limited-range conversion is tagged in the stream and read back the same way.
        assert np.abs(img[24, 32].astype(int) - colours[i % len(colours)]).max() <= 3
