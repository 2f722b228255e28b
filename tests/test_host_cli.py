"""``tryon host`` on a video file standing in for a camera (the moving portrait with its frame
number drawn in, and a tone as its sound): the recording has the lipstick and the sound, a WHIP
publish feeds a show whose WHEP player sees the lipstick, the control API and the hot keys change
the look mid-run, Ctrl-C finalizes the file, and every refusal says what to do."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
import pytest_asyncio
from conftest import moving_frame
from live_helpers import LIPSTICK, Live, lip_mask, live_fixture
from numpy.typing import NDArray
from services import free_port
from show_helpers import HOST_KEY, ShowClient
from test_show_live import lip_shift

from tryon.cli.main import main
from tryon.errors import InputError
from tryon.host import LookControl
from webrtc.ice import IcePolicy
from webrtc.probe import ProbeViewer, draw_counter, read_counter
from webrtc.whip_client import negotiate

FPS = 15
CLIP_S = 2
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory, camera_scene: NDArray[np.uint8]) -> Path:
    """2 s at 15 fps of the moving portrait (frame numbers drawn top left) with a 440 Hz tone."""
    path = tmp_path_factory.mktemp("host") / "camera.mp4"
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=FPS, options={"crf": "12", "preset": "veryfast"})
        video.width, video.height, video.pix_fmt = 640, 480, "yuv420p"
        audio = out.add_stream("aac", rate=48000, layout="stereo")
        for i in range(FPS * CLIP_S):
            rgb = moving_frame(camera_scene, i).copy()
            draw_counter(rgb, i)
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, FPS)
            out.mux(video.encode(frame))
        for pos in range(0, 48000 * CLIP_S, 1024):
            wave = (0.3 * np.sin(2 * np.pi * 440 * (pos + np.arange(1024)) / 48000)).astype(np.float32)
            sound = av.AudioFrame.from_ndarray(np.stack([wave, wave]), format="fltp", layout="stereo")
            sound.sample_rate, sound.pts, sound.time_base = 48000, pos, Fraction(1, 48000)
            out.mux(audio.encode(sound))
        out.mux(video.encode(None))
        out.mux(audio.encode(None))
    return path


def decode(
    path: Path,
) -> tuple[list[tuple[float, int | None, NDArray[np.uint8]]], NDArray[np.float32], dict[str, str]]:
    """The recording's frames ``(t, frame number read back, rgb)``, its sound, and its codecs."""
    frames: list[tuple[float, int | None, NDArray[np.uint8]]] = []
    sound: list[NDArray[np.float32]] = []
    with av.open(str(path)) as f:
        codecs = {str(s.type): str(s.codec_context.name) for s in f.streams}
        for frame in f.decode(*f.streams):
            if isinstance(frame, av.VideoFrame):
                rgb = np.asarray(frame.to_ndarray(format="rgb24"), np.uint8)
                frames.append((float(frame.time), read_counter(rgb), rgb))
            else:
                sound.append(np.asarray(frame.to_ndarray()[0], np.float32))
    return frames, np.concatenate(sound) if sound else np.zeros(0, np.float32), codecs


def lips(
    frames: list[tuple[float, int | None, NDArray[np.uint8]]], scene: NDArray[np.uint8]
) -> NDArray[np.float64]:
    """Mean colour change on the lips, camera frame → recorded frame, over the given frames."""
    shifts = []
    for _, n, got in frames:
        assert n is not None, "frame number unreadable"
        sent = moving_frame(scene, n)
        mask = lip_mask(sent)
        shifts.append(got[mask].astype(np.float32).mean(0) - sent[mask].astype(np.float32).mean(0))
    return np.asarray(np.mean(shifts, axis=0), np.float64)


def wearing_lipstick(shift: NDArray[np.float64]) -> bool:
    return bool(shift[1] < -20)  # ruby red: the lips' green falls


def test_host_records_the_try_on_with_the_sound(
    clip: Path, tmp_path: Path, camera_scene: NDArray[np.uint8], capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.mp4"
    argv = [
        "host",
        "--input",
        str(clip),
        "--loop",
        "--product",
        LIPSTICK,
        "--record",
        str(out),
        "--duration",
        "3",
    ]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "stopped by duration" in err
    assert "record out.mp4" in err
    frames, sound, codecs = decode(out)
    assert codecs == {"video": "h264", "audio": "aac"}
    assert 20 <= len(frames) <= 45, len(frames)  # 3 s at 15 fps; a busy try-on drops some
    assert frames[-1][0] > 2.5
    # The frames' times are the file's own, plus 2 s after the loop: the number read back says so.
    assert all(n == round(t * FPS) % (FPS * CLIP_S) for t, n, _ in frames), [(t, n) for t, n, _ in frames][:5]
    assert wearing_lipstick(lips(frames[-12::4], camera_scene))
    assert len(sound) / 48000 == pytest.approx(3, abs=0.15)
    assert np.abs(sound).max() > 0.2  # the tone (0.3), not silence


def test_the_control_api_changes_the_look_mid_run(
    clip: Path, tmp_path: Path, camera_scene: NDArray[np.uint8], monkeypatch: pytest.MonkeyPatch
) -> None:
    out, port = tmp_path / "out.mkv", free_port(udp=False)
    monkeypatch.setenv("TRYON_TEST_CONTROL", "control-token-123")
    argv = ["host", "--input", str(clip), "--loop", "--record", str(out), "--duration", "6"]
    argv += ["--control", f"127.0.0.1:{port}", "--control-token-env", "TRYON_TEST_CONTROL"]
    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(main(argv)))
    thread.start()
    base, auth = f"http://127.0.0.1:{port}", {"Authorization": "Bearer control-token-123"}
    try:
        wait_for(lambda: call(base, "GET", "/stats", headers=auth)[1].get("frames_out", 0) >= 10)
        assert call(base, "GET", "/look")[0] == 401
        assert call(base, "GET", "/look", headers={"Authorization": "Bearer nope"})[0] == 401
        assert call(base, "GET", "/look", headers={**auth, "Host": "evil.example"})[0] == 403
        assert call(base, "GET", "/look", headers=auth)[1]["products"] == []
        put = {**auth, "Content-Type": "application/json"}
        assert call(base, "PUT", "/look", b'{"products": ["velvet-matte-lipstick:ruby-red"]}', auth)[0] == 415
        status, body = call(base, "PUT", "/look", b'{"products": ["no-such-product"]}', put)
        assert status == 400
        assert "no-such-product" in body["error"]
        status, body = call(base, "PUT", "/look", json.dumps({"products": [LIPSTICK]}).encode(), put)
        assert (status, body["products"]) == (200, [LIPSTICK])
        changed_at = call(base, "GET", "/stats", headers=auth)[1]["frames_out"]
        wait_for(lambda: call(base, "GET", "/stats", headers=auth)[1]["frames_out"] >= changed_at + 15)
        assert call(base, "POST", "/stop", b"{}", put)[0] == 200
    finally:
        thread.join(30)
    assert result == [0]
    frames, _, codecs = decode(out)
    assert codecs["video"] == "h264"
    assert not wearing_lipstick(lips(frames[:6:2], camera_scene)), "lipstick before it was asked for"
    assert wearing_lipstick(lips(frames[-6::2], camera_scene)), "no lipstick after PUT /look"


def test_hot_keys_switch_between_the_look_files_entries(tmp_path: Path) -> None:
    worn: list[tuple[str, ...]] = []
    quit = threading.Event()

    def set_look(look: Any) -> None:
        if "bad" in look:
            raise InputError("unknown product 'bad'")
        worn.append(tuple(look))

    looks = tmp_path / "looks.json"
    looks.write_text(json.dumps([LIPSTICK, ["a", "b"], {"name": "party", "products": ["bad"]}]))
    from tryon.host import load_looks

    control = LookControl(set_look, load_looks(looks), quit.set)
    for key in "2", "1", "0", "n", "n", "p", "9", "3", "x":
        control.key(ord(key))
    assert worn == [("a", "b"), (LIPSTICK,), (), (LIPSTICK,), ("a", "b"), (LIPSTICK,)]
    assert control.entry == 1  # 9 (no such entry) and 3 (a bad product) changed nothing
    assert not quit.is_set()
    control.key(ord("q"))
    assert quit.is_set()


def test_host_goes_live_over_rtmp_without_showing_the_key(
    clip: Path,
    tmp_path: Path,
    camera_scene: NDArray[np.uint8],
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    import services

    media_receiver = getattr(services, "media_receiver", None)
    if media_receiver is None:
        pytest.skip("tests/services.py has no media_receiver (ffmpeg -listen 1)")
    caplog.set_level(logging.DEBUG)
    with media_receiver(tmp_path) as rx:
        argv = ["host", "--input", str(clip), "--product", LIPSTICK, "--rtmp", rx.url, "--duration", "2"]
        assert main(argv) == 0
        rx.wait(10)
    key = rx.url.rsplit("/", 1)[1]
    err = capsys.readouterr().err
    assert "rtmp://127.0.0.1" in err
    assert key not in err
    assert key not in caplog.text
    frames, sound, codecs = decode(rx.output)
    assert codecs == {"video": "h264", "audio": "aac"}
    assert len(frames) >= 20
    assert wearing_lipstick(lips(frames[-8::4], camera_scene))
    assert np.abs(sound).max() > 0.2


def test_host_goes_live_over_srt_without_showing_the_secrets(
    clip: Path,
    tmp_path: Path,
    camera_scene: NDArray[np.uint8],
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    from services import media_receiver

    from tryon.media.uplink import pyav_has_srt
    from tryon.media.uplink_ffmpeg import ffmpeg_has_srt

    if not (pyav_has_srt() or ffmpeg_has_srt()):
        pytest.skip("neither PyAV's FFmpeg nor /usr/bin/ffmpeg has SRT")
    caplog.set_level(logging.DEBUG)
    passphrase = "Sesame-" + "7" * 12
    with media_receiver(tmp_path, protocol="srt", passphrase=passphrase) as rx:
        url = f"{rx.url}?passphrase={passphrase}&streamid=SECRETKEY&latency=120000"
        argv = ["host", "--input", str(clip), "--product", LIPSTICK, "--srt", url, "--duration", "2"]
        assert main(argv) == 0
        rx.wait(10)
    err = capsys.readouterr().err
    assert "srt://127.0.0.1" in err
    for secret in (passphrase, "SECRETKEY"):
        assert secret not in err
        assert secret not in caplog.text
    frames, sound, codecs = decode(rx.output)
    assert codecs == {"video": "h264", "audio": "aac"}
    assert len(frames) >= 20
    assert wearing_lipstick(lips(frames[-8::4], camera_scene))
    assert np.abs(sound).max() > 0.2


live = pytest_asyncio.fixture(live_fixture(host_key=HOST_KEY, relay_viewers=2))


@pytest.mark.asyncio
@pytest.mark.slow
async def test_host_publishes_through_whip_into_a_show(
    clip: Path, live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = ShowClient(live.http, live.url)
    show = await api.create("From the host CLI")
    monkeypatch.setenv("TRYON_TEST_WHIP_KEY", show["key"])
    port = free_port(udp=False)
    argv = ["host", "--input", str(clip), "--loop", "--product", LIPSTICK, "--duration", "30"]
    argv += [
        "--whip",
        f"{live.url}whip",
        "--whip-token-env",
        "TRYON_TEST_WHIP_KEY",
        "--control",
        f"127.0.0.1:{port}",
    ]
    host = asyncio.ensure_future(asyncio.to_thread(main, argv))
    player = ProbeViewer(live.url, "", keep=lambda n: n % 5 == 0)
    try:
        deadline = time.monotonic() + 20
        while not (await api.call("GET", f"/api/shows/{show['id']}"))[1]["live"]:
            assert not host.done(), host.result()
            assert time.monotonic() < deadline, "the host never made the show live"
            await asyncio.sleep(0.1)
        player.pc.addTransceiver("video", direction="recvonly")
        player.pc.addTransceiver("audio", direction="recvonly")
        await negotiate(live.http, f"{live.url}whep/{show['id']}", player.pc, policy=IcePolicy("loopback"))
        deadline = time.monotonic() + 30
        while len(player.images) < 4 or player.audio_peak < 1000:
            assert time.monotonic() < deadline, (len(player.images), player.audio_frames, player.audio_peak)
            await asyncio.sleep(0.1)
        change = lip_shift(player, live)
        assert change[1] < -20, f"lipstick not visible through WHIP → WHEP: {change}"
        async with live.http.post(f"http://127.0.0.1:{port}/stop", json={}) as r:
            assert r.status == 200
        assert await asyncio.wait_for(host, 20) == 0
        await live.wait_sessions(0)  # the host's DELETE ended its WHIP session
    finally:
        await player.close()
        if not host.done():
            await asyncio.to_thread(urllib_stop, port)
            await asyncio.wait_for(host, 20)


@pytest.mark.slow
def test_ctrl_c_ends_the_run_with_a_finished_file(clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "live.mp4"
    command = [sys.executable, "-m", "tryon", "-v", "host", "--input", str(clip), "--loop"]
    command += ["--product", LIPSTICK, "--record", str(out)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    lines = []
    for line in proc.stderr:
        lines.append(line)
        if "host: file camera.mp4" in line:
            break
    else:
        pytest.fail("".join(lines))
    time.sleep(2.5)
    proc.send_signal(signal.SIGINT)
    _, rest = proc.communicate(timeout=30)
    assert proc.returncode == 0, "".join(lines) + rest
    assert "stopped by SIGINT" in rest
    frames, sound, codecs = decode(out)
    assert codecs == {"video": "h264", "audio": "aac"}
    assert len(frames) >= 20
    assert len(sound) > 48000


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--input", "{clip}"], "no output: give at least one of --preview, --record FILE"),
        (["--camera", "7", "--record", "x.mp4"], "no camera 7 (found: "),
        (["--input", "{clip}", "--virtual-camera"], "modprobe v4l2loopback"),
        (["--input", "{clip}", "--virtual-camera"], "pip install pyvirtualcam"),
        (["--input", "{clip}", "--preview"], "--preview: no display here"),
        (
            ["--input", "{clip}", "--whip", "http://127.0.0.1:9/whip", "--whip-token-env", "NO_SUCH_VAR_X"],
            "NO_SUCH_VAR_X",
        ),
        (["--input", "{clip}", "--record", "x.mp4", "--control", "0.0.0.0:8090"], "loopback only"),
        (["--input", "{clip}", "--whip", "http://127.0.0.1:9/whip"], "whip http://127.0.0.1:9/whip: "),
        (["--input", "{clip}", "--record", "x.webm"], "expected .mp4, .m4v, .mov, .mkv"),
        (["--input", "{clip}", "--rtmp", "rtmp://example.com/live"], "got no app or key"),
        (["--input", "{clip}", "--record", "x.mp4", "--product", "no-such-product"], "no-such-product"),
    ],
)
def test_refusals_say_what_to_do(
    argv: list[str],
    message: str,
    clip: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    if "--virtual-camera" in argv and _virtual_camera_available():
        pytest.skip("this machine has pyvirtualcam and a v4l2loopback device")
    if "--camera" in argv and Path("/dev/video7").exists():
        pytest.skip("this machine has a /dev/video7")
    assert main(["host", *(a.format(clip=clip) for a in argv)]) == 2
    err = capsys.readouterr().err
    assert message in err, err
    assert not list(tmp_path.iterdir()), "a refused run left a file behind"


def _virtual_camera_available() -> bool:
    from tryon.host.outputs import loopback_devices

    try:
        import pyvirtualcam  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        return False
    return bool(loopback_devices())


# -- helpers -------------------------------------------------------------------------------------


def call(
    base: str, method: str, path: str, data: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(base + path, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def urllib_stop(port: int) -> None:
    call(f"http://127.0.0.1:{port}", "POST", "/stop", b"{}", {"Content-Type": "application/json"})


def wait_for(test: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if test():
                return
        except (urllib.error.URLError, ConnectionError):
            pass  # not listening yet
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_microphone_through_ffmpeg_delivers_timed_sound() -> None:
    from tryon.errors import MediaError
    from tryon.media.capture import Microphone

    mic = Microphone("lavfi:sine=frequency=440")  # a generator standing in for a sound card
    got: list[tuple[int, float]] = []
    stop = threading.Event()
    mic.start(time.monotonic(), lambda frame, t: got.append((frame.samples, t)), stop)
    time.sleep(0.5)
    stop.set()
    mic.stop()
    assert 0.3 < sum(n for n, _ in got) / 48000 < 0.8  # paced in real time
    assert [t for _, t in got] == sorted(t for _, t in got)
    with pytest.raises(MediaError, match="no microphone"):
        Microphone("alsa:no-such-device-x")
