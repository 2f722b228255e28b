"""A private PostgreSQL for tests and benchmarks: Debian's server on a unix socket only.

:func:`local_postgres` runs ``initdb`` into a fresh temporary folder (trust authentication, one
superuser ``tryon``), starts ``postgres`` listening on no TCP address and on a socket in that
folder only, and yields a :class:`LocalPostgres` once the server says it is ready; on exit it stops
the server and removes the folder. PostgreSQL refuses to run as root: run as root, the server runs
as the ``postgres`` user Debian's package creates (the folder is given to it).

``python -m tryon.analytics.store.local_pg`` prints a URL and runs until Ctrl-C.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

ROOT = Path("/usr/lib/postgresql")
USER = "tryon"
RUN_AS = "postgres"
PORT = 5432
"""Only names the socket file (``.s.PGSQL.5432``): no TCP port is opened."""


class PostgresError(RuntimeError):
    """The local server could not be set up or did not come up."""


def postgres_bin() -> Path | None:
    """The newest installed ``/usr/lib/postgresql/N/bin`` with ``postgres`` and ``initdb``."""
    found = []
    for folder in ROOT.glob("*/bin"):
        if all(os.access(folder / name, os.X_OK) for name in ("postgres", "initdb")):
            try:
                found.append((int(folder.parent.name), folder))
            except ValueError:
                continue
    return max(found)[1] if found else None


@dataclass
class LocalPostgres:
    """A server on ``socket_dir``; :meth:`stop` and :meth:`start` it to make an outage."""

    bin: Path
    folder: Path
    log: Path
    fsync: bool = True
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def socket_dir(self) -> Path:
        return self.folder

    def url(self, database: str = "postgres") -> str:
        """``postgresql://tryon@/DATABASE?host=SOCKET_DIR`` (for :class:`EventStore`)."""
        return f"postgresql://{USER}@/{database}?host={self.socket_dir}&port={PORT}"

    def create_database(self, name: str) -> str:
        """Create database ``name`` (``createdb``); its URL."""
        command = [str(self.bin / "createdb"), "-h", str(self.socket_dir), "-p", str(PORT), "-U", USER, name]
        done = subprocess.run(command, capture_output=True, check=False)
        if done.returncode != 0:
            raise PostgresError(f"createdb {name} failed: {done.stderr.decode(errors='replace')[-500:]}")
        return self.url(name)

    @staticmethod
    def _owner() -> tuple[int, int] | None:
        """The ``postgres`` user's (uid, gid) when running as root; None otherwise."""
        if os.geteuid() != 0:
            return None
        try:
            owner = pwd.getpwnam(RUN_AS)
        except KeyError as e:
            raise PostgresError(f"postgres refuses to run as root and there is no {RUN_AS!r} user") from e
        return owner.pw_uid, owner.pw_gid

    def _run(self, command: list[str], out: IO[bytes] | int) -> subprocess.Popen[bytes]:
        owner = self._owner()
        return subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd="/",
            user=owner[0] if owner else None,
            group=owner[1] if owner else None,
            extra_groups=[] if owner else None,
        )

    def initdb(self) -> None:
        self.data.mkdir(mode=0o700)
        owner = self._owner()
        if owner is not None:
            for path in (self.folder, self.data):
                os.chown(path, *owner)
        command = [str(self.bin / "initdb"), "-D", str(self.data), "-U", USER, "-A", "trust"]
        command += ["-E", "UTF8", "--locale=C", "--no-sync"]
        with self.log.open("ab") as out:
            code = self._run(command, out).wait(120)
        if code != 0:
            raise PostgresError(f"initdb failed ({code}):\n{self.tail()}")

    def start(self, timeout: float = 30.0) -> None:
        """Start the server; return once it accepts connections (``postmaster.pid`` says ready)."""
        if self.process is not None and self.process.poll() is None:
            return
        command = [str(self.bin / "postgres"), "-D", str(self.data), "-k", str(self.socket_dir), "-h", ""]
        command += ["-p", str(PORT), "-c", f"fsync={'on' if self.fsync else 'off'}"]
        command += ["-c", "max_connections=40", "-c", "shared_buffers=32MB"]
        with self.log.open("ab") as out:
            self.process = self._run(command, out)
        deadline = time.monotonic() + timeout
        while not self.ready():
            if self.process.poll() is not None:
                raise PostgresError(f"postgres exited with {self.process.returncode}:\n{self.tail()}")
            if time.monotonic() > deadline:
                self.stop()
                raise PostgresError(f"postgres not ready within {timeout:.0f} s:\n{self.tail()}")
            time.sleep(0.05)

    def ready(self) -> bool:
        try:
            lines = (self.data / "postmaster.pid").read_text().splitlines()
        except OSError:
            return False
        return (
            len(lines) >= 8
            and lines[7].strip() == "ready"
            and (self.socket_dir / f".s.PGSQL.{PORT}").exists()
        )

    def stop(self, timeout: float = 15.0, *, mode: signal.Signals = signal.SIGINT) -> None:
        """Stop the server (``SIGINT``: PostgreSQL's fast shutdown; ``SIGKILL``: a crash); killed
        if it has not exited within ``timeout`` seconds."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(mode)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)

    def tail(self, chars: int = 2000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no log)"


@contextlib.contextmanager
def local_postgres(*, fsync: bool = True, start_timeout: float = 30.0) -> Iterator[LocalPostgres]:
    """A fresh server in a temporary folder (outside any private folder, for the ``postgres``
    user), stopped and removed on exit. Raises :class:`PostgresError` when PostgreSQL is not
    installed (apt-get install postgresql) or does not come up."""
    binary = postgres_bin()
    if binary is None:
        raise PostgresError(f"PostgreSQL not found under {ROOT} (apt-get install postgresql)")
    folder = Path(tempfile.mkdtemp(prefix="tryon-pg-"))
    server = LocalPostgres(binary, folder, folder / "postgres.log", fsync)
    try:
        server.log.touch()
        server.initdb()
        server.start(start_timeout)
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def main() -> int:
    with local_postgres() as server:
        print(server.url(), flush=True)  # noqa: T201
        with contextlib.suppress(KeyboardInterrupt):
            signal.pause()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
