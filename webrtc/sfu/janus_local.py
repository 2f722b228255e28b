"""A local Janus on loopback for development, tests and benchmarks (``make janus``).

:func:`local_janus` writes a configuration into a folder (a temporary one by default), starts
Debian's ``janus`` on it and yields a :class:`LocalJanus` once ``GET /janus/info`` answers; on exit
it terminates Janus (and kills it after a bounded wait). The configuration:

- the HTTP transport only, on 127.0.0.1 and a given or free port; no admin API, no other transport,
  no event handler, no external logger; every plugin but the VideoRoom disabled, no demo rooms;
- media on a fixed ``rtp_port_range``; ICE on loopback only. Janus never gathers candidates on an
  interface flagged ``IFF_LOOPBACK``, so a tiny ``LD_PRELOAD`` library (built here with gcc) clears
  that flag in what ``getifaddrs()`` returns; with ``ice_enforce_list = "lo"`` and
  ``interface = "127.0.0.1"`` Janus then offers 127.0.0.1 host candidates only (see
  ``/work/shared/notes/webrtc-on-loopback.md``).

``python -m webrtc.sfu.janus_local [--port N]`` prints the URL and runs until Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import logging
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from webrtc.sfu.base import SfuError

logger = logging.getLogger(__name__)

JANUS = "/usr/bin/janus"
CONFIGS = Path("/etc/janus")
LIBDIR = Path("/usr/lib/x86_64-linux-gnu/janus")
LOOPBACK = "127.0.0.1"
VIDEOROOM = "libjanus_videoroom.so"
HTTP_TRANSPORT = "libjanus_http.so"

SHIM_SOURCE = r"""
/* Janus skips interfaces flagged IFF_LOOPBACK when gathering ICE candidates: clear the flag. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stddef.h>

int getifaddrs(struct ifaddrs **ifap) {
    static int (*real)(struct ifaddrs **) = NULL;
    if (real == NULL)
        real = (int (*)(struct ifaddrs **))dlsym(RTLD_NEXT, "getifaddrs");
    if (real == NULL)
        return -1;
    int rc = real(ifap);
    if (rc == 0)
        for (struct ifaddrs *i = *ifap; i != NULL; i = i->ifa_next)
            i->ifa_flags &= ~IFF_LOOPBACK;
    return rc;
}
"""


@dataclass(frozen=True)
class LocalJanus:
    """A running local Janus: its HTTP API URL (``http://127.0.0.1:<port>/janus``) and process."""

    url: str
    port: int
    rtp_ports: tuple[int, int]
    folder: Path
    log: Path
    process: subprocess.Popen[bytes]

    @property
    def info_url(self) -> str:
        return f"{self.url}/info"


def free_tcp_port() -> int:
    """A TCP port on 127.0.0.1 free right now (another process may still take it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def build_shim(folder: Path, compiler: str = "gcc") -> Path:
    """Compile the getifaddrs shim into ``folder`` (named by the source's hash; reused if there)."""
    digest = hashlib.sha256(SHIM_SOURCE.encode()).hexdigest()[:16]
    library = folder / f"loopback-shim-{digest}.so"
    if library.is_file():
        return library
    cc = shutil.which(compiler)
    if cc is None:
        raise SfuError(f"janus: {compiler} is needed to build the loopback shim (apt-get install gcc)")
    source = folder / f"loopback-shim-{digest}.c"
    source.write_text(SHIM_SOURCE)
    partial = library.with_suffix(f".{os.getpid()}.tmp")
    cmd = [cc, "-shared", "-fPIC", "-O2", "-o", str(partial), str(source), "-ldl"]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    except subprocess.TimeoutExpired:
        raise SfuError("janus: building the loopback shim took over 60 s") from None
    if done.returncode != 0:
        raise SfuError(f"janus: building the loopback shim failed:\n{done.stderr[-2000:]}")
    partial.replace(library)
    return library


def _modules(kind: str, keep: Sequence[str] = ()) -> str:
    """The comma-separated ``disable`` list: every module of ``kind`` in Janus's folder but ``keep``."""
    folder = LIBDIR / kind
    names = sorted(p.name for p in folder.glob("*.so")) if folder.is_dir() else []
    return ",".join(n for n in names if n not in keep)


def _quote(value: str) -> str:
    return json.dumps(value)  # a libconfig string: double quotes, backslash escapes


def write_config(folder: Path, port: int, rtp_ports: tuple[int, int], debug_level: int = 4) -> Path:
    """Write Janus's configuration into ``folder``; returns the path of ``janus.jcfg``."""
    folder.mkdir(parents=True, exist_ok=True)
    for source in sorted(CONFIGS.glob("*.jcfg")):
        shutil.copyfile(source, folder / source.name)
    main = f"""general: {{
	configs_folder = {_quote(str(folder))}
	plugins_folder = {_quote(str(LIBDIR / "plugins"))}
	transports_folder = {_quote(str(LIBDIR / "transports"))}
	events_folder = {_quote(str(LIBDIR / "events"))}
	loggers_folder = {_quote(str(LIBDIR / "loggers"))}
	debug_level = {int(debug_level)}
	debug_timestamps = true
	debug_colors = false
	interface = "{LOOPBACK}"
	server_name = "tryon-local-janus"
	session_timeout = 60
	hide_dependencies = true
}}
certificates: {{
}}
media: {{
	ipv6 = false
	rtp_port_range = "{rtp_ports[0]}-{rtp_ports[1]}"
}}
nat: {{
	nice_debug = false
	full_trickle = false
	ice_lite = false
	ice_tcp = false
	ignore_mdns = true
	ice_enforce_list = "lo"
}}
plugins: {{
	disable = {_quote(_modules("plugins", keep=(VIDEOROOM,)))}
}}
transports: {{
	disable = {_quote(_modules("transports", keep=(HTTP_TRANSPORT,)))}
}}
loggers: {{
	disable = {_quote(_modules("loggers"))}
}}
events: {{
	broadcast = false
	disable = {_quote(_modules("events"))}
}}
"""
    http = f"""general: {{
	json = "plain"
	base_path = "/janus"
	http = true
	port = {int(port)}
	ip = "{LOOPBACK}"
	https = false
}}
admin: {{
	admin_http = false
	admin_https = false
}}
cors: {{
}}
"""
    videoroom = "general: {\n}\n"  # no demo rooms, no admin key: rooms are created over the API
    (folder / "janus.transport.http.jcfg").write_text(http)
    (folder / "janus.plugin.videoroom.jcfg").write_text(videoroom)
    path = folder / "janus.jcfg"
    path.write_text(main)
    return path


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=0.5) as reply:
            body = json.loads(reply.read())
    except (OSError, ValueError):
        return False
    return isinstance(body, dict) and body.get("janus") == "server_info"


def _log_tail(path: Path, chars: int = 2000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return "(no log)"


def stop(process: subprocess.Popen[bytes], timeout: float = 5.0) -> None:
    """Terminate ``process``; kill it if it has not exited within ``timeout`` seconds."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)


@contextlib.contextmanager
def local_janus(
    folder: Path | None = None,
    *,
    port: int | None = None,
    rtp_ports: tuple[int, int] | None = None,
    binary: str = JANUS,
    start_timeout: float = 15.0,
    debug_level: int = 4,
) -> Iterator[LocalJanus]:
    """Start Janus on 127.0.0.1 (``port``: a free one by default) with its config in ``folder`` (a
    temporary folder by default, removed afterwards); yields once its HTTP API answers. ``rtp_ports``:
    the media port range (100 ports at random in 20000-59999 by default). Raises :class:`SfuError`
    when Janus is missing, exits, or does not answer within ``start_timeout`` seconds."""
    if not (Path(binary).is_file() and os.access(binary, os.X_OK)):
        raise SfuError(f"janus: {binary} not found (apt-get install janus)")
    with contextlib.ExitStack() as stack:
        if folder is None:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tryon-janus-")))
        folder.mkdir(parents=True, exist_ok=True)
        port = port or free_tcp_port()
        if rtp_ports is None:
            low = random.randrange(20000, 59900, 100)
            rtp_ports = (low, low + 99)
        config = write_config(folder, port, rtp_ports, debug_level)
        shim = build_shim(folder)
        env = dict(os.environ)
        env["LD_PRELOAD"] = " ".join(p for p in (str(shim), env.get("LD_PRELOAD", "")) if p)
        log = folder / "janus.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [binary, "-C", str(config), "-F", str(folder)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        stack.callback(stop, process)
        url = f"http://{LOOPBACK}:{port}/janus"
        deadline = time.monotonic() + start_timeout
        while not _answers(f"{url}/info"):
            if process.poll() is not None:
                raise SfuError(f"janus exited with {process.returncode} before answering:\n{_log_tail(log)}")
            if time.monotonic() > deadline:
                raise SfuError(f"janus did not answer within {start_timeout:.0f} s:\n{_log_tail(log)}")
            time.sleep(0.05)
        logger.info("janus %d at %s (media ports %d-%d)", process.pid, url, *rtp_ports)
        yield LocalJanus(url, port, rtp_ports, folder, log, process)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m webrtc.sfu.janus_local",
        description="Run a local Janus (VideoRoom over HTTP) on 127.0.0.1 until Ctrl-C.",
    )
    parser.add_argument("--port", type=int, default=8088, help="HTTP API port (default 8088; 0: a free one)")
    parser.add_argument("--rtp-ports", default="20000-20099", help="media port range (default 20000-20099)")
    parser.add_argument("--folder", type=Path, help="config and log folder (default: a temporary one)")
    parser.add_argument("--debug-level", type=int, default=4, help="Janus log level 0-7 (default 4)")
    args = parser.parse_args(argv)
    try:
        low, high = (int(x) for x in args.rtp_ports.split("-"))
    except ValueError:
        parser.error(f"--rtp-ports: expected LOW-HIGH, got {args.rtp_ports!r}")
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    stopping = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_signal)
    try:
        with local_janus(
            args.folder, port=args.port or None, rtp_ports=(low, high), debug_level=args.debug_level
        ) as janus:
            sys.stdout.write(f"{janus.url}\n(log: {janus.log}; Ctrl-C stops)\n")
            sys.stdout.flush()
            while not stopping and janus.process.poll() is None:
                time.sleep(0.5)
            if janus.process.poll() is not None:
                sys.stderr.write(f"janus exited with {janus.process.returncode}:\n{_log_tail(janus.log)}\n")
                return 1
    except KeyboardInterrupt:
        pass
    except SfuError as exc:
        sys.stderr.write(f"{exc}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
