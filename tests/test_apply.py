"""``tryon apply``: products onto an image or a video from the command line."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from numpy.typing import NDArray

from tryon.cli.main import main
from tryon.media import read_image
from tryon.render.compare import DIVIDER
from tryon.testing import moving


@pytest.fixture(scope="module")
def photo(tmp_path_factory: pytest.TempPathFactory, astronaut: NDArray[np.uint8]) -> Path:
    path = tmp_path_factory.mktemp("apply") / "astronaut.png"
    cv2.imwrite(str(path), cv2.cvtColor(astronaut, cv2.COLOR_RGB2BGR))
    return path


def test_apply_image(photo: Path, tmp_path: Path, astronaut: NDArray[np.uint8]) -> None:
    out = tmp_path / "out.png"
    assert main(["apply", "--product", "velvet-matte-lipstick:ruby-red", str(photo), "-o", str(out)]) == 0
    result = read_image(out)
    assert result.shape == astronaut.shape
    diff = np.abs(result.astype(np.int16) - astronaut).sum(axis=2)
    ys, xs = np.nonzero(diff)
    assert 120 < ys.mean() < 160, "the change is at the mouth"
    assert 190 < xs.mean() < 260
    assert diff[:100].max() == 0
    assert diff[200:].max() == 0


def test_apply_compare_and_intensity(photo: Path, tmp_path: Path, astronaut: NDArray[np.uint8]) -> None:
    out = tmp_path / "cmp.png"
    code = main(
        [
            "apply",
            "-p",
            "velvet-matte-lipstick",
            "-p",
            "lit-glow-blush",
            "--intensity",
            "0.5",
            "--compare",
            str(photo),
            "-o",
            str(out),
        ]
    )
    assert code == 0
    result = read_image(out)
    w = astronaut.shape[1]
    assert result.shape == (512, 2 * w + DIVIDER, 3)
    assert np.array_equal(result[:, :w], astronaut), "left half is the untouched original"
    assert not np.array_equal(result[:, w + DIVIDER :], astronaut)
    zero = tmp_path / "zero.png"
    assert (
        main(["apply", "-p", "velvet-matte-lipstick", "--intensity", "0", str(photo), "-o", str(zero)]) == 0
    )
    assert np.array_equal(read_image(zero), astronaut)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-p", "no-such-product"], "no-such-product"),
        (["-p", "velvet-matte-lipstick:not-a-shade"], "not-a-shade"),
        (
            ["-p", "velvet-matte-lipstick", "--intensity", "2"],
            "intensity: expected a number in [0, 1], got 2.0",
        ),
    ],
)
def test_apply_bad_requests(
    photo: Path, tmp_path: Path, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "bad.png"
    assert main(["apply", *args, str(photo), "-o", str(out)]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_apply_unreadable_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "broken.png"
    bad.write_text("not an image")
    assert main(["apply", "-p", "velvet-matte-lipstick", str(bad), "-o", str(tmp_path / "o.png")]) == 2
    assert "broken.png" in capsys.readouterr().err
    assert (
        main(
            [
                "apply",
                "-p",
                "velvet-matte-lipstick",
                str(tmp_path / "missing.png"),
                "-o",
                str(tmp_path / "o.png"),
            ]
        )
        == 2
    )


def _make_video(path: Path, portrait: NDArray[np.uint8], frames: int) -> None:
    """A moving portrait at 15 fps with a 440 Hz AAC soundtrack."""
    h, w = portrait.shape[:2]
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=15)
        video.width, video.height, video.pix_fmt = w, h, "yuv420p"
        audio = container.add_stream("aac", rate=16000)
        for t in moving(frames):
            frame = av.VideoFrame.from_ndarray(t.apply(portrait), format="rgb24")
            for packet in video.encode(frame):
                container.mux(packet)
        samples = int(16000 * frames / 15)
        tone = (0.2 * np.sin(2 * np.pi * 440 * np.arange(samples) / 16000)).astype(np.float32)
        for start in range(0, samples, 1024):
            chunk = tone[start : start + 1024][None, :]
            aframe = av.AudioFrame.from_ndarray(chunk, format="flt", layout="mono")
            aframe.sample_rate = 16000
            aframe.pts = start
            aframe.time_base = Fraction(1, 16000)
            for packet in audio.encode(aframe):
                container.mux(packet)
        for stream in (video, audio):
            for packet in stream.encode(None):
                container.mux(packet)


def test_apply_video_keeps_frames_and_audio(tmp_path: Path, portrait: NDArray[np.uint8]) -> None:
    src, dst = tmp_path / "in.mp4", tmp_path / "out.mp4"
    _make_video(src, portrait, 12)
    assert main(["apply", "-p", "velvet-matte-lipstick:ruby-red", str(src), "-o", str(dst)]) == 0
    with av.open(str(src)) as a, av.open(str(dst)) as b:
        assert len(b.streams.audio) == 1
        fa = [f.to_ndarray(format="rgb24") for f in a.decode(video=0)]
        fb = [f.to_ndarray(format="rgb24") for f in b.decode(video=0)]
    assert len(fb) == len(fa) == 12
    red = np.array([155, 17, 30], np.float64)
    moved = 0
    for x, y in zip(fa, fb, strict=True):
        diff = np.abs(x.astype(np.int16) - y).sum(axis=2)
        changed = diff > 30
        assert changed.sum() > 50
        # the change is lipstick: the changed pixels moved towards the shade
        before = np.abs(x[changed].astype(np.float64) - red).sum(axis=1).mean()
        after = np.abs(y[changed].astype(np.float64) - red).sum(axis=1).mean()
        moved += after < before
    assert moved == len(fa)


def test_apply_accessories_on_a_video(tmp_path: Path, portrait: NDArray[np.uint8]) -> None:
    """Earrings, a hat and a necklace follow a moving head through a whole video."""
    from tryon.headpose import estimate_head_pose
    from tryon.perception import Perception, PerceptionConfig
    from tryon.render.earrings import ear_lobes

    src, dst = tmp_path / "in.mp4", tmp_path / "out.mp4"
    _make_video(src, portrait, 10)
    specs = ["aurora-hoop-earrings:yellow-gold", "bowery-felt-fedora:black", "riviera-pearl-strand"]
    args = ["apply", *[a for s in specs for a in ("-p", s)], str(src), "-o", str(dst)]
    assert main(args) == 0
    with av.open(str(src)) as a, av.open(str(dst)) as b:
        fa = [f.to_ndarray(format="rgb24") for f in a.decode(video=0)]
        fb = [f.to_ndarray(format="rgb24") for f in b.decode(video=0)]
    assert len(fb) == len(fa) == 10
    perception = Perception(PerceptionConfig(static_image_mode=True))
    for x, y in zip(fa, fb, strict=True):
        face = perception.process(x).faces[0]
        changed = np.abs(x.astype(np.int16) - y).max(axis=2) > 30
        iod = face.interocular
        yy, xx = np.mgrid[0 : x.shape[0], 0 : x.shape[1]]
        for lobe in ear_lobes(estimate_head_pose(face.landmarks)):  # a hoop under each lobe
            cx, cy = lobe.xy + np.array([0.0, 0.2 * iod])
            assert (changed & ((xx - cx) ** 2 + (yy - cy) ** 2 < (0.3 * iod) ** 2)).sum() > 10
        assert changed[: int(face.landmarks[10, 1])].sum() > 0.5 * iod**2  # the hat over the head
        below = changed[int(face.landmarks[152, 1] + 0.3 * iod) :]
        assert below.sum() > 30  # the pearls under the chin


def test_apply_a_garment_on_a_video(tmp_path: Path, portrait: NDArray[np.uint8]) -> None:
    """The pyjama top on the torso of every frame of a moving video, above the shoulders untouched."""
    from tryon.perception import Perception, PerceptionConfig

    src, dst = tmp_path / "in.mp4", tmp_path / "out.mp4"
    _make_video(src, portrait, 8)
    assert main(["apply", "-p", "holiday-fair-isle-pyjama-top-adult:green", str(src), "-o", str(dst)]) == 0
    with av.open(str(src)) as a, av.open(str(dst)) as b:
        fa = [f.to_ndarray(format="rgb24") for f in a.decode(video=0)]
        fb = [f.to_ndarray(format="rgb24") for f in b.decode(video=0)]
    assert len(fb) == len(fa) == 8
    perception = Perception(PerceptionConfig(static_image_mode=True, faces=False, poses=True))
    for x, y in zip(fa, fb, strict=True):
        pose = perception.process(x).poses[0]
        changed = np.abs(x.astype(np.int16) - y).max(axis=2) > 30
        shoulders = pose.xy[[11, 12]]
        top = int(shoulders[:, 1].min())
        width = float(np.linalg.norm(shoulders[0] - shoulders[1]))
        below = changed[top : top + int(0.6 * width), int(shoulders[:, 0].min()) : int(shoulders[:, 0].max())]
        assert below.mean() > 0.5  # the chest is covered
        head = changed[: max(top - int(0.5 * width), 1)]
        assert head.mean() < 0.002  # the head is not (a few pixels of re-encoding noise aside)


def test_the_summary_says_what_was_found_and_warns_only_when_nothing_changed(
    photo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """A garment drawn on a person is reported as such (it used to say "no face found; the image
    is written unchanged" while it had drawn a garment); only an untouched image gets the warning."""
    out = tmp_path / "top.png"
    assert main(["apply", "-p", "mariner-breton-top", str(photo), "-o", str(out)]) == 0
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert "1 person(s)" in line, line
    assert "unchanged" not in caplog.text
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((240, 320, 3), 200, np.uint8))
    assert main(["apply", "-p", "mariner-breton-top", str(blank), "-o", str(tmp_path / "b.png")]) == 0
    assert "nothing the look is worn on was found (0 face(s), 0 person(s), 0 hand(s)); written unchanged" in (
        caplog.text
    )
