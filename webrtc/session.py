"""One shopper's live session: a peer connection, its try-on track, its control channel, its timers.

Everything a session holds (peer connection, tracks, relay, worker thread, pipeline) is released
by :meth:`Session.close`, which runs once whatever ends the session: the page hanging up, the
connection failing, no ``connected`` state within the connect timeout, no camera frame within the
idle timeout (a browser that vanished), or the server shutting down.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

from aiortc import MediaStreamTrack, RTCDataChannel, RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaRelay
from aiortc.mediastreams import MediaStreamError

from tryon.errors import TryOnError
from tryon.look import opaque_unless_makeup, replaced_json, resolve_look
from tryon.pipeline import LookItem, check_intensity
from tryon.runtime.providers import choose_providers
from tryon.runtime.session import RuntimeConfig
from tryon.trace import Tracer
from webrtc.access_log import server_log
from webrtc.config import ServerConfig
from webrtc.control import (
    ControlError,
    LookRequest,
    PauseRequest,
    PingRequest,
    Request,
    SplitRequest,
    TraceRequest,
    parse_message,
    reply,
)
from webrtc.ice import filter_offer, use_policy
from webrtc.metrics import Metrics
from webrtc.show.state import TokenBucket
from webrtc.track import CountingTrack, FramePipeline, LiveProcessor, SessionCounters, TryOnTrack
from webrtc.turn import new_session_tag

logger = logging.getLogger(__name__)

CONTROL_LABEL = "control"
INBOX = 64
"""Control messages waiting to be applied, at most (a flood is refused, not buffered)."""
MAX_BUFFERED = 256 * 1024
"""Bytes queued on the control channel beyond which replies and stats are dropped (a peer that
does not read)."""


class NegotiationError(TryOnError):
    """aiortc could not apply the peer's offer, or answer it."""


class Session:
    def __init__(
        self,
        sid: str,
        config: ServerConfig,
        pipeline: FramePipeline,
        resolve: Callable[[str], LookItem],
        metrics: Metrics,
        on_closed: Callable[[Session], None],
    ) -> None:
        self.id = sid
        self.config = config
        self.metrics = metrics
        self.counters = SessionCounters()
        self.processor = LiveProcessor(pipeline, config.output_size)
        self.intensity = 1.0
        self.created_at = time.monotonic()
        self.connected_at: float | None = None
        self.close_reason: str | None = None
        self.closed = asyncio.Event()
        self.pc = RTCPeerConnection(config.rtc_configuration(new_session_tag()))
        self.channel: RTCDataChannel | None = None
        self.track: TryOnTrack | None = None
        self.on_output: Callable[[MediaStreamTrack], None] | None = None
        """Set before :meth:`accept` to receive a second subscription of the processed track (a
        show's host: the show publishes it)."""
        self.on_audio: Callable[[MediaStreamTrack], None] | None = None
        """Set before :meth:`accept` to receive the peer's microphone track (a show's host: the
        show passes it on); it must be consumed. Without it, audio is drained and dropped."""
        self.show_id: str | None = None
        """The show a viewer's "Try it on me" session belongs to (its analytics go to that show)."""
        self.pseudonym = secrets.token_hex(8)
        """This session in analytics: random, unrelated to its id (a capability in URLs)."""
        self.event_rate = TokenBucket(20.0, 60.0)
        self.on_look: Callable[[list[str]], None] | None = None
        """Called with the look's specs whenever it changes (first look, each change, ``[]`` at
        the end): the server's analytics turn that into try events."""
        self.ingest = False
        """Nothing is sent back to the peer (a WHIP publisher): the processed track goes only to
        :attr:`on_output`, and the offer's camera may be send-only."""
        self._resolve = resolve
        self._on_closed = on_closed
        self._executor = ThreadPoolExecutor(1, thread_name_prefix=f"tryon-{sid[:6]}")
        self._relay = MediaRelay()
        self._tasks: set[asyncio.Task[None]] = set()
        self._inbox: asyncio.Queue[str | bytes] = asyncio.Queue(INBOX)
        self._closing = False
        self._logged_failure = False
        self._runtime: dict[str, Any] | None = None

    # -- negotiation --------------------------------------------------------------------------

    async def accept(self, offer: RTCSessionDescription) -> RTCSessionDescription:
        """Apply the offer and return the answer; the caller closes the session if this raises."""
        pc = self.pc
        pc.on("track", self._on_track)
        pc.on("datachannel", self._on_datachannel)
        pc.on("connectionstatechange", self._on_state)
        policy = self.config.ice_policy
        sdp, report = filter_offer(offer.sdp, policy)
        if report.dropped:
            self.metrics.ice_candidates_dropped.inc(report.dropped)
            logger.info("session %s: %s", self.id[:6], report)
        try:
            # Gathering happens here: under the policy, the answer lists only allowed addresses.
            with use_policy(policy):
                await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
                if self.track is None:
                    raise NegotiationError("the offer has no camera track: expected a sendrecv video m-line")
                await pc.setLocalDescription(await pc.createAnswer())
        except TryOnError:
            raise
        except Exception as exc:
            # The SDP is the peer's: whatever aiortc cannot apply is the offer's fault (a 400).
            logger.info("session %s: offer not negotiated: %s: %s", self.id[:6], type(exc).__name__, exc)
            raise NegotiationError(f"{type(exc).__name__}: {exc}"[:300]) from None
        self._spawn(self._watch(), "watchdog")
        self._spawn(self._control(), "control")
        self._look_changed()
        answer: RTCSessionDescription = pc.localDescription
        return answer

    def _on_track(self, track: MediaStreamTrack) -> None:
        if track.kind == "audio" and self.on_audio is not None:
            on_audio, self.on_audio = self.on_audio, None  # the first microphone only
            on_audio(track)
            return
        if track.kind != "video" or self.track is not None:
            # Audio, or a second camera: consumed and discarded, so nothing piles up.
            self._spawn(_drain(track), "drain")
            return
        counting = CountingTrack(track, self.counters, self.metrics)
        newest = self._relay.subscribe(counting, buffered=False)
        self.track = TryOnTrack(newest, counting, self.processor, self._executor, self.counters, self.metrics)
        out: MediaStreamTrack = self.track
        if self.ingest:
            if self.on_output is not None:
                self.on_output(self.track)
            return
        if self.on_output is not None:
            # Processed once, sent twice: back to the host and into the show (each newest-frame).
            tee = MediaRelay()
            out = tee.subscribe(self.track, buffered=False)
            self.on_output(tee.subscribe(self.track, buffered=False))
        self.track.sender = self.pc.addTrack(out)

    async def _on_state(self) -> None:
        state = self.pc.connectionState
        logger.info("session %s: connection %s", self.id[:6], state)
        if state == "connected" and self.connected_at is None:
            self.connected_at = time.monotonic()
        elif state in ("failed", "closed"):
            await self.close(f"connection {state}")

    # -- control channel ----------------------------------------------------------------------

    def _on_datachannel(self, channel: RTCDataChannel) -> None:
        if channel.label != CONTROL_LABEL or self.channel is not None:
            channel.on("message", lambda _: self._send(reply("error", message="unexpected channel"), channel))
            return
        self.channel = channel
        channel.on("message", self.handle_message)
        self._send(reply("hello", session=self.id, look=self.look_specs(), intensity=self.intensity))

    def handle_message(self, raw: str | bytes) -> None:
        """Queue one control message; they are applied in order by :meth:`_control`."""
        try:
            self._inbox.put_nowait(raw)
        except asyncio.QueueFull:
            self.metrics.control_messages.labels("invalid", "error").inc()
            message = f"too many control messages waiting (at most {INBOX}); this one was dropped"
            self._send(reply("error", _message_id(raw), message=message))

    async def _control(self) -> None:
        while True:
            await self.handle(await self._inbox.get())

    async def handle(self, raw: str | bytes) -> None:
        """Apply one control message; a bad one is answered with an error and changes nothing.
        Never raises (but for cancellation): an unexpected failure is logged, counted and answered."""
        kind = "invalid"
        try:
            request = parse_message(raw, self.config.max_message_bytes, self.config.max_look)
            kind = type(request).__name__.removesuffix("Request").lower()
            self._send(await self.apply(request))
        except TryOnError as exc:
            self.metrics.control_messages.labels(kind, "error").inc()
            self._send(reply("error", getattr(exc, "id", None) or _message_id(raw), message=str(exc)))
            return
        except Exception:
            self.metrics.control_messages.labels(kind, "failed").inc()
            if not self._logged_failure:
                self._logged_failure = True
                logger.exception("session %s: control message failed", self.id[:6])
            message = "internal error; this message was not applied"
            self._send(reply("error", _message_id(raw), message=message))
            return
        self.metrics.control_messages.labels(kind, "ok").inc()

    async def apply(self, request: Request) -> str:
        """Apply a validated request; returns the acknowledgement to send."""
        p = self.processor
        if isinstance(request, LookRequest):
            intensity = self.intensity if request.intensity is None else check_intensity(request.intensity)
            items = []
            for spec, item_intensity in request.products:
                try:
                    item = self._resolve(spec)
                except TryOnError as exc:
                    raise ControlError(str(exc), request.id) from None
                # Only makeup takes an intensity: garments and accessories stay opaque.
                items.append(opaque_unless_makeup(replace(item, intensity=item_intensity * intensity)))
            # Two products worn in one place (a dress and a top, glasses and sunglasses): the later one.
            items, replaced = resolve_look(items)
            try:
                # On the session's worker, between frames: a product's first use reads its images.
                await asyncio.get_running_loop().run_in_executor(self._executor, p.pipeline.set_look, items)
            except TryOnError as exc:
                raise ControlError(str(exc), request.id) from None
            self.intensity = intensity
            self._look_changed()
            return reply(
                "ack",
                request.id,
                request="look",
                look=self.look_specs(),
                intensity=intensity,
                # Each item as drawn: garments and accessories at 1.0 whatever they were sent with.
                items=[{"product": i.spec, "intensity": i.intensity} for i in p.pipeline.look],
                replaced=replaced_json(replaced),
            )
        if isinstance(request, SplitRequest):
            p.split = None if request.position is None else (request.position, request.before)
            return reply("ack", request.id, request="split", position=request.position, before=request.before)
        if isinstance(request, PauseRequest):
            p.paused = request.paused
            return reply("ack", request.id, request="pause", paused=request.paused)
        if isinstance(request, TraceRequest):
            return self._start_trace(request)
        assert isinstance(request, PingRequest)
        return reply("pong", request.id, time=time.time())

    def _start_trace(self, request: TraceRequest) -> str:
        """Trace this session's frames for ``request.seconds`` into the server's trace folder;
        the ack names the file, a ``trace`` message says when it is written."""
        folder = self.config.trace_dir
        if folder is None:
            message = "trace: this server keeps no traces (start it with --trace-dir DIR)"
            raise ControlError(message, request.id)
        track = self.track
        if track is None or self.ingest:
            raise ControlError("trace: this session has no try-on video to trace", request.id)
        if track.tracer is not None:
            raise ControlError("trace: a trace is already being recorded", request.id)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        path = Path(folder) / f"{self.id[:6]}-{stamp}.json"
        n = 1
        while path.exists():
            n += 1
            path = Path(folder) / f"{self.id[:6]}-{stamp}-{n}.json"
        tracer = Tracer(f"tryon serve, session {self.id[:6]}")
        track.tracer = tracer
        self._spawn(self._finish_trace(tracer, path, request.seconds), "trace")
        return reply("ack", request.id, request="trace", seconds=request.seconds, file=path.name)

    async def _finish_trace(self, tracer: Tracer, path: Path, seconds: float) -> None:
        await asyncio.sleep(seconds)
        if self.track is not None and self.track.tracer is tracer:
            self.track.tracer = None
        await asyncio.sleep(0.2)  # the frame in the worker at the end lands in the trace
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(
                None, lambda: tracer.write(path, session=self.id[:6], seconds=seconds, decode="not measured")
            )
        except OSError as exc:
            logger.warning("session %s: trace not written: %s", self.id[:6], exc)
            self._send(reply("error", message=f"trace: not written ({exc.strerror or exc})"))
            return
        logger.info("session %s: %d frames traced into %s", self.id[:6], tracer.frames, path)
        self._send(json.dumps({"type": "trace", "file": path.name, "frames": tracer.frames}))

    def _look_changed(self, specs: list[str] | None = None) -> None:
        if self.on_look is not None:
            try:
                self.on_look(self.look_specs() if specs is None else specs)
            except Exception:  # analytics never break a session
                logger.exception("session %s: look analytics failed", self.id[:6])

    def send_promotion(self, promotion: dict[str, Any]) -> None:
        """A promotion for this shopper, on the control channel."""
        self._send(json.dumps({"type": "promotion", **promotion}))

    def look_specs(self) -> list[str]:
        return [item.spec for item in self.processor.pipeline.look]

    def _send(self, text: str, channel: RTCDataChannel | None = None) -> None:
        """Send on the control channel if it is open; never raises. A message the peer cannot take
        (over its advertised max-message-size) or that would pile up behind unread ones is dropped
        and counted: the peer cannot stop the session's timers by what it advertises or reads."""
        channel = channel or self.channel
        if channel is None or channel.readyState != "open":
            return
        if channel.bufferedAmount > MAX_BUFFERED:
            self.metrics.control_send_dropped.labels("backlog").inc()
            return
        try:
            channel.send(text)
        except Exception as exc:  # aiortc: ValueError past the peer's max-message-size, state errors
            self.metrics.control_send_dropped.labels(type(exc).__name__).inc()
            logger.debug("session %s: control message dropped: %s", self.id[:6], exc)

    # -- stats and watchdog -------------------------------------------------------------------

    def stats(self, fps_in: float = 0.0, fps_out: float = 0.0) -> dict[str, Any]:
        c = self.counters
        return {
            "type": "stats",
            "fps_in": round(fps_in, 1),
            "fps_out": round(fps_out, 1),
            "frames_in": c.frames_in,
            "frames_out": c.frames_out,
            "dropped": c.dropped,
            "failures": sum(c.failures.values()),
            "rejected": dict(self.processor.pipeline.stats.rejected),
            "latency_ms": round(c.latency_ms, 1),
            "stages": {k: round(v, 2) for k, v in self.processor.pipeline.stats.timings.items()},
            "look": self.look_specs(),
            "paused": self.processor.paused,
            "seen": self.seen(),
            **self.runtime(),
        }

    def runtime(self) -> dict[str, Any]:
        """``provider`` (the first ONNX Runtime provider the models run on) and ``threads`` (intra-op
        threads per model), for the developers' HUD; ``None`` for a pipeline without models."""
        if self._runtime is None:
            self._runtime = runtime_of(self.processor.pipeline)
        return self._runtime

    def seen(self) -> dict[str, int]:
        """What perception found on the last frame processed (faces, hands, bodies): the page hints
        "show your hand" or "step back" from it. A stage the look does not need finds nothing."""
        result = getattr(self.processor.pipeline, "last_result", None)
        if result is None:
            return {"faces": 0, "hands": 0, "bodies": 0}
        return {"faces": len(result.faces), "hands": len(result.hands), "bodies": len(result.poses)}

    async def _watch(self) -> None:
        interval = self.config.stats_interval
        tick = min(interval, 0.5)
        last_t, last_in, last_out = time.monotonic(), 0, 0
        while not self.closed.is_set():
            await asyncio.sleep(tick)
            now = time.monotonic()
            if self.connected_at is None:
                if now - self.created_at > self.config.connect_timeout:
                    await self.close(f"not connected within {self.config.connect_timeout:g} s")
                continue
            last_frame = self.counters.last_frame_at or self.connected_at
            if now - last_frame > self.config.idle_timeout:
                await self.close(f"no camera frame for {self.config.idle_timeout:g} s")
                continue
            if now - last_t >= interval:
                c = self.counters
                dt = now - last_t
                fps_in, fps_out = (c.frames_in - last_in) / dt, (c.frames_out - last_out) / dt
                last_t, last_in, last_out = now, c.frames_in, c.frames_out
                self._send(json.dumps(self.stats(fps_in, fps_out)))

    # -- teardown -----------------------------------------------------------------------------

    def _spawn(self, coro: Any, name: str) -> None:
        """Run ``coro`` under supervision: if it fails, the failure is logged once with the session
        id, counted, and the session is closed cleanly (its slot released)."""
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(lambda t: self._task_done(t, name))

    def _task_done(self, task: asyncio.Task[None], name: str) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is None:
            return
        self.metrics.task_failures.labels(name).inc()
        logger.error("session %s: %s task failed; closing the session", self.id[:6], name, exc_info=exc)
        if not self._closing:
            self._spawn(self.close(f"internal error in the {name} task"), "close")

    async def close(self, reason: str) -> None:
        """Release everything the session holds; safe to call more than once, from anywhere."""
        if self._closing:
            return
        self._closing = True
        self.close_reason = reason
        c = self.counters
        server_log.info(
            "session %s closed (%s) after %.1f s: %d frames in, %d out, %d dropped, %d failed",
            self.id[:6],
            reason,
            time.monotonic() - self.created_at,
            c.frames_in,
            c.frames_out,
            c.dropped,
            sum(c.failures.values()),
        )
        current = asyncio.current_task()
        for task in list(self._tasks):
            if task is not current:
                task.cancel()
        if self.track is not None:
            self.track.stop()
        self._look_changed([])
        with contextlib.suppress(Exception):
            await self.pc.close()
        self._executor.shutdown(wait=False, cancel_futures=True)
        self.closed.set()
        self._on_closed(self)


def runtime_of(pipeline: object) -> dict[str, Any]:
    """The provider and thread count a pipeline's models run with (``None`` each when it has no
    models: a pass-through pipeline)."""
    runtime = getattr(getattr(getattr(pipeline, "perception", None), "config", None), "runtime", None)
    if not isinstance(runtime, RuntimeConfig):
        return {"provider": None, "threads": None}
    return {"provider": choose_providers(runtime.providers)[0], "threads": runtime.thread_count()}


def _message_id(raw: str | bytes) -> Any:
    """The message's ``id`` when it has a usable one (a string or an integer), else ``None``."""
    with contextlib.suppress(Exception):
        msg = json.loads(raw)
        mid = msg.get("id") if isinstance(msg, dict) else None
        if isinstance(mid, str) or (isinstance(mid, int) and not isinstance(mid, bool)):
            return mid if isinstance(mid, int) or len(mid) <= 64 else None
    return None


async def _drain(track: MediaStreamTrack) -> None:
    with contextlib.suppress(MediaStreamError):
        while True:
            await track.recv()
