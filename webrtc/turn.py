"""Short-lived TURN credentials: the TURN REST API scheme coturn implements with ``use-auth-secret``
and ``static-auth-secret``.

The server and coturn share one secret; neither the page nor the command line ever sees it. For each
page the server derives a credential valid until an expiry time:

    username   = "<unix expiry>:<tag>"
    credential = base64(HMAC-SHA1(secret, username))

coturn recomputes the HMAC and refuses the username once the expiry has passed. The tag is a random,
pseudonymous session tag (:func:`new_session_tag`): coturn logs usernames, so never a user name or an
address.

The secret comes from ``$TRYON_TURN_SECRET`` or a file (:func:`load_turn_secret`) and lives in a
:class:`TurnSecret`, whose ``repr``/``str`` hide it; no message or log line here includes it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import math
import os
import re
import secrets
import stat
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from aiortc import RTCIceServer

from tryon.errors import InputError

logger = logging.getLogger(__name__)

TURN_SECRET_ENV = "TRYON_TURN_SECRET"
MIN_SECRET_BYTES = 16
MAX_SECRET_BYTES = 4096
MIN_TTL_S = 60
MAX_TTL_S = 24 * 3600
DEFAULT_TTL_S = 3600
_TAG = re.compile(r"[A-Za-z0-9_-]{1,64}")


class TurnSecret:
    """The secret shared with the TURN server. ``repr``/``str`` never show it; :meth:`reveal` does."""

    __slots__ = ("_value", "source")

    def __init__(self, value: bytes, source: str = "the given secret") -> None:
        if not isinstance(value, bytes):
            raise InputError(f"TURN secret from {source}: expected bytes, got {type(value).__name__}")
        if not value:
            raise InputError(f"TURN secret from {source}: empty")
        if len(value) < MIN_SECRET_BYTES:
            raise InputError(
                f"TURN secret from {source}: expected at least {MIN_SECRET_BYTES} bytes, got fewer"
            )
        if len(value) > MAX_SECRET_BYTES:
            raise InputError(
                f"TURN secret from {source}: expected at most {MAX_SECRET_BYTES} bytes, got more"
            )
        self._value = value
        self.source = source
        """Where it came from (``$TRYON_TURN_SECRET`` or the file's path), for messages."""

    def reveal(self) -> bytes:
        return self._value

    def __repr__(self) -> str:
        return f"TurnSecret(<hidden>, source={self.source!r})"

    __str__ = __repr__

    def __copy__(self) -> TurnSecret:
        return self  # immutable

    def __deepcopy__(self, memo: dict[int, object]) -> TurnSecret:
        return self

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a TurnSecret is not pickled (it would carry the secret)")


def _read_secret_file(path: Path) -> TurnSecret:
    source = f"file {str(path)!r}"
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise InputError(f"TURN secret: {source} is not a regular file")
        if info.st_mode & stat.S_IROTH:
            logger.warning(
                "TURN secret: %s is readable by other users (mode %03o): chmod o-r it",
                source,
                stat.S_IMODE(info.st_mode),
            )
        with path.open("rb") as f:
            data = f.read(MAX_SECRET_BYTES + 1)
    except OSError as exc:
        raise InputError(f"TURN secret: cannot read {source}: {exc.strerror or type(exc).__name__}") from None
    # Surrounding blanks and the final newline of `echo secret > file` are not part of it.
    return TurnSecret(data.strip(), source)


def load_turn_secret(
    env: Mapping[str, str] | None = None, file: str | os.PathLike[str] | None = None
) -> TurnSecret | None:
    """The secret from ``file`` or from ``$TRYON_TURN_SECRET`` in ``env`` (default ``os.environ``).

    None when neither is given (no TURN server). Refused (InputError naming the source, never the
    secret): both given, an empty or blank secret, one shorter than 16 bytes, an unreadable file. A
    file other users may read is loaded with a warning.
    """
    environ = os.environ if env is None else env
    value = environ.get(TURN_SECRET_ENV)
    if file is not None and value is not None:
        raise InputError(
            f"TURN secret: both ${TURN_SECRET_ENV} and the file {str(file)!r} are given: expected one"
        )
    if file is not None:
        return _read_secret_file(Path(file))
    if value is not None:
        return TurnSecret(value.strip().encode("utf-8"), f"${TURN_SECRET_ENV}")
    return None


def new_session_tag() -> str:
    """A random pseudonymous tag for one page or session (16 characters of ``[A-Za-z0-9_-]``)."""
    return secrets.token_urlsafe(12)


def _check_ttl(ttl_s: int) -> None:
    if isinstance(ttl_s, bool) or not isinstance(ttl_s, int) or not MIN_TTL_S <= ttl_s <= MAX_TTL_S:
        raise InputError(
            f"TURN credential lifetime: expected whole seconds in {MIN_TTL_S}..{MAX_TTL_S}, got {ttl_s!r}"
        )


def turn_credentials(
    secret: bytes | TurnSecret, ttl_s: int, tag: str, now: float | None = None
) -> tuple[str, str, int]:
    """``(username, credential, expires_at)``: valid for ``ttl_s`` seconds (60 s..24 h) from ``now``
    (default: the current time); ``expires_at`` is a unix time in whole seconds.

    ``tag``: 1..64 characters of ``[A-Za-z0-9_-]`` (no ``:``, so no IPv6 address; no ``.``, so no
    IPv4 address or host name): use :func:`new_session_tag`, never a user name.
    """
    key = (secret if isinstance(secret, TurnSecret) else TurnSecret(secret)).reveal()
    _check_ttl(ttl_s)
    if not isinstance(tag, str) or not _TAG.fullmatch(tag):
        raise InputError(
            "TURN tag: expected 1..64 characters of A-Z a-z 0-9 _ - "
            "(a random session tag from new_session_tag(), never a user name or an address)"
        )
    if now is None:
        now = time.time()
    elif isinstance(now, bool) or not isinstance(now, int | float) or not math.isfinite(now) or now < 0:
        raise InputError(f"TURN credential time: expected a unix time, got {now!r}")
    expires_at = int(now) + ttl_s
    username = f"{expires_at}:{tag}"
    digest = hmac.new(key, username.encode("ascii"), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode("ascii"), expires_at


@dataclass(frozen=True)
class TurnServer:
    """A TURN server sharing ``secret`` (coturn: ``use-auth-secret``, ``static-auth-secret``).

    ``urls``: ``turn:`` or ``turns:`` URLs of that server (``turn:turn.example:3478?transport=udp``).
    """

    urls: tuple[str, ...]
    secret: TurnSecret = field(repr=False, compare=False)
    ttl_s: int = DEFAULT_TTL_S

    def __post_init__(self) -> None:
        if isinstance(self.urls, str) or not self.urls:
            raise InputError("TURN server: expected a tuple of turn: or turns: URLs, got none")
        object.__setattr__(self, "urls", tuple(self.urls))
        for url in self.urls:
            if not isinstance(url, str) or not url.startswith(("turn:", "turns:")) or len(url) < 7:
                raise InputError(f"TURN server: expected a turn: or turns: URL, got {url!r}")
        if not isinstance(self.secret, TurnSecret):
            raise InputError(f"TURN server: expected a TurnSecret, got {type(self.secret).__name__}")
        _check_ttl(self.ttl_s)

    def credentials(self, tag: str, now: float | None = None) -> tuple[str, str, int]:
        """``(username, credential, expires_at)`` for the session tagged ``tag``."""
        return turn_credentials(self.secret, self.ttl_s, tag, now)

    def ice_server_json(self, tag: str, now: float | None = None) -> dict[str, str | list[str]]:
        """The ``RTCIceServer`` dictionary for the page (``GET /api/config``)."""
        username, credential, _ = self.credentials(tag, now)
        return {
            "urls": list(self.urls),
            "username": username,
            "credential": credential,
            "credentialType": "password",
        }

    def rtc_ice_server(self, tag: str, now: float | None = None) -> RTCIceServer:
        """The same for the server's own aiortc peer connection."""
        username, credential, _ = self.credentials(tag, now)
        return RTCIceServer(urls=list(self.urls), username=username, credential=credential)
