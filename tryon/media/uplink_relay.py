"""The network side of an :class:`~tryon.media.uplink.Uplink`, run as a child process.

Reads the destination URL (one line) and then an FLV stream of already encoded packets from stdin,
and remuxes them (no decoding) to the URL with PyAV: FLV over RTMP(S), MPEG-TS over SRT. It writes
``live`` to stdout once the first packet went out, and ``error <reason>`` before exiting on a
failure (the reason never contains the URL: it carries the platform's stream key).

A child process, not a thread, because FFmpeg's network calls through PyAV can hold the GIL
(connecting, the RTMP handshake, the trailer) and have no timeout: here they can only stall this
process, which the parent kills when its pipe stops draining.

Run by path (``python -P uplink_relay.py FORMAT``): it imports nothing of tryon, so it starts in the
time it takes to import PyAV.
"""

from __future__ import annotations

import sys
from typing import Any

import av

PROBE = {"probesize": "1000000", "analyzeduration": "1000000", "fpsprobesize": "0"}
"""Read until both streams' parameters are known (the first packets), at most 1 s of media."""


def _reason(exc: BaseException, url: str) -> str:
    strerror = getattr(exc, "strerror", None)
    text = str(strerror) if strerror else f"{type(exc).__name__}: {exc}"
    return text.replace(url, "<url>").replace("\n", " ")


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def relay(fmt: str) -> int:
    raw: Any = getattr(sys.stdin.buffer, "raw", sys.stdin.buffer)
    url = b""
    while not url.endswith(b"\n"):
        byte = raw.read(1)
        if not byte:
            return 0
        url += byte
    target = url.decode().strip()
    try:
        # The raw (unbuffered) reader: a buffered one would wait for a full buffer before probing.
        source = av.open(raw, "r", format="flv", options=PROBE)
        out = av.open(target, "w", format=fmt)
        streams = {s.index: out.add_stream_from_template(s) for s in source.streams}
        live = False
        try:
            for packet in source.demux():
                if packet.dts is None:
                    continue
                packet.stream = streams[packet.stream.index]
                out.mux(packet)
                if not live:
                    _say("live")
                    live = True
        finally:
            out.close()
    except (av.FFmpegError, OSError, ValueError) as exc:
        _say(f"error {_reason(exc, target)}")
        return 1
    return 0


if __name__ == "__main__":
    av.logging.set_level(av.logging.PANIC)
    sys.exit(relay(sys.argv[1]))
