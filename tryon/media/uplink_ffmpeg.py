"""SRT out through Debian's ffmpeg, for an :class:`~tryon.media.uplink.Uplink` whose PyAV has no libsrt.

The child is ``/usr/bin/ffmpeg -f flv -i pipe:0 -c copy -f mpegts srt://host:port?...``: the same
pipe as :mod:`tryon.media.uplink_relay` (already encoded FLV in, remuxed without decoding), so the
stall watchdog, the reconnect with backoff and the counters of the uplink work the same. It reports
``live`` through ``-progress`` (the first bytes out) and its failure through stderr, which is read
here and cleaned of the URL and its secrets before it becomes the uplink's ``last_error``.

Secrets and ``ps``: a child's command line is visible to every user of the machine. The SRT
``passphrase`` and ``streamid`` (the platform's stream key) are taken out of the URL and handed to
ffmpeg through ``-fpre /dev/fd/N``: an options file read from a pipe that only this process and
the child hold (ffmpeg's preset file sets protocol options for the output as ``key=value`` lines).
The command line shows ``srt://host:port`` and the non-secret options only. The secrets are never
logged; stderr lines are scrubbed of them too.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import os
import re
import subprocess
import threading
import urllib.parse
from pathlib import Path
from typing import IO

from tryon.errors import InputError

FFMPEG = Path("/usr/bin/ffmpeg")
SECRET_OPTIONS = ("passphrase", "streamid")
"""SRT URL options kept off the child's command line."""
_PRESET_LINE_MAX = 900
"""ffmpeg reads preset lines into a 1000-byte buffer."""
PROBE = ["-probesize", "1000000", "-analyzeduration", "1000000", "-fpsprobesize", "0"]
"""As the PyAV relay: read until both streams' parameters are known, at most 1 s of media."""


@functools.lru_cache(maxsize=1)
def ffmpeg_has_srt() -> bool:
    """Whether ``/usr/bin/ffmpeg`` exists and lists the ``srt`` protocol."""
    if not (FFMPEG.is_file() and os.access(FFMPEG, os.X_OK)):
        return False
    try:
        listing = subprocess.run(
            [str(FFMPEG), "-hide_banner", "-protocols"], capture_output=True, text=True, timeout=10
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return "srt" in listing.split()


def split_srt_secrets(url: str) -> tuple[str, dict[str, str]]:
    """``(url without the secret options, {option: decoded value})`` for an ``srt://`` URL.

    Values are percent-decoded as ffmpeg's libsrt decodes them (``+`` stays a plus). A value that
    an options file cannot carry (a line break, too long) is an :class:`InputError` that names the
    option, never the value."""
    parts = urllib.parse.urlsplit(url)
    kept: list[str] = []
    secrets: dict[str, str] = {}
    for pair in parts.query.split("&") if parts.query else []:
        key, _, value = pair.partition("=")
        if key not in SECRET_OPTIONS:
            kept.append(pair)
            continue
        decoded = urllib.parse.unquote(value)
        if "\n" in decoded or "\r" in decoded or len(decoded) > _PRESET_LINE_MAX:
            raise InputError(
                f"uplink URL srt://{parts.hostname or '?'}: {key} must be one line of at most "
                f"{_PRESET_LINE_MAX} characters"
            )
        if decoded:
            secrets[key] = decoded
    bare = urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, "&".join(kept), ""))
    return bare, secrets


_SRT_LOG_PREFIX = re.compile(r"^\d\d:\d\d:\d\d\.\d+/SRT:\S+\s+")
_CONTEXT_PREFIX = re.compile(r"^\[[\w -]+ @ 0x[0-9a-f]+\]\s*")
_ANY_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+", re.IGNORECASE)


class FfmpegRelay:
    """``/usr/bin/ffmpeg`` sending the FLV written to :attr:`proc`'s stdin to an ``srt://`` URL.

    Sets ``live`` once bytes went out; :meth:`reason` says why it failed (scrubbed)."""

    def __init__(self, url: str, live: threading.Event) -> None:
        bare, secrets = split_srt_secrets(url)
        self._scrub = [v for v in (url, bare, *secrets.values()) if v]
        self._where = _where(url)
        self._said: collections.deque[str] = collections.deque(maxlen=3)
        self._live = live
        preset_fd: int | None = None
        preset: list[str] = []
        if secrets:
            preset_fd, write_fd = os.pipe()
            text = "".join(f"{k}={v}\n" for k, v in secrets.items()).encode()
            try:
                os.write(write_fd, text)  # a few hundred bytes at most: within the pipe's buffer
            finally:
                os.close(write_fd)
            preset = ["-fpre", f"/dev/fd/{preset_fd}"]
        command = [
            str(FFMPEG), "-hide_banner", "-nostdin", "-nostats", "-loglevel", "error",
            "-progress", "pipe:1", "-stats_period", "0.1",
            *PROBE, "-f", "flv", "-i", "pipe:0",
            "-map", "0", "-c", "copy", "-flush_packets", "1", *preset, "-f", "mpegts", bare,
        ]  # fmt: skip
        try:
            self.proc = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
                pass_fds=(preset_fd,) if preset_fd is not None else (),
            )
        finally:
            if preset_fd is not None:
                os.close(preset_fd)
        assert self.proc.stdout is not None
        assert self.proc.stderr is not None
        self.reader = threading.Thread(target=self._read_progress, args=(self.proc.stdout,), daemon=True)
        self._errors = threading.Thread(target=self._read_errors, args=(self.proc.stderr,), daemon=True)
        self.reader.start()
        self._errors.start()

    def _read_progress(self, stdout: IO[bytes]) -> None:
        for raw in stdout:
            key, _, value = raw.decode(errors="replace").strip().partition("=")
            if key == "total_size" and value.isdigit() and int(value) > 0:
                self._live.set()

    def _read_errors(self, stderr: IO[bytes]) -> None:
        for raw in stderr:
            line = self.clean(raw.decode(errors="replace"))
            if line and line not in self._said:
                self._said.append(line)

    def clean(self, line: str) -> str:
        """``line`` of ffmpeg's stderr without the URL, its secrets, timestamps and addresses."""
        for secret in sorted(self._scrub, key=len, reverse=True):
            line = line.replace(secret, "<url>" if "://" in secret else "***")
        line = _ANY_URL.sub(lambda m: self._where if m.group(0).startswith("srt://") else "<url>", line)
        line = _CONTEXT_PREFIX.sub("", _SRT_LOG_PREFIX.sub("", line.strip()))
        return line.replace("<url>", self._where)

    def reason(self) -> str | None:
        """Why ffmpeg failed, from its last words on stderr (``None`` if it said nothing)."""
        self._errors.join(0.5)
        return "ffmpeg: " + "; ".join(self._said) if self._said else None


def _where(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    port = None
    with contextlib.suppress(ValueError):
        port = parts.port
    return f"{parts.scheme}://{parts.hostname or '?'}" + (f":{port}" if port else "")
