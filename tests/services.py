"""External services the tests start on loopback: each a context manager that writes a temp config,
starts the service on 127.0.0.1 and a free port, waits (bounded) until it answers, yields its
address, and stops it (terminate, then kill after a bounded wait).

A missing binary skips the test with an apt-get hint, unless ``TRYON_REQUIRE_SERVICES=1`` (then it
fails): see :func:`require_binary`. coturn, janus and postgresql (on a unix socket, no TCP) so far.
"""

from __future__ import annotations

import contextlib
import os
import random
import secrets
import shutil
import socket
import struct
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tryon.analytics.store.local_pg import LocalPostgres, local_postgres, postgres_bin
from webrtc.sfu.janus_local import LocalJanus, local_janus

REQUIRE_ENV = "TRYON_REQUIRE_SERVICES"
LOOPBACK = "127.0.0.1"


def require_binary(path: str, reason: str) -> Path:
    """``path`` if it is an executable; else skip with ``reason`` (fail under TRYON_REQUIRE_SERVICES=1)."""
    binary = Path(path)
    if binary.is_file() and os.access(binary, os.X_OK):
        return binary
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{reason} ({REQUIRE_ENV}=1)")
    pytest.skip(reason)


def free_port(udp: bool = True, tcp: bool = True) -> int:
    """A port on 127.0.0.1 free for UDP and/or TCP right now (another process may still take it)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM if udp else socket.SOCK_STREAM) as first:
            first.bind((LOOPBACK, 0))
            port: int = first.getsockname()[1]
            if not (udp and tcp):
                return port
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as second:
                try:
                    second.bind((LOOPBACK, port))
                except OSError:
                    continue
                return port
    raise RuntimeError("no free port on 127.0.0.1 after 50 tries")


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 5.0) -> None:
    """Terminate ``proc``; kill it if it has not exited within ``timeout`` seconds."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)


def log_tail(path: Path, chars: int = 2000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return "(no log)"


def wait_until(
    ready: Callable[[], bool], proc: subprocess.Popen[bytes], timeout: float, what: str, log: Path
) -> None:
    """Poll ``ready`` until true; raise if ``proc`` exits or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while not ready():
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode} before answering:\n{log_tail(log)}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not answer within {timeout:.0f} s:\n{log_tail(log)}")
        time.sleep(0.05)


def stun_binding_answers(host: str, port: int, timeout: float = 0.2) -> bool:
    """Whether a STUN server answers a Binding request on ``host:port`` (UDP, RFC 5389)."""
    transaction = secrets.token_bytes(12)
    request = struct.pack("!HHI", 0x0001, 0, 0x2112A442) + transaction
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.sendto(request, (host, port))
            data = sock.recv(2048)
        except OSError:  # timeout, or ICMP port unreachable before the server listens
            return False
    return len(data) >= 20 and data[0:2] == b"\x01\x01" and data[8:20] == transaction


@dataclass(frozen=True)
class Coturn:
    """A running coturn on loopback with the TURN REST API (``use-auth-secret``)."""

    host: str
    port: int
    secret: str
    realm: str
    relay_ports: tuple[int, int]
    log: Path

    @property
    def address(self) -> tuple[str, int]:
        return self.host, self.port


COTURN = "/usr/bin/turnserver"


@contextlib.contextmanager
def coturn(
    tmp_path: Path,
    *,
    secret: str | None = None,
    realm: str = "tryon.test",
    relay_range: int = 40,
    start_timeout: float = 15.0,
) -> Iterator[Coturn]:
    """Debian's coturn on 127.0.0.1 and a free port, relaying on 127.0.0.1, TURN REST auth with
    ``secret`` (random by default); no TLS/DTLS/TCP listeners, no CLI, loopback peers allowed."""
    binary = require_binary(COTURN, "coturn not installed (apt-get install coturn)")
    secret = secret or secrets.token_hex(24)
    port = free_port()
    low = random.randrange(40000, 60000 - relay_range)
    relay_ports = (low, low + relay_range - 1)
    folder = tmp_path / f"coturn-{port}"
    folder.mkdir(parents=True)
    log = folder / "turnserver.log"
    conf = folder / "turnserver.conf"
    conf.write_text(
        "\n".join(
            [
                f"listening-ip={LOOPBACK}",
                f"relay-ip={LOOPBACK}",
                f"listening-port={port}",
                f"min-port={relay_ports[0]}",
                f"max-port={relay_ports[1]}",
                "use-auth-secret",
                f"static-auth-secret={secret}",
                f"realm={realm}",
                "fingerprint",
                "no-tls",
                "no-dtls",
                "no-tcp",
                "no-tcp-relay",
                "no-cli",
                "no-rfc5780",
                "no-software-attribute",
                "no-stun-backward-compatibility",
                "no-multicast-peers",
                # coturn refuses loopback peers by default; the tests relay to 127.0.0.1.
                "allow-loopback-peers",
                f"userdb={folder / 'turndb'}",
                f"pidfile={folder / 'turnserver.pid'}",
                f"log-file={log}",
                "simple-log",
                "no-stdout-log",
                "",
            ]
        )
    )
    conf.chmod(0o600)
    with (folder / "stdout.txt").open("wb") as out:
        proc = subprocess.Popen(
            [str(binary), "-c", str(conf)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until(lambda: stun_binding_answers(LOOPBACK, port), proc, start_timeout, "coturn", log)
        yield Coturn(LOOPBACK, port, secret, realm, relay_ports, log)
    finally:
        stop_process(proc)


JANUS = "/usr/bin/janus"


@contextlib.contextmanager
def janus(tmp_path: Path, *, start_timeout: float = 15.0) -> Iterator[LocalJanus]:
    """Debian's janus on 127.0.0.1 and a free port (:func:`webrtc.sfu.janus_local.local_janus`):
    the HTTP API only, the VideoRoom plugin only, ICE on loopback only (a getifaddrs shim built with
    gcc), media on 100 ports drawn in 20000-59999. Yields a ``LocalJanus`` (``url``, ``process``,
    ``log``, ...)."""
    require_binary(JANUS, "janus not installed (apt-get install janus)")
    if shutil.which("gcc") is None:
        require_binary(
            "/usr/bin/gcc", "gcc not installed (apt-get install gcc), needed for janus's loopback shim"
        )
    port = free_port(udp=False)
    with local_janus(tmp_path / f"janus-{port}", port=port, start_timeout=start_timeout) as server:
        yield server


FFMPEG = "/usr/bin/ffmpeg"


@dataclass
class MediaReceiver:
    """Debian's ffmpeg listening for one RTMP or SRT stream and copying it to ``output`` (MPEG-TS,
    readable even when the receiver is killed)."""

    url: str
    """Where to push: ``rtmp://127.0.0.1:PORT/live/KEY`` or ``srt://127.0.0.1:PORT``."""
    port: int
    output: Path
    process: subprocess.Popen[bytes]
    log: Path

    def wait(self, timeout: float = 10.0) -> int:
        """Wait (bounded) for the receiver to end, as it does when the stream ends; else stop it."""
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            stop_process(self.process)
            return self.process.returncode

    def kill(self) -> None:
        """End the receiver abruptly, as a crashed or unreachable server would."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)


def _listening(port: int, udp: bool) -> bool:
    """Whether a socket on this machine is bound to ``port`` (TCP: listening), from /proc/net."""
    for table in ("udp", "udp6") if udp else ("tcp", "tcp6"):
        try:
            lines = Path(f"/proc/net/{table}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and (udp or fields[3] == "0A"):
                return True
    return False


@contextlib.contextmanager
def media_receiver(
    tmp_path: Path,
    *,
    protocol: str = "rtmp",
    port: int | None = None,
    passphrase: str | None = None,
    start_timeout: float = 10.0,
) -> Iterator[MediaReceiver]:
    """``ffmpeg -listen 1`` (RTMP) or an SRT listener on 127.0.0.1 and ``port`` (a free one by
    default; SRT: encrypted with ``passphrase`` if given), copying the stream it receives to an
    MPEG-TS file. Readiness is seen in /proc/net (connecting to probe it would take the receiver's
    one connection)."""
    binary = require_binary(FFMPEG, "ffmpeg not installed (apt-get install ffmpeg)")
    udp = protocol == "srt"
    port = port or free_port(udp=udp, tcp=not udp)
    folder = tmp_path / f"{protocol}-{port}-{secrets.token_hex(3)}"
    folder.mkdir(parents=True)
    output, log = folder / "received.ts", folder / "ffmpeg.log"
    if udp:
        url = f"srt://{LOOPBACK}:{port}"
        source = ["-i", f"{url}?mode=listener"]
        if passphrase:
            source = ["-passphrase", passphrase, *source]
    else:
        url = f"rtmp://{LOOPBACK}:{port}/live/{secrets.token_hex(8)}"
        source = ["-listen", "1", "-i", url]
    command = [str(binary), "-nostdin", "-loglevel", "error", *source, "-c", "copy", "-f", "mpegts", "-y"]
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [*command, str(output)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,
        )
    try:
        wait_until(lambda: _listening(port, udp), proc, start_timeout, f"ffmpeg {protocol} receiver", log)
        yield MediaReceiver(url, port, output, proc, log)
    finally:
        stop_process(proc)


@contextlib.contextmanager
def postgres(*, fsync: bool = True, start_timeout: float = 30.0) -> Iterator[LocalPostgres]:
    """Debian's PostgreSQL on a unix socket in a fresh temporary folder, no TCP
    (:func:`tryon.analytics.store.local_pg.local_postgres`: ``initdb`` with trust authentication,
    run as the ``postgres`` user when the tests run as root). Yields a ``LocalPostgres``
    (``url(db)``, ``create_database(name)``, ``stop()``/``start()`` for an outage, ``log``)."""
    if postgres_bin() is None:
        require_binary(
            "/usr/lib/postgresql/0/bin/postgres", "postgresql not installed (apt-get install postgresql)"
        )
    with local_postgres(fsync=fsync, start_timeout=start_timeout) as server:
        yield server
