"""The RTMP/SRT uplink (tryon.media.uplink) and its aiortc adapter (webrtc.egress), pushed to Debian's
ffmpeg listening on loopback (tests/services.py) and decoded back: the received video is H.264 at
the size with the frame counter in order and the lipstick visible, the audio AAC and audible; the
uplink survives its receiver dying, a flood of frames, and a server that stops answering."""

from __future__ import annotations

import asyncio
import fractions
import socket
import statistics
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError
from conftest import moving_frame
from live_helpers import LIPSTICK, lip_mask
from numpy.typing import NDArray
from services import LOOPBACK, MediaReceiver, media_receiver

from tryon.errors import InputError, MediaError
from tryon.media.uplink import Backoff, Uplink, UplinkStats, pyav_has_srt, redact
from tryon.media.uplink_ffmpeg import ffmpeg_has_srt
from webrtc.egress import TrackUplink
from webrtc.probe import SyntheticCamera, draw_counter, read_counter

SIZE = (640, 480)
FPS = 30
RATE = 48000
TONE_HZ = 440.0
FAST = Backoff(initial_s=0.2, max_s=0.5)


@dataclass
class Received:
    codec: str
    size: tuple[int, int]
    frames: list[NDArray[np.uint8]]
    audio_codec: str | None
    audio: NDArray[np.float32]  # mono, float


def decode(path: Path) -> Received:
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        audio_stream = container.streams.audio[0] if container.streams.audio else None
        frames: list[NDArray[np.uint8]] = []
        chunks: list[NDArray[np.float32]] = []
        streams = [video] + ([audio_stream] if audio_stream is not None else [])
        for packet in container.demux(*streams):
            for frame in packet.decode():
                if isinstance(frame, av.VideoFrame):
                    frames.append(np.asarray(frame.to_ndarray(format="rgb24"), np.uint8))
                elif isinstance(frame, av.AudioFrame):
                    chunks.append(frame.to_ndarray().astype(np.float32).reshape(-1, frame.samples).mean(0))
        return Received(
            video.codec_context.name,
            (video.codec_context.width, video.codec_context.height),
            frames,
            audio_stream.codec_context.name if audio_stream is not None else None,
            np.concatenate(chunks) if chunks else np.zeros(0, np.float32),
        )


def counters(received: Received) -> list[int]:
    return [n for n in (read_counter(f) for f in received.frames) if n is not None]


def tone(start: int, n: int) -> NDArray[np.float32]:
    t = (start + np.arange(n)) / RATE
    mono = (0.3 * np.sin(2 * np.pi * TONE_HZ * t)).astype(np.float32)
    return np.stack([mono, mono])


def dominant_hz(samples: NDArray[np.float32]) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / RATE)[int(np.argmax(spectrum))])


class Pusher:
    """Pushes frame ``i`` = ``make(i)`` with its counter at ``FPS`` from a thread, recording how
    long each push took; audio as a tone when ``audio``."""

    def __init__(self, uplink: Uplink, make: Callable[[int], NDArray[np.uint8]], audio: bool = False) -> None:
        self.uplink, self.make, self.audio = uplink, make, audio
        self.index = 0
        self.push_s: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.frames = [make(i) for i in range(FPS)]  # made ahead: pushing must not wait on drawing

    def _run(self) -> None:
        start = time.monotonic()
        while not self._stop.is_set():
            i = self.index
            rgb = self.frames[i % len(self.frames)].copy()
            draw_counter(rgb, i)
            t = i / FPS
            began = time.perf_counter()
            self.uplink.push_video(rgb, t)
            if self.audio:
                self.uplink.push_audio(tone(i * RATE // FPS, RATE // FPS), t)
            self.push_s.append(time.perf_counter() - began)
            self.index += 1
            delay = start + self.index / FPS - time.monotonic()
            if delay > 0:
                self._stop.wait(delay)

    def __enter__(self) -> Pusher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)


def assert_never_blocked(push_s: list[float]) -> None:
    """Pushes return at once: a push that waited for the encoder or the network would take a
    frame's encoding time (tens of ms) or seconds. The worst case is loose: the test machine may be
    shared and busy (a thread can be descheduled for a while)."""
    assert statistics.median(push_s) < 0.005, f"median push {statistics.median(push_s) * 1000:.1f} ms"
    assert max(push_s) < 0.25, f"a push took {max(push_s) * 1000:.0f} ms"


def wait_for(check: Callable[[], bool], timeout: float, what: str, stats: Callable[[], UplinkStats]) -> float:
    began = time.monotonic()
    while not check():
        assert time.monotonic() - began < timeout, f"{what} within {timeout} s: {stats()}"
        time.sleep(0.02)
    return time.monotonic() - began


@pytest.fixture(scope="module")
def painted_scene(camera_scene: NDArray[np.uint8], store: object) -> NDArray[np.uint8]:
    """The camera scene with the real pipeline's ruby-red lipstick on it."""
    from tryon import PipelineConfig, TryOnPipeline

    pipeline = TryOnPipeline(products=[LIPSTICK], config=PipelineConfig(static_image_mode=True))
    return pipeline.process(camera_scene.copy())


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[MediaReceiver]:
    with media_receiver(tmp_path) as r:
        yield r


# -- URLs and settings ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://example.com/live/SECRETKEY", "got http://"),
        ("example.com/live/SECRETKEY", "got no scheme"),
        ("rtmp:///live/SECRETKEY", "without a host"),
        ("rtmp://example.com", "no app or key"),
        ("rtmp://example.com:99999/live/SECRETKEY", "expected a port 1-65535"),
        ("srt://example.com?streamid=SECRETKEY", "got no port"),
    ],
)
def test_bad_urls_say_what_is_expected_and_never_show_the_key(url: str, says: str) -> None:
    with pytest.raises(InputError) as error:
        Uplink(url, size=SIZE)
    message = str(error.value)
    assert says in message
    assert "rtmp://host[:port]/app/" in message or "expected" in message
    assert "SECRETKEY" not in message


def test_bad_settings_and_frames_are_input_errors() -> None:
    with pytest.raises(InputError, match="even positive"):
        Uplink("rtmp://h/live/k", size=(641, 480))
    with pytest.raises(InputError, match="fps"):
        Uplink("rtmp://h/live/k", size=SIZE, fps=0)
    with pytest.raises(InputError, match="audio_rate"):
        Uplink("rtmp://h/live/k", size=SIZE, audio_rate=12345)
    uplink = Uplink("rtmp://h/live/k", size=SIZE)  # not started: nothing connects
    with pytest.raises(InputError, match="RGB uint8"):
        uplink.push_video(np.zeros((480, 640), np.uint8), 0.0)
    with pytest.raises(InputError, match="channels"):
        uplink.push_audio(np.zeros((6, 100), np.float32), 0.0)


def test_logs_name_the_scheme_and_host_only() -> None:
    assert redact("rtmps://user:pw@live.example.com:443/app/KEY?token=T") == "rtmps://live.example.com:443"
    assert redact("srt://10.0.0.1:9000?streamid=KEY&passphrase=P") == "srt://10.0.0.1:9000"
    delays = [FAST.delay(n) for n in range(6)]
    assert 0.15 < delays[0] < 0.25
    assert all(d <= 0.5 * 1.2 for d in delays)
    assert Backoff().delay(20) <= 12.0


# -- RTMP out --------------------------------------------------------------------------------------


def test_rtmp_out_carries_the_lipstick_the_counter_and_the_audio(
    receiver: MediaReceiver, painted_scene: NDArray[np.uint8], camera_scene: NDArray[np.uint8]
) -> None:
    uplink = Uplink(receiver.url, size=SIZE, fps=FPS).start()
    with Pusher(uplink, lambda i: moving_frame(painted_scene, i), audio=True) as pusher:
        wait_for(lambda: uplink.state == "live", 10, "live", lambda: uplink.stats)
        time.sleep(3.0)
    uplink.close()
    stats = uplink.stats
    assert receiver.wait() == 0, receiver.log.read_text()
    got = decode(receiver.output)

    assert (got.codec, got.size) == ("h264", SIZE)
    seen = counters(got)
    assert len(seen) >= 0.95 * len(got.frames), "frame counters must read back from the video"
    assert seen == sorted(set(seen)), "frames in order, none twice"
    assert len(seen) >= 0.9 * pusher.index, f"{len(seen)} of {pusher.index} frames arrived"
    assert stats.frames_sent >= 0.9 * pusher.index
    assert (stats.state, stats.reconnects, stats.last_error) == ("closed", 0, None)
    assert_never_blocked(pusher.push_s)

    # The lipstick is there: the lips of the plain camera frame, reddened and darkened.
    for n in (seen[len(seen) // 2], seen[-1]):
        frame = got.frames[[read_counter(f) for f in got.frames].index(n)]
        plain = moving_frame(camera_scene, n % len(pusher.frames))  # what was sent as frame n
        lips = lip_mask(plain)
        change = frame[lips].astype(np.float32).mean(0) - plain[lips].astype(np.float32).mean(0)
        assert change[1] < -20, f"frame {n}: lipstick not visible: lip colour change {change}"
        assert change[0] - change[1] > 20, f"frame {n}: lipstick not red: lip colour change {change}"

    assert got.audio_codec == "aac"
    steady = got.audio[RATE // 2 : -RATE // 2]
    assert len(steady) > RATE, f"only {len(got.audio) / RATE:.2f} s of audio"
    assert float(np.sqrt(np.mean(steady**2))) > 0.1, "the tone must be audible"
    assert abs(dominant_hz(steady) - TONE_HZ) < 5


def test_the_uplink_reconnects_after_its_receiver_dies(
    tmp_path: Path, receiver: MediaReceiver, camera_scene: NDArray[np.uint8]
) -> None:
    uplink = Uplink(receiver.url, size=SIZE, fps=FPS, reconnect=FAST).start()
    states: list[str] = []
    with Pusher(uplink, lambda i: moving_frame(camera_scene, i)) as pusher:
        wait_for(lambda: uplink.state == "live", 10, "live", lambda: uplink.stats)
        time.sleep(1.0)
        receiver.kill()
        killed_at = pusher.index
        wait_for(
            lambda: uplink.state == "retrying", 5, "retrying after the receiver died", lambda: uplink.stats
        )
        states.append(uplink.state)
        time.sleep(1.0)  # down for a while: frames are dropped and counted
        with media_receiver(tmp_path, port=receiver.port) as second:
            back = wait_for(lambda: uplink.state == "live", 10, "live again", lambda: uplink.stats)
            states.append(uplink.state)
            time.sleep(1.5)
            uplink.close()
            assert second.wait() == 0, second.log.read_text()
            got = decode(second.output)
    stats = uplink.stats
    assert states == ["retrying", "live"]
    assert stats.reconnects >= 1
    assert stats.dropped_seconds > 0.5, stats
    assert stats.frames_dropped > 0
    assert stats.last_error, "the failure is reported"
    assert receiver.url.rsplit("/", 1)[1] not in stats.last_error
    seen = counters(got)
    assert got.frames, "frames flow again"
    assert read_counter(got.frames[0]) is not None, "the new stream starts with a keyframe"
    assert len(seen) >= 30, "frames flow again"
    assert min(seen) > killed_at, "the new stream starts after the break"
    assert seen == sorted(set(seen))
    assert got.audio_codec == "aac", "silence fills the audio track when the source has none"
    assert_never_blocked(pusher.push_s)
    assert back < 5


def test_a_flood_of_frames_never_blocks_and_is_counted(
    receiver: MediaReceiver, camera_scene: NDArray[np.uint8]
) -> None:
    uplink = Uplink(receiver.url, size=(1280, 720), fps=FPS, queue_s=0.5).start()
    frames = [np.asarray(cv2.resize(moving_frame(camera_scene, i), (1280, 720)), np.uint8) for i in range(8)]
    push_s = []
    pushed = 300
    for i in range(pushed):  # as fast as the caller can: 10 s of video in well under a second
        began = time.perf_counter()
        uplink.push_video(frames[i % len(frames)], i / FPS)
        push_s.append(time.perf_counter() - began)
    flooded = uplink.stats
    uplink.close()
    stats = uplink.stats
    assert_never_blocked(push_s)
    assert flooded.frames_dropped >= pushed - 2 * 0.5 * FPS - flooded.frames_sent
    assert stats.frames_sent + stats.frames_dropped == pushed
    assert stats.dropped_seconds == pytest.approx(stats.frames_dropped / FPS)
    assert receiver.wait() == 0


def test_a_server_that_stops_answering_is_left_and_retried(camera_scene: NDArray[np.uint8]) -> None:
    """A TCP server that accepts and never answers the RTMP handshake: the relay stalls, the uplink
    notices, kills it, and retries; pushing never waits for any of it."""
    with socket.socket() as server:
        server.bind((LOOPBACK, 0))
        server.listen(8)
        url = f"rtmp://{LOOPBACK}:{server.getsockname()[1]}/live/key"
        uplink = Uplink(url, size=SIZE, fps=FPS, reconnect=FAST, stall_timeout_s=1.0).start()
        with Pusher(uplink, lambda i: moving_frame(camera_scene, i)) as pusher:
            wait_for(
                lambda: "stalled" in (uplink.stats.last_error or ""), 10, "a stall", lambda: uplink.stats
            )
        uplink.close()
    stats = uplink.stats
    assert stats.frames_dropped > 0
    assert stats.reconnects == 0
    assert_never_blocked(pusher.push_s)


# -- SRT out ---------------------------------------------------------------------------------------


def srt_or_skip() -> None:
    """Skip unless PyAV's FFmpeg or Debian's ffmpeg has SRT; without either, srt:// is refused."""
    if pyav_has_srt() or ffmpeg_has_srt():
        return
    with pytest.raises(MediaError, match="libsrt"):
        Uplink("srt://127.0.0.1:9000", size=SIZE)
    pytest.skip("neither PyAV's FFmpeg nor /usr/bin/ffmpeg has SRT: srt:// is refused with a MediaError")


def child_command_lines(port: int) -> list[str]:
    """The command lines of this machine's processes that name ``port`` (what ``ps`` shows anyone)."""
    lines = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if f":{port}" in text:
            lines.append(text)
    return lines


def test_srt_out_carries_the_counter_and_the_audio(tmp_path: Path, camera_scene: NDArray[np.uint8]) -> None:
    srt_or_skip()
    with media_receiver(tmp_path, protocol="srt") as receiver:
        uplink = Uplink(f"{receiver.url}?latency=120000", size=SIZE, fps=FPS).start()
        with Pusher(uplink, lambda i: moving_frame(camera_scene, i), audio=True) as pusher:
            wait_for(lambda: uplink.state == "live", 10, "live", lambda: uplink.stats)
            time.sleep(2.5)
        uplink.close()
        assert receiver.wait() == 0, receiver.log.read_text()
        got = decode(receiver.output)
    stats = uplink.stats
    assert (got.codec, got.size, got.audio_codec) == ("h264", SIZE, "aac")
    seen = counters(got)
    assert len(seen) >= 0.95 * len(got.frames), "frame counters must read back from the video"
    assert seen == sorted(set(seen)), "frames in order, none twice"
    assert len(seen) >= 0.9 * pusher.index, f"{len(seen)} of {pusher.index} frames arrived"
    assert (stats.state, stats.reconnects, stats.last_error) == ("closed", 0, None)
    steady = got.audio[RATE // 2 : -RATE // 2]
    assert float(np.sqrt(np.mean(steady**2))) > 0.1, "the tone must be audible"
    assert abs(dominant_hz(steady) - TONE_HZ) < 5
    assert_never_blocked(pusher.push_s)


def test_srt_secrets_stay_off_the_command_line_and_out_of_errors(
    tmp_path: Path, camera_scene: NDArray[np.uint8]
) -> None:
    """The passphrase and the streamid (the stream key) reach the receiver (an encrypted listener
    accepts the stream) but never the child's command line, which every user can read; a wrong
    passphrase is retried with a reason that shows neither."""
    srt_or_skip()
    if pyav_has_srt():
        pytest.skip("PyAV's FFmpeg has SRT: no ffmpeg child to check")
    passphrase, stream_id = "Sesame-" + "9" * 12, "#!::r=live/SECRETKEY,m=publish"
    query = f"passphrase={passphrase}&streamid={urllib.parse.quote(stream_id, safe='')}&latency=120000"
    with media_receiver(tmp_path, protocol="srt", passphrase=passphrase) as receiver:
        uplink = Uplink(f"{receiver.url}?{query}", size=SIZE, fps=FPS).start()
        with Pusher(uplink, lambda i: moving_frame(camera_scene, i), audio=True):
            wait_for(lambda: uplink.state == "live", 10, "live", lambda: uplink.stats)
            shown = [line for line in child_command_lines(receiver.port) if "pipe:0" in line]
            time.sleep(1.0)
        uplink.close()
        assert receiver.wait() == 0, receiver.log.read_text()
        got = decode(receiver.output)
    assert len(shown) == 1, shown
    assert "srt://127.0.0.1" in shown[0]
    assert "latency=120000" in shown[0]
    assert passphrase not in shown[0]
    assert "SECRETKEY" not in shown[0]
    assert "SECRETKEY" not in urllib.parse.unquote(shown[0])
    assert len(counters(got)) >= 30, "the encrypted stream was received and decoded"

    with media_receiver(tmp_path, protocol="srt", passphrase=passphrase) as receiver:
        wrong = f"{receiver.url}?passphrase=Wrong-{'8' * 12}&streamid=SECRETKEY"
        uplink = Uplink(wrong, size=SIZE, fps=FPS, reconnect=FAST).start()
        with Pusher(uplink, lambda i: moving_frame(camera_scene, i)):
            wait_for(lambda: uplink.stats.last_error is not None, 15, "a failure", lambda: uplink.stats)
            time.sleep(0.5)  # retrying: frames are dropped and counted
        uplink.close()
    stats = uplink.stats
    assert stats.reconnects == 0
    assert stats.frames_dropped > 0
    error = stats.last_error or ""
    assert "Wrong-" not in error
    assert "SECRETKEY" not in error
    assert error.startswith("ffmpeg: "), error
    assert "passphrase" in error.lower(), f"the receiver's reason is passed on: {error}"


def test_srt_out_reconnects_after_its_receiver_dies(tmp_path: Path, camera_scene: NDArray[np.uint8]) -> None:
    """SRT notices a dead peer after its idle timeout (5 s by default); then the same backoff and
    counters as RTMP."""
    srt_or_skip()
    with media_receiver(tmp_path, protocol="srt") as first:
        uplink = Uplink(first.url, size=SIZE, fps=FPS, reconnect=FAST).start()
        with Pusher(uplink, lambda i: moving_frame(camera_scene, i)) as pusher:
            wait_for(lambda: uplink.state == "live", 10, "live", lambda: uplink.stats)
            first.kill()
            killed_at = pusher.index
            wait_for(lambda: uplink.state == "retrying", 10, "retrying", lambda: uplink.stats)
            with media_receiver(tmp_path, protocol="srt", port=first.port) as second:
                wait_for(lambda: uplink.state == "live", 10, "live again", lambda: uplink.stats)
                time.sleep(1.5)
                uplink.close()
                second.wait()
                got = decode(second.output)
    stats = uplink.stats
    assert stats.reconnects >= 1
    assert stats.frames_dropped > 0
    assert (stats.last_error or "").startswith("ffmpeg: "), stats
    seen = counters(got)
    assert len(seen) >= 30, "frames flow again"
    assert min(seen) > killed_at, "the new stream starts after the break"
    assert seen == sorted(set(seen))
    assert_never_blocked(pusher.push_s)


# -- aiortc tracks in ------------------------------------------------------------------------------


class ToneTrack(MediaStreamTrack):
    """20 ms of a 440 Hz tone per frame, s16 stereo at 48 kHz (what aiortc's Opus decoder gives)."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self.n = 0
        self.start: float | None = None

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        self.start = self.start or time.monotonic()
        due = self.start + self.n * 960 / RATE
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        samples = (tone(self.n * 960, 960)[0] * 32767).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(
            np.stack([samples, samples]).T.reshape(1, -1), format="s16", layout="stereo"
        )
        frame.sample_rate, frame.pts, frame.time_base = RATE, self.n * 960, fractions.Fraction(1, RATE)
        self.n += 1
        return frame


@pytest.mark.asyncio
async def test_track_uplink_sends_aiortc_tracks(
    receiver: MediaReceiver, camera_scene: NDArray[np.uint8]
) -> None:
    uplink = Uplink(receiver.url, size=SIZE, fps=FPS).start()
    camera, microphone = SyntheticCamera(lambda i: moving_frame(camera_scene, i)), ToneTrack()
    feed = TrackUplink(uplink, camera, microphone).start()
    loop_lag = 0.0
    began = time.monotonic()
    while time.monotonic() - began < 3.0:
        tick = time.monotonic()
        await asyncio.sleep(0.01)
        loop_lag = max(loop_lag, time.monotonic() - tick - 0.01)
    camera.stop()
    microphone.stop()
    await asyncio.wait_for(feed.wait(), 5)
    assert not feed.running
    await asyncio.to_thread(uplink.close)
    assert await asyncio.to_thread(receiver.wait) == 0
    got = decode(receiver.output)
    seen = counters(got)
    assert (got.codec, got.size, got.audio_codec) == ("h264", SIZE, "aac")
    assert len(seen) >= 60, seen
    assert seen == sorted(set(seen)), seen
    steady = got.audio[RATE // 2 : -RATE // 2]
    assert float(np.sqrt(np.mean(steady**2))) > 0.1, "the microphone's tone must be audible"
    assert abs(dominant_hz(steady) - TONE_HZ) < 5
    assert loop_lag < 0.05, f"the event loop stalled {loop_lag * 1000:.0f} ms"
